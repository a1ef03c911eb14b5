"""The top line: kputui, the config's name, and the dashboards as tabs to switch between."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

if TYPE_CHECKING:
    from textual.events import Click

__all__ = ["DashboardBar"]


class DashboardBar(Widget):
    """One line: the title, then `1 Shop  2 Marketing ...` with the one on show marked."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "dashboard-bar--title",
        "dashboard-bar--tab",
        "dashboard-bar--active",
    }

    DEFAULT_CSS = """
    DashboardBar {
        height: 1;
        background: $panel;
        padding: 0 1;
    }
    DashboardBar > .dashboard-bar--title { color: $foreground-muted; }
    DashboardBar > .dashboard-bar--tab { color: $foreground; }
    DashboardBar > .dashboard-bar--active { color: $background; background: $accent; text-style: bold; }
    """

    active: reactive[int] = reactive(0)
    """The index of the dashboard on show."""

    @dataclass
    class Chosen(Message):
        """A dashboard's tab was clicked."""

        index: int

    def __init__(self, title: str, names: list[str]) -> None:
        super().__init__()
        self.title = title
        """Shown at the left: kputui and the config file's name."""
        self.names = names
        """The dashboards' names, in order."""
        self._spans: list[tuple[int, int]] = []

    def render(self) -> Text:
        style = self.get_component_rich_style
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(f"{self.title}  ", style("dashboard-bar--title"))
        self._spans = []
        for index, name in enumerate(self.names):
            label = f" {index + 1} {name} " if index < 9 else f" {name} "
            start = text.cell_len
            text.append(label, style("dashboard-bar--active" if index == self.active else "dashboard-bar--tab"))
            self._spans.append((start, text.cell_len))
            text.append(" ")
        return text

    def on_click(self, event: Click) -> None:
        x = event.x - self.styles.padding.left
        for index, (start, end) in enumerate(self._spans):
            if start <= x < end:
                self.post_message(self.Chosen(index))
                return
