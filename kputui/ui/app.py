"""The Textual app: wires the dashboard screen, themes, keys and the collector.

The app holds no KPI logic. A timer asks the store what changed, the `Board` re-evaluates
the KPIs that need it, and the dashboard screen hands the new states to its panes. When
this process is the store's writer, the collector runs as a worker of the app.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from textual.app import App
from textual.binding import Binding
from textual.worker import Worker, WorkerState

from kputui.board import Board
from kputui.ui.screens.dashboard import DashboardScreen
from kputui.ui.screens.help import HelpScreen
from kputui.ui.themes import BUILTIN_THEMES, load_themes

if TYPE_CHECKING:
    from kputui.collector import Collector
    from kputui.config import Config
    from kputui.store import Store

__all__ = ["KputuiApp"]

FALLBACK_THEME = "kputui-dark"


class KputuiApp(App[None]):
    """The kputui dashboard."""

    CSS_PATH = "app.tcss"
    TITLE = "kputui"
    ENABLE_COMMAND_PALETTE = True

    BINDINGS = [
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "help", "Keys"),
        Binding("r", "refresh_now", "Refresh"),
    ]

    HELP_KEYS = [
        ("← → ↑ ↓  h j k l", "move between KPIs"),
        ("1 … 9", "show dashboard 1 to 9"),
        ("tab / shift+tab", "next / previous dashboard"),
        ("r", "refresh now"),
        ("ctrl+p", "command palette"),
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
        theme_folders: tuple[Path, ...] = (),
        refresh_interval: float | None = None,
    ) -> None:
        super().__init__()
        self.config = config
        self.store = store
        self.collector = collector
        self.board = Board(config, store, clock=clock)
        self._theme_folders = (BUILTIN_THEMES, *theme_folders)
        self._refresh_interval = refresh_interval or config.settings.refresh
        self._version = -1
        self.sub_title = config.path.name if config.path else ""

    @property
    def role(self) -> str:
        """`collector` when this process writes the store, else `viewer`."""
        return "collector" if self.collector is not None else "viewer"

    def get_default_screen(self) -> DashboardScreen:
        return DashboardScreen(self.config, self.role)

    def on_mount(self) -> None:
        self._load_themes()
        self.refresh_data(everything=True)
        self.set_interval(self._refresh_interval, self.refresh_data, name="refresh")
        if self.collector is not None:
            self.run_worker(self.collector.run(), name="collector", group="collector", exit_on_error=False)

    def _load_themes(self) -> None:
        themes, errors = load_themes(*self._theme_folders)
        for theme in themes:
            self.register_theme(theme)
        for error in errors:
            self.notify(error, title="Theme skipped", severity="warning", markup=False)
        wanted = self.config.settings.theme
        if wanted in self.available_themes:
            self.theme = wanted
        else:
            self.notify(f"unknown theme {wanted!r}; using {FALLBACK_THEME}", severity="warning", markup=False)
            self.theme = FALLBACK_THEME if FALLBACK_THEME in self.available_themes else "textual-dark"

    def refresh_data(self, everything: bool = False) -> None:
        """Pick up new data from the store and show the KPIs it changed."""
        if self.collector is None:
            self.store.refresh()
        version, changed = self.store.changed_since(self._version)
        self._version = version
        updated = self.board.update(None if everything else changed)
        screen = self.get_default_screen_instance()
        if screen is not None and screen.is_mounted:
            screen.show_states(self.board.states, updated)
            screen.show_health(self.board, self.store.warnings)

    def get_default_screen_instance(self) -> DashboardScreen | None:
        """The dashboard screen, if it is on the stack."""
        for screen in self.screen_stack:
            if isinstance(screen, DashboardScreen):
                return screen
        return None

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.HELP_KEYS))

    def action_refresh_now(self) -> None:
        self.refresh_data(everything=True)
        self.notify("refreshed", timeout=1.5)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.name == "collector" and event.state == WorkerState.ERROR:
            self.notify(f"the collector stopped: {event.worker.error}", severity="error", timeout=30, markup=False)
