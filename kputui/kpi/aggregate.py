"""Aggregations of one series over a window, exact from raw samples or from buckets.

A bucket belongs to the window its `start` falls in (a raw sample is a zero-width
bucket, so samples are placed exactly). `SeriesIndex` keeps running totals, so that
`sum`, `count`, `avg`, `first`, `last`, `delta` and `increase` over any window cost two
binary searches however long the history is; `min` and `max` scan the window's buckets.
Build the index once per series and reuse it across KPIs and windows.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Iterator, Sequence
from itertools import accumulate
from typing import Literal, overload

from kputui.series import Bucket

__all__ = ["AGGREGATIONS", "Aggregation", "SeriesIndex", "aggregate", "index_series"]

Aggregation = Literal["sum", "avg", "min", "max", "first", "last", "count", "delta", "increase"]
AGGREGATIONS: tuple[str, ...] = (
    "sum", "avg", "min", "max", "first", "last", "count", "delta", "increase",
)

_SMALL = 2048
"""Windows with at most this many buckets are summed exactly with `math.fsum`; longer
ones use the running totals (bounded cost, relative error near 1e-16 of the total)."""


def _usable(bucket: Bucket) -> bool:
    values = (bucket.sum, bucket.min, bucket.max, bucket.first, bucket.last, bucket.increase)
    return bucket.count > 0 and all(
        v is not None and math.isfinite(v) for v in values
    )


class SeriesIndex(Sequence[Bucket]):
    """A series' buckets sorted by start, with running totals for cheap windows."""

    __slots__ = ("_buckets", "_starts", "_values", "_counts", "_sums", "_increases", "_steps")

    def __init__(self, buckets: Sequence[Bucket]) -> None:
        clean = [b for b in buckets if _usable(b)]
        if any(a.start > b.start for a, b in zip(clean, clean[1:])):
            clean.sort(key=lambda b: b.start)
        self._buckets = clean
        self._starts = [b.start for b in clean]
        self._values = [b.sum for b in clean]
        self._counts = [0, *accumulate(b.count for b in clean)]
        self._sums = [0.0, *accumulate(self._values)]
        self._increases = [0.0, *accumulate(b.increase for b in clean)]
        steps = [0.0] + [_step(a.last, b.first) for a, b in zip(clean, clean[1:])]
        self._steps = [0.0, *accumulate(steps)]

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

    def aggregate(self, how: str, start: float, end: float) -> float | None:
        """`how` over the window `[start, end)`; None when the window holds no sample."""
        i, j = self.span(start, end)
        if i >= j:
            return None
        buckets = self._buckets
        if how == "sum":
            if j - i <= _SMALL:
                return math.fsum(self._values[i:j])
            return self._sums[j] - self._sums[i]
        if how == "count":
            return float(self._counts[j] - self._counts[i])
        if how == "avg":
            count = self._counts[j] - self._counts[i]
            total = self.aggregate("sum", start, end)
            return None if count == 0 or total is None else total / count
        if how == "min":
            return min(b.min for b in buckets[i:j])
        if how == "max":
            return max(b.max for b in buckets[i:j])
        if how == "first":
            return buckets[i].first
        if how == "last":
            return buckets[j - 1].last
        if how == "delta":
            return buckets[j - 1].last - buckets[i].first
        if how == "increase":
            inside = self._increases[j] - self._increases[i]
            between = self._steps[j] - self._steps[i + 1]
            return inside + between
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
