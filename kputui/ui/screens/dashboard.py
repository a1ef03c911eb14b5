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

    def compose(self) -> ComposeResult:
        yield Header()
        with TabbedContent(id="dashboards"):
            for index, dashboard in enumerate(self.config.dashboards):
                label = Content(f"{index + 1} {dashboard.name}" if index < 9 else dashboard.name)
                with TabPane(label, id=f"dashboard-{index}"):
                    with KpiGrid():
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
        panes = self.grid.panes
        if panes:
            panes[0].focus()

    def show_states(self, states: dict[str, KpiState], kpi_ids: list[str] | None = None) -> None:
        """Hand new states to the panes that show them (all panes when `kpi_ids` is None)."""
        wanted = None if kpi_ids is None else set(kpi_ids)
        for pane in self.query(KpiPane):
            if (wanted is None or pane.kpi_id in wanted) and pane.kpi_id in states:
                pane.state = states[pane.kpi_id]

    def show_health(self, board: Board, warnings: list[str]) -> None:
        """Show the sources' health and the time of the newest data in the status bar."""
        newest = max((s.updated_at.timestamp() for s in board.states.values() if s.updated_at), default=None)
        self.query_one(StatusBar).show(board.statuses, newest, "; ".join(warnings), self.config.settings.timezone)

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

    def focus_kpi(self, kpi_id: str) -> None:
        """Show the first dashboard holding `kpi_id` and focus its pane."""
        for index, dashboard in enumerate(self.config.dashboards):
            if kpi_id in dashboard.kpis:
                self.query_one(TabbedContent).active = f"dashboard-{index}"
                pane = next(p for p in self.query_one(f"#dashboard-{index}").query(KpiPane) if p.kpi_id == kpi_id)
                self.call_after_refresh(pane.focus)
                self.call_after_refresh(pane.scroll_visible)
                return

    def action_show_dashboard(self, index: int) -> None:
        """Switch to the dashboard at `index` (0-based), if it exists."""
        if 0 <= index < len(self.config.dashboards):
            self.query_one(TabbedContent).active = f"dashboard-{index}"
            self.call_after_refresh(self._focus_first)

    def action_next_dashboard(self, step: int = 1) -> None:
        """Switch to the next (or previous) dashboard, wrapping around."""
        tabs = self.query_one(TabbedContent)
        index = int((tabs.active or "dashboard-0").rsplit("-", 1)[1])
        self.action_show_dashboard((index + step) % len(self.config.dashboards))

    def on_tabbed_content_tab_activated(self) -> None:
        focused = self.focused
        if not (isinstance(focused, KpiPane) and focused in self.grid.panes):
            self.call_after_refresh(self._focus_first)
