"""Command palette entries that make sense on the dashboard: jump, switch, theme, refresh."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import TYPE_CHECKING

from textual.app import SystemCommand

if TYPE_CHECKING:
    from kputui.ui.app import KputuiApp

__all__ = ["dashboard_commands"]


def dashboard_commands(app: KputuiApp) -> Iterator[SystemCommand]:
    """kputui's own palette commands for the current config."""
    config = app.config
    for spec in config.kpis:
        yield SystemCommand(f"Go to KPI: {spec.name}", spec.objective or spec.id, partial(app.jump_to_kpi, spec.id))
    for index, dashboard in enumerate(config.dashboards):
        yield SystemCommand(
            f"Show dashboard: {dashboard.name}", f"{len(dashboard.kpis)} KPIs", partial(app.show_dashboard, index)
        )
    for name in app.kputui_themes:
        yield SystemCommand(f"Theme: {name}", "switch to this theme and remember it", partial(app.use_theme, name))
    yield SystemCommand("Refresh now", "re-read the store and re-evaluate every KPI", app.action_refresh_now)
    yield SystemCommand("Reload config", "read the config file again", app.action_reload_config)
    yield SystemCommand("Keys", "every key the dashboard answers to", app.action_help)
