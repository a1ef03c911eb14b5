"""The main screen: one grid of KPI panes per dashboard, one on show at a time.

Only the first dashboard's panes are built before the first frame; another dashboard's
are built the first time it is shown.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Static

from kputui.ui.widgets.dashboard_bar import DashboardBar
from kputui.ui.widgets.kpi_grid import KpiGrid
from kputui.ui.widgets.kpi_pane import KpiPane
from kputui.ui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from textual.app import ComposeResult

    from kputui.board import Board
    from kputui.config import Config
    from kputui.kpi.state import KpiState

__all__ = ["DashboardScreen"]

PANES_PER_TURN = 48
"""Panes given a new state per turn of the event loop (each costs a render)."""
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
        self.active_index = 0
        """The index of the dashboard on show."""
        self.want_focus: str | None = None
        """A KPI to focus once the grid on show is ready (after a switch or a rebuild)."""
        self._visible: list[str] = []
        self._visible_key: tuple | None = None

    def compose(self) -> ComposeResult:
        title = f"kputui · {self.config.path.name}" if self.config.path else "kputui"
        self.active_index = min(self.active_index, max(len(self.config.dashboards) - 1, 0))
        bar = DashboardBar(title, [dashboard.name for dashboard in self.config.dashboards])
        bar.active = self.active_index
        yield bar
        for index, dashboard in enumerate(self.config.dashboards):
            with KpiGrid(max_columns=dashboard.columns, id=f"dashboard-{index}") as grid:
                grid.display = index == self.active_index
                if index == self.active_index:
                    yield from self._panes(index)
        yield StatusBar(self.role)
        yield Footer()
        yield Static("The terminal is too small for kputui: make it at least 40x12.", id="too-small")

    def _panes(self, index: int) -> list[KpiPane]:
        """New panes for the dashboard at `index`, showing the board's latest states."""
        states = self.app.board.states
        panes = []
        for kpi_id in self.config.dashboards[index].kpis:
            spec = self.config.kpi(kpi_id)
            panes.append(KpiPane(kpi_id, spec.name, spec.format, state=states.get(kpi_id)))
        return panes

    def on_mount(self) -> None:
        board = self.app.board
        self.show_states(board.states)
        self.show_health(board, self.app.store.warnings)
        self._focus_first()

    @property
    def grid(self) -> KpiGrid:
        """The grid of the dashboard on show."""
        return self.query_one(f"#dashboard-{self.active_index}", KpiGrid)

    def _focus_first(self) -> None:
        """Focus the pane asked for by `focus_kpi`, else the first of the grid on show."""
        grid = self._active_grid()
        if grid is None:
            return  # the screen is being rebuilt or closed
        panes = grid.panes
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
        """Hand new states to the panes that show them (all panes when `kpi_ids` is None).

        Panes out of view only take their state, to draw it when they come into view.
        A few panes in view change per turn of the event loop, so that many KPIs
        changing at once are painted over several frames instead of holding the loop.
        """
        wanted = None if kpi_ids is None else set(kpi_ids)
        in_view = set(self.visible_kpis())
        panes = []
        for pane in self.walk_children(KpiPane):
            if (wanted is None or pane.kpi_id in wanted) and pane.kpi_id in states:
                if pane.kpi_id in in_view:
                    panes.append(pane)
                else:
                    pane.hold(states[pane.kpi_id])
            elif pane.kpi_id in in_view:
                pane.redraw_due()  # a sparkline point held back may be due by now
        self._show_batch(panes, states)

    def _show_batch(self, panes: list[KpiPane], states: dict[str, KpiState]) -> None:
        for pane in panes[:PANES_PER_TURN]:
            pane.state = states[pane.kpi_id]
        if len(panes) > PANES_PER_TURN:
            self.call_later(self._show_batch, panes[PANES_PER_TURN:], states)

    def _active_grid(self) -> KpiGrid | None:
        """The grid on show (None while the screen is being rebuilt), found among the
        screen's own children: a query would match CSS against every pane, every tick."""
        wanted = f"dashboard-{self.active_index}"
        for child in self.children:
            if isinstance(child, KpiGrid) and child.id == wanted:
                return child
        return None

    def visible_kpis(self) -> list[str]:
        """The ids of the KPIs whose panes are on screen now (none while being rebuilt)."""
        if (grid := self._active_grid()) is not None:
            # Asked every tick: worked out again only when the grid scrolled, was
            # resized or changed its panes, not by looking up every pane's region.
            key = (grid, grid.scroll_offset, grid.region, grid.virtual_size, tuple(grid.children))
            if key != self._visible_key:
                region = grid.region
                self._visible = [pane.kpi_id for pane in grid.panes if pane.region.overlaps(region)]
                self._visible_key = key
            return self._visible
        return []

    def show_health(self, board: Board, warnings: list[str]) -> None:
        """Show the sources' health and the time of the newest data in the status bar."""
        newest = max((s.updated_at.timestamp() for s in board.states.values() if s.updated_at), default=None)
        for bar in self.children:  # no status bar while the screen is being rebuilt
            if not isinstance(bar, StatusBar):
                continue
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


    def focus_kpi(self, kpi_id: str, prefer: int | None = None) -> None:
        """Show a dashboard holding `kpi_id` (`prefer` if it does) and focus its pane."""
        order = list(range(len(self.config.dashboards)))
        if prefer is not None and prefer in order:
            order.remove(prefer)
            order.insert(0, prefer)
        for index in order:
            if kpi_id in self.config.dashboards[index].kpis:
                self.want_focus = kpi_id
                self.action_show_dashboard(index)
                return

    def action_show_dashboard(self, index: int) -> None:
        """Switch to the dashboard at `index` (0-based), if it exists, building it if new."""
        if not 0 <= index < len(self.config.dashboards):
            return
        self.active_index = index
        for grid in self.query(KpiGrid):
            grid.display = grid.id == f"dashboard-{index}"
        for bar in self.query(DashboardBar):
            bar.active = index
        grid = self.query_one(f"#dashboard-{index}", KpiGrid)
        if not grid.children and self.config.dashboards[index].kpis:
            grid.mount_all(self._panes(index))
        self.call_after_refresh(self._focus_first)
        self.call_after_refresh(self.app.refresh_visible)  # its panes may show old states

    def action_next_dashboard(self, step: int = 1) -> None:
        """Switch to the next (or previous) dashboard, wrapping around."""
        self.action_show_dashboard((self.active_index + step) % len(self.config.dashboards))

    def on_dashboard_bar_chosen(self, message: DashboardBar.Chosen) -> None:
        self.action_show_dashboard(message.index)

    def on_descendant_focus(self, event) -> None:
        if isinstance(event.widget, KpiPane) and event.widget.kpi_id == self.want_focus:
            self.want_focus = None  # it landed
