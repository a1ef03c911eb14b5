"""The line at the bottom: who writes the store, which sources fail, when data last changed."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.widget import Widget

if TYPE_CHECKING:
    from kputui.store import SourceStatus

__all__ = ["StatusBar"]


class StatusBar(Widget):
    """Role, source health and last update, in one line of plain text."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"status-bar--ok", "status-bar--failing", "status-bar--muted"}

    DEFAULT_CSS = """
    StatusBar {
        height: 1;
        background: $panel;
        padding: 0 1;
    }
    StatusBar > .status-bar--ok { color: $success; }
    StatusBar > .status-bar--failing { color: $error; text-style: bold; }
    StatusBar > .status-bar--muted { color: $foreground-muted; }
    """

    def __init__(self, role: str) -> None:
        super().__init__()
        self.role = role
        """`collector` when this process writes the store, `viewer` when another one does."""
        self.statuses: dict[str, SourceStatus] = {}
        self.updated_at: float | None = None
        self.warning: str = ""
        self.zone = ZoneInfo("UTC")

    def show(
        self, statuses: dict[str, SourceStatus], updated_at: float | None, warning: str = "", timezone: str = "UTC"
    ) -> None:
        """Show the latest source health and the update time in the dashboard's zone."""
        self.statuses, self.updated_at, self.warning = statuses, updated_at, warning
        self.zone = ZoneInfo(timezone)
        self.refresh()

    def render(self) -> Text:
        style = self.get_component_rich_style
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(self.role, style("status-bar--muted"))
        failing = sorted((s for s in self.statuses.values() if s.consecutive_failures), key=lambda s: s.source)
        if failing:
            first = failing[0]
            text.append(f"  ✖ {first.source}: {first.last_error or 'failing'}", style("status-bar--failing"))
            if len(failing) > 1:
                text.append(f" (+{len(failing) - 1} more failing)", style("status-bar--failing"))
        elif self.statuses:
            text.append(f"  ● {len(self.statuses)} sources ok", style("status-bar--ok"))
        if self.warning:
            text.append(f"  {self.warning}", style("status-bar--failing"))
        if self.updated_at is not None:
            text.append(f"  updated {datetime.fromtimestamp(self.updated_at, self.zone):%H:%M:%S}", style("status-bar--muted"))
        return text
