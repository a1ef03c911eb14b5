"""The Textual app: wires the dashboard screen, themes, keys, commands and the collector.

The app holds no KPI logic. A timer asks the store what changed, the `Board` re-evaluates
the KPIs that need it, and the screens hand the new states to their widgets. When this
process is the store's writer, the collector runs as a worker of the app.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import ModalScreen, Screen
from textual.worker import Worker, WorkerState

from kputui.board import TIME_REFRESH, Board
from kputui.errors import ConfigError
from kputui.ui.preferences import Preferences
from kputui.ui.editing import ConfigEditing
from kputui.ui.editing_actions import EditingActions
from kputui.ui.screens.dashboard import DashboardScreen
from kputui.ui.themes import BUILTIN_THEMES, load_themes
from kputui.ui.widgets.kpi_pane import KpiPane

if TYPE_CHECKING:
    from textual.events import Resize
    from textual.timer import Timer

    from kputui.collector import Collector
    from kputui.config import Config
    from kputui.store import Store

__all__ = ["KputuiApp"]

FALLBACK_THEME = "kputui-dark"
SCROLL_SETTLE = 0.15
"""Seconds without scrolling before the KPIs in view are evaluated again."""
REFRESH_BATCH = 25
"""KPIs evaluated per turn of the event loop during a full refresh."""
OFF_SCREEN_REFRESH = 60.0
"""Seconds between evaluations of the KPIs not on screen. They are evaluated as they
come into view (a scroll, a dashboard switch), so this only bounds how old the states
off screen get; evaluating them every `TIME_REFRESH` was a third of the steady CPU."""
MIN_SIZE = (40, 12)
"""Below this many columns and rows the app only says the terminal is too small."""


class KputuiApp(EditingActions, App[None]):
    """The kputui dashboard."""

    CSS_PATH = "app.tcss"
    TITLE = "kputui"

    BINDINGS = [
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "help", "Keys"),
        Binding("r", "refresh_now", "Refresh"),
        Binding("t", "cycle_theme", "Theme"),
        Binding("v", "manual_value", "Value", show=False),
        Binding("e", "edit_kpi", "Edit"),
        Binding("a", "add_kpi", "Add", show=False),
        Binding("d", "delete_kpi", "Delete", show=False),
        Binding("left_square_bracket", "move_kpi(-1)", "Move back", show=False),
        Binding("right_square_bracket", "move_kpi(1)", "Move on", show=False),
        Binding("slash", "command_palette", "Commands", show=False),
    ]

    HELP_KEYS = [
        ("← → ↑ ↓  h j k l", "move between KPIs"),
        ("enter", "open the focused KPI: chart, last periods, series, sources"),
        ("escape", "back to the dashboard"),
        ("1 … 9", "show dashboard 1 to 9"),
        ("tab / shift+tab", "next / previous dashboard"),
        ("e", "edit the focused KPI (ctrl+s saves, escape cancels)"),
        ("a", "add a KPI to this dashboard"),
        ("d", "delete the focused KPI (asks first)"),
        ("[ ]", "move the focused KPI back / on"),
        ("v", "type a value for the focused KPI's manual series"),
        ("r", "refresh now"),
        ("t", "next theme (remembered)"),
        ("/ or ctrl+p", "command palette: jump to a KPI, dashboard, theme, reload"),
        ("?", "this list of keys"),
        ("q", "quit"),
    ]

    def __init__(
        self,
        config: Config,
        store: Store,
        *,
        collector: Collector | None = None,
        clock: Callable[[], float] = time.time,
        theme_folders: Iterable[Path] = (),
        preferences: Preferences | None = None,
        refresh_interval: float | None = None,
        editing: ConfigEditing | None = None,
    ) -> None:
        super().__init__()
        self.config = config
        self.store = store
        self.collector = collector
        self.clock = clock
        self.board = Board(config, store, clock=clock)
        self.preferences = preferences or Preferences(None)
        self.editing = editing or (ConfigEditing(config.path) if config.path else None)
        """Writes KPI edits to the config file; None when the config has no file."""
        self.kputui_themes: list[str] = []
        """Names of the themes loaded from theme files, in the order `t` cycles them."""
        self._theme_folders = (BUILTIN_THEMES, *theme_folders)
        self._refresh_interval = refresh_interval or config.settings.refresh
        self._version = -1
        self._full_refresh_at = float("-inf")
        self._off_screen_at = float("-inf")
        self._queued: list[str] = []
        self._scroll_timer: Timer | None = None
        self._alert_seq = store.alert_seq
        """The last alert event shown: older ones are not replayed at start."""
        self._config_stamp = self._stamp()
        # Themes and first states are ready before the screen is built, so the first
        # frame is styled and filled once rather than restyled after mounting.
        self._theme_errors = self._load_themes()
        self.board.update(None, only=config.dashboards[0].kpis if config.dashboards else ())

    @property
    def role(self) -> str:
        """`collector` when this process writes the store, else `viewer`."""
        return "collector" if self.collector is not None else "viewer"

    def get_default_screen(self) -> DashboardScreen:
        return DashboardScreen(self.config, self.role)

    @property
    def dashboard(self) -> DashboardScreen:
        """The dashboard screen, at the bottom of the stack."""
        screen = self.screen_stack[0]
        assert isinstance(screen, DashboardScreen)
        return screen

    def on_mount(self) -> None:
        for error in self._theme_errors:
            self.notify(error, title="Theme skipped", severity="warning", markup=False)
        self.set_interval(self._refresh_interval, self.refresh_data, name="refresh")
        # The first frame shows the first dashboard; every other KPI and the collector follow.
        self.call_after_refresh(self.refresh_data, everything=True)
        self.call_after_refresh(self._start_collector)

    def _start_collector(self) -> None:
        if self.collector is not None:
            self.run_worker(self.collector.run(), name="collector", group="collector", exit_on_error=False)

    def on_resize(self, event: Resize) -> None:
        small = event.size.width < MIN_SIZE[0] or event.size.height < MIN_SIZE[1]
        self.set_class(small, "-too-small")

    # Themes

    def _load_themes(self) -> list[str]:
        """Register the theme files' themes, pick the theme to use; return the problems."""
        themes, errors = load_themes(*self._theme_folders)
        for theme in themes:
            self.register_theme(theme)
        self.kputui_themes = [theme.name for theme in themes]
        wanted = self.preferences.get("theme") or self.config.settings.theme
        if wanted not in self.available_themes:
            errors.append(f"unknown theme {wanted!r}; using {FALLBACK_THEME}")
            wanted = FALLBACK_THEME if FALLBACK_THEME in self.available_themes else "textual-dark"
        self.theme = wanted
        return errors

    def use_theme(self, name: str) -> None:
        """Switch to theme `name` and remember the choice."""
        self.theme = name
        self.preferences.set("theme", name)

    def action_cycle_theme(self) -> None:
        names = self.kputui_themes or [self.theme]
        index = names.index(self.theme) if self.theme in names else -1
        self.use_theme(names[(index + 1) % len(names)])
        self.notify(f"theme: {self.theme}", timeout=2, markup=False)

    # Data

    def refresh_data(self, everything: bool = False) -> None:
        """Pick up new data (and a changed config file) and show what changed.

        Each tick the KPIs on screen follow new data at once, and every `TIME_REFRESH`
        seconds they are evaluated again (periods move). Every `OFF_SCREEN_REFRESH`
        seconds (and when asked) the others follow, a batch at a time, so the event loop
        is never held for long.
        """
        self._check_config_file()
        if self.collector is None:
            self.store.refresh()
        self._show_alerts()
        version, changed = self.store.changed_since(self._version)
        self._version = version
        dashboard = self.dashboard
        visible = dashboard.visible_kpis() if dashboard.is_mounted else []
        now = self.clock()
        if everything or now - self._full_refresh_at >= TIME_REFRESH:
            self._full_refresh_at = now
            first = visible or [spec.id for spec in self.config.kpis[:REFRESH_BATCH]]
            updated = self.board.update(None, only=first)
            if everything or now - self._off_screen_at >= OFF_SCREEN_REFRESH:
                self._off_screen_at = now
                shown = set(first)
                self._queued = [spec.id for spec in self.config.kpis if spec.id not in shown]
                if self._queued:
                    self.call_later(self._refresh_queued)
        else:
            updated = self.board.update(changed, only=visible)
        self._show(updated, everything)

    def on_kpi_grid_scrolled(self) -> None:
        """Bring the KPIs that scrolled into view up to date, once scrolling pauses."""
        if self._scroll_timer is not None:
            self._scroll_timer.stop()
        self._scroll_timer = self.set_timer(SCROLL_SETTLE, self.refresh_visible, name="scroll-refresh")

    def refresh_visible(self) -> None:
        """Evaluate the KPIs in view now (they came into view by a scroll or a switch)."""
        self._scroll_timer = None
        self._show(self.board.update(None, only=self.dashboard.visible_kpis()), False)

    def _show_alerts(self) -> None:
        """Notify every alert the collector fired or resolved since the last look."""
        for event in self.store.alert_events(after=self._alert_seq):
            self._alert_seq = event.seq
            self.notify(event.text, title="KPI alert", severity=event.severity, timeout=15, markup=False)
            notifiers = self.config.notifiers
            if any(notifiers[name].type == "bell" for name in event.notify if name in notifiers):
                self.bell()

    def _refresh_queued(self) -> None:
        """Evaluate the next batch of a full refresh; the rest waits for the next turn."""
        batch, self._queued = self._queued[:REFRESH_BATCH], self._queued[REFRESH_BATCH:]
        self._show(self.board.update(None, only=batch), False)
        if self._queued:
            self.call_later(self._refresh_queued)

    def _show(self, updated: list[str], everything: bool) -> None:
        """Hand new states to the dashboard (and to the detail view on show)."""
        dashboard = self.dashboard
        if dashboard.is_mounted:
            dashboard.show_states(self.board.states, updated)
            dashboard.show_health(self.board, self.store.warnings)
        detail = self.screen
        if detail is not dashboard and hasattr(detail, "refresh_detail") and detail.is_mounted:
            if updated or everything:
                detail.refresh_detail()

    def action_refresh_now(self) -> None:
        self.refresh_data(everything=True)
        self.notify("refreshed", timeout=1.5)

    # Config on disk

    def _stamp(self) -> tuple[int, int] | None:
        path = self.config.path
        try:
            stat = path.stat() if path else None
        except OSError:
            return None
        return None if stat is None else (stat.st_mtime_ns, stat.st_size)

    def _check_config_file(self) -> None:
        if isinstance(self.screen, ModalScreen):
            return  # never pull the file from under a dialog; looked at again once it closes
        stamp = self._stamp()
        if stamp is not None and stamp != self._config_stamp:
            self._config_stamp = stamp
            self.action_reload_config()

    def action_reload_config(self) -> None:
        """Load the config file again; keep the running one if the new one has errors."""
        from kputui.config import load_config

        if self.config.path is None:
            return
        try:
            config = load_config(self.config.path)
        except ConfigError as error:
            shown = "\n".join(str(issue) for issue in error.issues[:8])
            more = len(error.issues) - 8
            if more > 0:
                shown += f"\n… and {more} more"
            self.notify(shown, title="Config not reloaded", severity="error", timeout=20, markup=False)
            return
        self.apply_config(config)
        self.notify("config reloaded", timeout=2)

    def apply_config(self, config: Config, focus: str | None = None) -> None:
        """Show `config` from now on, restarting only the sources that changed."""
        self.config = config
        self._config_stamp = self._stamp()
        self.board = Board(config, self.store, clock=self.clock)
        self.board.update(None)
        if self.collector is not None:
            self.run_worker(self.collector.restart(config), name="collector-restart", group="collector")
        while len(self.screen_stack) > 1:
            self.pop_screen()
        self.run_worker(self._show_config(focus), name="recompose", group="ui", exclusive=True)

    async def _show_config(self, focus: str | None) -> None:
        dashboard = self.dashboard
        active = dashboard.active_index
        dashboard.config = config = self.config
        await dashboard.recompose()
        if focus is not None and any(focus in board.kpis for board in config.dashboards):
            dashboard.focus_kpi(focus, prefer=active)
        else:
            dashboard.action_show_dashboard(min(active, len(config.dashboards) - 1))

    # Navigation

    def on_kpi_pane_selected(self, message: KpiPane.Selected) -> None:
        from kputui.ui.screens.detail import DetailScreen

        self.push_screen(DetailScreen(self.board, message.kpi_id))

    def jump_to_kpi(self, kpi_id: str) -> None:
        """Show the dashboard holding `kpi_id` and focus its pane."""
        while len(self.screen_stack) > 1:
            self.pop_screen()
        self.dashboard.focus_kpi(kpi_id)

    def show_dashboard(self, index: int) -> None:
        while len(self.screen_stack) > 1:
            self.pop_screen()
        self.dashboard.action_show_dashboard(index)

    def _focused_kpi(self) -> str | None:
        focused = self.focused
        if isinstance(focused, KpiPane):
            return focused.kpi_id
        return getattr(self.screen, "kpi_id", None)  # the detail view's KPI

    def action_help(self) -> None:
        from kputui.ui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.HELP_KEYS))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        from kputui.ui.commands import dashboard_commands

        yield from dashboard_commands(self)
        yield from super().get_system_commands(screen)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "collector" and event.state == WorkerState.ERROR:
            self.notify(f"the collector stopped: {event.worker.error}", severity="error", timeout=30, markup=False)
