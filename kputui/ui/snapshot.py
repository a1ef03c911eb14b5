"""The dashboard rendered once without a terminal: for `kputui snapshot` and cron jobs.

The real app runs headless at the chosen size and theme; its first complete frame is
written as SVG, HTML or plain text.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from rich.console import Console

from kputui.ui.app import KputuiApp
from kputui.ui.preferences import Preferences

if TYPE_CHECKING:
    from pathlib import Path

    from textual.pilot import Pilot

    from kputui.config import Config
    from kputui.store import Store

__all__ = ["FORMATS", "render_snapshot"]

FORMATS = ("svg", "html", "txt")


def _export(app: KputuiApp, kind: str) -> str:
    """The screen on show as `kind`, rendered the way Textual exports screenshots."""
    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), force_terminal=True,
                      color_system="truecolor", record=True, legacy_windows=False, safe_box=False)
    console.print(app.screen._compositor.render_update(full=True, screen_stack=app._background_screens))
    title = f"kputui · {app.config.path.name}" if app.config.path else "kputui"
    if kind == "svg":
        return console.export_svg(title=title)
    if kind == "html":
        return console.export_html(inline_styles=True)
    return "\n".join(line.rstrip() for line in console.export_text().splitlines()) + "\n"


def render_snapshot(
    config: Config,
    store: Store,
    kind: str,
    *,
    size: tuple[int, int] = (120, 40),
    theme: str | None = None,
    dashboard: int = 0,
    clock: Callable[[], float] = time.time,
    theme_folders: tuple[Path, ...] = (),
) -> str:
    """The dashboard at `dashboard` (0-based) rendered once as `kind` (svg, html or txt)."""
    preferences = Preferences(None)
    if theme:
        preferences.set("theme", theme)
    app = KputuiApp(config, store, clock=clock, preferences=preferences, theme_folders=theme_folders)
    result: list[str] = []

    async def capture(pilot: Pilot) -> None:
        await pilot.pause()
        if dashboard:
            app.dashboard.action_show_dashboard(dashboard)
        await pilot.pause()
        await pilot.pause()
        result.append(_export(app, kind))
        app.exit()

    app.run(headless=True, size=size, auto_pilot=capture)
    return result[0]
