"""Sparklines drawn with plotext's braille canvas, rebuilt only when data or size change."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import ClassVar

import plotext
from rich.text import Text

__all__ = ["SparklineCache", "dots", "plot_lines"]


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


def dots(points: tuple[float | None, ...], height: int) -> tuple[int | None, ...]:
    """Each point as the row of braille dots it lands on (4 per line, min to max).

    Two series with the same dots draw the same chart, so a KPI whose last point moved
    less than a dot (most ticks of a live dashboard) needs no new drawing.
    """
    values = [value for value in points if value is not None]
    if not values:
        return ()
    low, high = min(values), max(values)
    rows = max(height * 4 - 1, 1)
    span = high - low
    if span == 0:
        return tuple(None if value is None else 0 for value in points)
    return tuple(None if value is None else round((value - low) / span * rows) for value in points)


class SparklineCache:
    """One sparkline's drawn lines, kept until its points or size change.

    When only the last point moved (the current, still-growing slice: a live KPI's
    usual tick), even if that rescales the chart, it is drawn again at most every
    `LAST_POINT_EVERY` seconds and `due_at` says when the newer points are due; any
    other change is drawn at once.
    """

    LAST_POINT_EVERY: ClassVar[float] = 15.0
    builds: ClassVar[int] = 0
    """How many charts every sparkline has built; benchmarks check that idle refreshes add none."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.due_at: float | None = None
        """When a drawing held back (only the last point moved) is due; None: none is."""
        self._key: tuple | None = None
        self._points: tuple[float | None, ...] = ()
        self._lines: list[str] = []
        self._built_at = -math.inf

    def lines(self, points: tuple[float | None, ...], width: int, height: int) -> list[str]:
        """The chart of `points` at this size, drawn again only if a dot would move."""
        key = (dots(points, height), width, height)
        if key == self._key:
            self.due_at = None
            return self._lines
        now = self.clock()
        old = self._key
        # Only the last point moved (even if that rescales the chart): held back a while.
        if old is not None and old[1:] == key[1:] and _only_last_moved(self._points, points):
            if now < self._built_at + self.LAST_POINT_EVERY:
                self.due_at = self._built_at + self.LAST_POINT_EVERY
                return self._lines
        self._lines = plot_lines(points, width, height)
        self._key = key
        self._points = points
        self._built_at = now
        self.due_at = None
        SparklineCache.builds += 1
        return self._lines


def _only_last_moved(before: tuple[float | None, ...], after: tuple[float | None, ...]) -> bool:
    return len(before) == len(after) > 0 and before[:-1] == after[:-1]
