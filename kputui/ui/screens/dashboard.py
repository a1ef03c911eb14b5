"""The main screen: one tab per dashboard, each a grid of KPI panes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.binding import Binding
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Header, Static, TabbedContent, TabPane

from kputui.ui.widgets.kpi_grid import KpiGrid
from kputui.ui.widgets.kpi_pane import KpiPane
from kputui.ui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from textual.app import ComposeResult

    from kputui.board import Board
    from kputui.config import Config
    from kputui.kpi.state import KpiState

__all__ = ["DashboardScreen"]

MOVES = {"left": (-1, 0), "right": (1, 0), "up": (0, -1), "down": (0, 1)}


class DashboardScreen(Screen[None]):
    """The config's dashboards as tabs of KPI panes, kept current by the app."""

    BINDINGS = [
        Binding("left,h", "move('left')", "Left", show=False),
        Binding("right,l", "move('right')", "Right", show=False),
        Binding("up,k", "move('up')", "Up", show=False),
        Binding("down,j", "move('down')", "Down", show=False),
        Binding("tab", "next_dashboard", "Next dashboard", show=False, priority=True),
        Binding("shift+tab", "next_dashboard(-1)", "Previous dashboard", show=False, priority=True),
        *(Binding(str(n), f"show_dashboard({n - 1})", f"Dashboard {n}", show=False) for n in range(1, 10)),
    ]

    def __init__(self, config: Config, role: str) -> None:
        super().__init__()
        self.config = config
        self.role = role
        self.want_focus: str | None = None
        """A KPI to focus once the grid on show is ready (after a switch or a rebuild)."""

    def compose(self) -> ComposeResult:
        yield Header()
        with TabbedContent(id="dashboards"):
            for index, dashboard in enumerate(self.config.dashboards):
                label = Content(f"{index + 1} {dashboard.name}" if index < 9 else dashboard.name)
                with TabPane(label, id=f"dashboard-{index}"):
                    with KpiGrid(max_columns=dashboard.columns):
                        for kpi_id in dashboard.kpis:
                            spec = self.config.kpi(kpi_id)
                            yield KpiPane(kpi_id, spec.name, spec.format, state=self.app.board.states.get(kpi_id))
        yield StatusBar(self.role)
        yield Footer()
        yield Static("The terminal is too small for kputui: make it at least 40x12.", id="too-small")

    def on_mount(self) -> None:
        board = self.app.board
        self.show_states(board.states)
        self.show_health(board, self.app.store.warnings)
        self._focus_first()

    @property
    def grid(self) -> KpiGrid:
        """The grid of the dashboard on show."""
        tabs = self.query_one(TabbedContent)
        return tabs.get_pane(tabs.active).query_one(KpiGrid)

    def _focus_first(self) -> None:
        """Focus the pane asked for by `focus_kpi`, else the first of the grid on show."""
        panes = self.grid.panes
        wanted = [pane for pane in panes if pane.kpi_id == self.want_focus]
        if not wanted:
            self.want_focus = None
            if self.focused in panes:
                return
        if wanted or panes:
            pane = (wanted or panes)[0]
            pane.focus()
            pane.scroll_visible(animate=False)

    def show_states(self, states: dict[str, KpiState], kpi_ids: list[str] | None = None) -> None:
        """Hand new states to the panes that show them (all panes when `kpi_ids` is None)."""
        wanted = None if kpi_ids is None else set(kpi_ids)
        for pane in self.query(KpiPane):
            if (wanted is None or pane.kpi_id in wanted) and pane.kpi_id in states:
                pane.state = states[pane.kpi_id]

    def show_health(self, board: Board, warnings: list[str]) -> None:
        """Show the sources' health and the time of the newest data in the status bar."""
        newest = max((s.updated_at.timestamp() for s in board.states.values() if s.updated_at), default=None)
        for bar in self.query(StatusBar):  # none while the screen is being rebuilt
            bar.show(board.statuses, newest, "; ".join(warnings), self.config.settings.timezone)

    def action_move(self, direction: str) -> None:
        """Focus the pane next to the focused one."""
        focused = self.focused
        grid = self.grid
        if not isinstance(focused, KpiPane) or focused not in grid.panes:
            self._focus_first()
            return
        target = grid.neighbour(focused, *MOVES[direction])
        if target is not None:
            target.focus()
            target.scroll_visible()

    @property
    def active_index(self) -> int:
        """The index of the dashboard on show."""
        active = self.query_one(TabbedContent).active or "dashboard-0"
        return int(active.rsplit("-", 1)[1])

    def focus_kpi(self, kpi_id: str, prefer: int | None = None) -> None:
        """Show a dashboard holding `kpi_id` (`prefer` if it does) and focus its pane."""
        order = list(range(len(self.config.dashboards)))
        if prefer is not None and prefer in order:
            order.remove(prefer)
            order.insert(0, prefer)
        for index in order:
            if kpi_id in self.config.dashboards[index].kpis:
                self.want_focus = kpi_id
                self.query_one(TabbedContent).active = f"dashboard-{index}"
                self.call_after_refresh(self._focus_first)
                return

    def action_show_dashboard(self, index: int) -> None:
        """Switch to the dashboard at `index` (0-based), if it exists."""
        if 0 <= index < len(self.config.dashboards):
            self.query_one(TabbedContent).active = f"dashboard-{index}"
            self.call_after_refresh(self._focus_first)

    def action_next_dashboard(self, step: int = 1) -> None:
        """Switch to the next (or previous) dashboard, wrapping around."""
        self.action_show_dashboard((self.active_index + step) % len(self.config.dashboards))

    def on_descendant_focus(self, event) -> None:
        if isinstance(event.widget, KpiPane) and event.widget.kpi_id == self.want_focus:
            self.want_focus = None  # it landed

    def on_tabbed_content_tab_activated(self) -> None:
        focused = self.focused
        if self.want_focus or not (isinstance(focused, KpiPane) and focused in self.grid.panes):
            self.call_after_refresh(self._focus_first)
