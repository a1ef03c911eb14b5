"""Aggregations of one series over a window, exact from raw samples or from buckets.

A bucket belongs to the window its `start` falls in (a raw sample is a zero-width
bucket, so samples are placed exactly). `SeriesIndex` keeps running totals, so that
`sum`, `count`, `avg`, `first`, `last`, `delta` and `increase` over any window cost two
binary searches however long the history is; `min` and `max` use sparse tables built on
first use.
Build the index once per series and reuse it across KPIs and windows.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import accumulate, islice
from typing import Literal, overload

from kputui.series import Bucket

__all__ = ["AGGREGATIONS", "Aggregation", "SeriesIndex", "aggregate", "index_series"]

Aggregation = Literal["sum", "avg", "min", "max", "first", "last", "count", "delta", "increase"]
AGGREGATIONS: tuple[str, ...] = (
    "sum", "avg", "min", "max", "first", "last", "count", "delta", "increase",
)

_SMALL = 64
"""Windows of at most this many buckets are summed exactly (`math.fsum`); longer ones
use running totals: constant cost, relative error about 1e-16 times history / window."""


def _usable(bucket: Bucket) -> bool:
    values = (bucket.sum, bucket.min, bucket.max, bucket.first, bucket.last, bucket.increase)
    return bucket.count > 0 and all(
        isinstance(v, int | float) and math.isfinite(v) for v in values
    )


def _quick_usable(b: Bucket) -> bool:
    try:
        if b.count > 0 and math.isfinite(b.sum + b.min + b.max + b.first + b.last + b.increase):
            return True
    except TypeError:
        return False
    return _usable(b)


class _SparseTable:
    """Range minimum or maximum in O(1) after an O(n log n) build (C-speed `map`)."""

    __slots__ = ("_levels", "_pick")

    def __init__(self, values: list[float], pick: Callable[[float, float], float]) -> None:
        self._pick = pick
        self._levels = [values]
        width = 1
        while width * 2 <= len(values):
            below = self._levels[-1]
            self._levels.append(list(map(pick, below[:-width], below[width:])))
            width *= 2

    def query(self, i: int, j: int) -> float:
        level = (j - i).bit_length() - 1
        row = self._levels[level]
        return self._pick(row[i], row[j - (1 << level)])


class SeriesIndex(Sequence[Bucket]):
    """A series' buckets sorted by start, with running totals for cheap windows."""

    __slots__ = ("_buckets", "_starts", "_values", "_counts", "_sums", "_increases", "_steps",
                 "_mins", "_maxes")

    def __init__(self, buckets: Sequence[Bucket]) -> None:
        clean = [b for b in buckets if _quick_usable(b)]
        if any(a.start > b.start for a, b in zip(clean, clean[1:])):
            clean.sort(key=lambda b: b.start)
        self._buckets: list[Bucket] = []
        self._starts: list[float] = []
        self._values: list[float] = []
        self._counts = [0]
        self._sums = [0.0]
        self._increases = [0.0]
        self._steps = [0.0]
        self._mins: _SparseTable | None = None
        self._maxes: _SparseTable | None = None
        self._append(clean)

    def extend(self, buckets: Sequence[Bucket]) -> bool:
        """Append `buckets` (newer than every bucket held) as a new index of the whole
        would; return False, changing nothing, when they do not come after them."""
        clean = [b for b in buckets if _quick_usable(b)]
        starts = [b.start for b in clean]
        if (self._starts and starts and starts[0] < self._starts[-1]) or any(
            a > b for a, b in zip(starts, starts[1:])
        ):
            return False
        self._append(clean)
        return True

    def _append(self, clean: list[Bucket]) -> None:
        """Append usable buckets in start order, continuing every running total."""
        if not clean:
            return
        values = [b.sum for b in clean]
        # The step into a bucket is from the previous one's last value; none into the first.
        if not self._buckets:
            self._steps.append(0.0)
        firsts = clean if self._buckets else clean[1:]
        steps = [_step(before.last, b.first) for before, b in zip([*self._buckets[-1:], *clean], firsts)]
        def running(totals: list, items: Iterable) -> None:
            totals.extend(islice(accumulate(items, initial=totals[-1]), 1, None))

        running(self._counts, (b.count for b in clean))
        running(self._sums, values)
        running(self._increases, (b.increase for b in clean))
        running(self._steps, steps)
        self._buckets += clean
        self._starts += [b.start for b in clean]
        self._values += values
        self._mins = self._maxes = None

    def __len__(self) -> int:
        return len(self._buckets)

    @overload
    def __getitem__(self, index: int) -> Bucket: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Bucket]: ...
    def __getitem__(self, index: int | slice) -> Bucket | Sequence[Bucket]:
        return self._buckets[index]

    def __iter__(self) -> Iterator[Bucket]:
        return iter(self._buckets)

    def span(self, start: float, end: float) -> tuple[int, int]:
        """Index range `[i, j)` of the buckets whose start lies in `[start, end)`."""
        return bisect_left(self._starts, start), bisect_left(self._starts, end)

    def newest_before(self, instant: float) -> float | None:
        """The end of the newest bucket starting before `instant` (capped at it)."""
        j = bisect_left(self._starts, instant)
        return None if j == 0 else min(self._buckets[j - 1].end, instant)

    def _sum(self, i: int, j: int) -> float:
        if j - i <= _SMALL:
            return math.fsum(self._values[i:j])
        return self._sums[j] - self._sums[i]

    def _extreme(self, i: int, j: int, lowest: bool) -> float:
        if j - i <= _SMALL:
            buckets = self._buckets[i:j]
            return min(b.min for b in buckets) if lowest else max(b.max for b in buckets)
        if lowest:
            if self._mins is None:
                self._mins = _SparseTable([b.min for b in self._buckets], min)
            return self._mins.query(i, j)
        if self._maxes is None:
            self._maxes = _SparseTable([b.max for b in self._buckets], max)
        return self._maxes.query(i, j)

    def aggregate(self, how: str, start: float, end: float) -> float | None:
        """`how` over the window `[start, end)`; None when the window holds no sample."""
        i, j = self.span(start, end)
        if i >= j:
            return None
        if how == "sum":
            return self._sum(i, j)
        if how == "count":
            return float(self._counts[j] - self._counts[i])
        if how == "avg":
            count = self._counts[j] - self._counts[i]
            return self._sum(i, j) / count if count else None
        if how in ("min", "max"):
            return self._extreme(i, j, how == "min")
        if how == "first":
            return self._buckets[i].first
        if how == "last":
            return self._buckets[j - 1].last
        if how == "delta":
            return self._buckets[j - 1].last - self._buckets[i].first
        if how == "increase":
            inside = self._increases[j] - self._increases[i]
            return inside + self._steps[j] - self._steps[i + 1]
        raise ValueError(f"unknown aggregation {how!r}")


def _step(last: float, first: float) -> float:
    """A counter's increase from one bucket's last value to the next one's first.

    A drop means the counter was reset and restarted from zero, so the whole new value
    counts as increase (as Prometheus' `increase` does, without extrapolation).
    """
    return first - last if first >= last else first


def index_series(buckets: Sequence[Bucket]) -> SeriesIndex:
    """A `SeriesIndex` of `buckets` (returned as is when it already is one)."""
    return buckets if isinstance(buckets, SeriesIndex) else SeriesIndex(buckets)


def aggregate(buckets: Sequence[Bucket], how: str, start: float, end: float) -> float | None:
    """`how` of `buckets` over `[start, end)`; None for an empty window."""
    return index_series(buckets).aggregate(how, start, end)
