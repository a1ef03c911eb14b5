"""The `v` dialog: type a value (and optionally its time) for a KPI's manual series."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from kputui.durations import parse_instant
from kputui.series import clean_value

if TYPE_CHECKING:
    from textual.app import ComposeResult

__all__ = ["ManualEntry", "ManualValueScreen", "parse_entry"]


@dataclass(frozen=True, slots=True)
class ManualEntry:
    """A value a person typed for a manual series."""

    series: str
    value: float
    time: float


def parse_entry(series: str, value_text: str, time_text: str, now: float) -> ManualEntry:
    """The entry the fields describe; ValueError with a message for the user otherwise."""
    try:
        value = clean_value(float(value_text.replace(",", "").replace("_", "").strip()))
    except ValueError:
        value = None
    if value is None:
        raise ValueError(f"value: expected a number, got {value_text.strip() or 'nothing'!r}")
    when = now
    if time_text.strip():
        try:
            when = parse_instant(time_text)
        except ValueError as error:
            raise ValueError(f"time: {error}") from None
        if when > now + 60:
            raise ValueError("time: a value cannot be recorded in the future")
    return ManualEntry(series, value, when)


class ManualValueScreen(ModalScreen[ManualEntry | None]):
    """Asks for a value of one of `series`; dismisses with the entry, or None on escape."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, kpi_name: str, series: list[str], now: float) -> None:
        super().__init__()
        self.kpi_name = kpi_name
        self.series = series
        self.now = now

    def compose(self) -> ComposeResult:
        with Vertical(id="manual"):
            yield Static(f"Record a value for {self.kpi_name}", id="manual-title", markup=False)
            if len(self.series) > 1:
                yield Label("series")
                yield Select([(name, name) for name in self.series], value=self.series[0], allow_blank=False,
                             id="manual-series")
            else:
                yield Static(f"series: {self.series[0]}", markup=False)
            yield Label("value")
            yield Input(placeholder="e.g. 12 or 1250.50", id="manual-value")
            yield Label("time (optional, default now)")
            yield Input(placeholder="2026-12-04 09:30", id="manual-time")
            yield Static(id="manual-error", markup=False)
            with Horizontal(id="manual-buttons"):
                yield Button("Record", variant="primary", id="manual-record")
                yield Button("Cancel", id="manual-cancel")

    def on_mount(self) -> None:
        self.query_one("#manual-value", Input).focus()

    def _series(self) -> str:
        if len(self.series) == 1:
            return self.series[0]
        return str(self.query_one("#manual-series", Select).value)

    def _submit(self) -> None:
        try:
            entry = parse_entry(
                self._series(),
                self.query_one("#manual-value", Input).value,
                self.query_one("#manual-time", Input).value,
                self.now,
            )
        except ValueError as error:
            self.query_one("#manual-error", Static).update(str(error))
            return
        self.dismiss(entry)

    def on_input_submitted(self) -> None:
        self._submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "manual-record":
            self._submit()
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)
