"""The `?` screen: every key the dashboard answers to."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

if TYPE_CHECKING:
    from textual.app import ComposeResult

__all__ = ["HelpScreen"]


class HelpScreen(ModalScreen[None]):
    """A table of keys and what they do; any of escape, q or ? closes it."""

    BINDINGS = [
        Binding("escape,q,question_mark", "dismiss", "Close"),
    ]

    def __init__(self, keys: list[tuple[str, str]]) -> None:
        super().__init__()
        self.keys = keys
        """(key, description) pairs, in the order they are shown."""

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Static("Keys", id="help-title")
            table: DataTable[str] = DataTable(cursor_type="none", zebra_stripes=True, show_header=False)
            table.add_columns("key", "action")
            for key, description in self.keys:
                table.add_row(Text(key, style="bold"), Text(description))
            yield table
            yield Static("escape closes this", id="help-hint")
