"""A scrolling grid of KPI panes whose column count follows the terminal's width."""

from __future__ import annotations

from textual.containers import VerticalScroll
from textual.events import Resize
from textual.message import Message

from kputui.ui.widgets.kpi_pane import KpiPane

__all__ = ["KpiGrid", "MIN_PANE_WIDTH"]

MIN_PANE_WIDTH = 36
"""Panes narrower than this lose their target line; the grid uses fewer columns instead."""


class KpiGrid(VerticalScroll, can_focus=False, inherit_bindings=False):
    """The panes of one dashboard, laid out in as many columns as fit."""

    DEFAULT_CSS = """
    KpiGrid {
        layout: grid;
        grid-size: 2;
        grid-rows: 9;
        grid-gutter: 0 1;
        padding: 0 1;
        height: 1fr;
    }
    """

    def __init__(self, *, max_columns: int | None = None, id: str | None = None) -> None:
        super().__init__(id=id)
        self.max_columns = max_columns
        """The dashboard's `columns`: at most this many, even when more would fit."""

    @property
    def columns(self) -> int:
        """How many panes fit side by side at the current width (capped by `max_columns`)."""
        width = self.size.width - 2
        fit = max(1, (width + 1) // (MIN_PANE_WIDTH + 1))
        return min(fit, self.max_columns) if self.max_columns else fit

    @property
    def panes(self) -> list[KpiPane]:
        """The panes in layout order."""
        return [child for child in self.children if isinstance(child, KpiPane)]

    class Scrolled(Message):
        """Other panes came into view: their KPIs may want a fresh look."""

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if round(old_value) != round(new_value):
            self.post_message(self.Scrolled())

    def on_resize(self, event: Resize) -> None:
        self.styles.grid_size_columns = self.columns

    def neighbour(self, pane: KpiPane, dx: int, dy: int) -> KpiPane | None:
        """The pane `dx` columns and `dy` rows away from `pane`, if there is one."""
        panes = self.panes
        index = panes.index(pane)
        columns = self.columns
        row, column = divmod(index, columns)
        column = min(max(column + dx, 0), columns - 1)
        target = (row + dy) * columns + column
        if 0 <= target < len(panes):
            return panes[target]
        if dy > 0 and row + dy <= (len(panes) - 1) // columns:
            return panes[-1]
        return None
