"""A sparkline drawn with plotext's braille canvas, rebuilt only when data or size change."""

from __future__ import annotations

from typing import ClassVar

import plotext
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

__all__ = ["KpiSparkline", "plot_lines"]


def plot_lines(points: tuple[float | None, ...], width: int, height: int) -> list[str]:
    """`points` drawn as plain text lines of `width` x `height` braille cells.

    Missing points leave a gap in x rather than being drawn as zero.
    """
    xs = [i for i, value in enumerate(points) if value is not None]
    if width < 2 or height < 1 or not xs:
        return [" " * max(width, 0)] * max(height, 0)
    ys = [points[i] for i in xs]
    plotext.clear_figure()
    plotext.plotsize(width, height)
    plotext.theme("clear")
    plotext.xaxes(False, False)
    plotext.yaxes(False, False)
    plotext.frame(False)
    plotext.xticks([])
    plotext.yticks([])
    plotext.xlim(0, max(len(points) - 1, 1))
    if min(ys) == max(ys):
        plotext.ylim(ys[0] - 1, ys[0] + 1)
    plotext.plot(xs, ys, marker="braille", color="default")
    drawn = Text.from_ansi(plotext.build()).plain.split("\n")
    lines = [line.ljust(width)[:width] for line in drawn[:height]]
    return lines + [" " * width] * (height - len(lines))


class KpiSparkline(Widget):
    """The recent history of a KPI as a small line chart."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"kpi-sparkline--line"}

    DEFAULT_CSS = """
    KpiSparkline {
        height: 3;
        width: 1fr;
    }
    KpiSparkline > .kpi-sparkline--line {
        color: $primary;
    }
    """

    builds: ClassVar[int] = 0
    """How many charts every sparkline has built; benchmarks check that idle refreshes add none."""

    data: reactive[tuple[float | None, ...]] = reactive(tuple)
    """The points to draw, oldest first; None is a gap."""

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._cache_key: tuple | None = None
        self._lines: list[str] = []

    def render(self) -> Text:
        width, height = self.size
        key = (self.data, width, height)
        if key != self._cache_key:
            self._lines = plot_lines(self.data, width, height)
            self._cache_key = key
            KpiSparkline.builds += 1
        return Text("\n".join(self._lines), style=self.get_component_rich_style("kpi-sparkline--line"), no_wrap=True)
