"""Tiers of exact buckets, aligned to local days, stored as columns per series per chunk.

Every accepted sample is added to the raw window *and* to one bucket of every tier, so
each tier is always complete for the span it keeps:

| tier | bucket | kept for | chunk (one file) |
| --- | --- | --- | --- |
| raw | one sample | 2 hours | the snapshot itself |
| `m5` | 5 minutes | 3 days | one local day |
| `h1` | 1 hour | 40 days | one local day |
| `d1` | 1 local day | 800 days | one local month |

Sub-day buckets are counted from local midnight in the store's time zone, so they nest
in local days even on 23- and 25-hour days and in zones offset by half an hour; daily
buckets are exactly the calendar's days, so every calendar period is a whole number of
buckets. A bucket's columns: `start, n, sum, min, max, first, last, inc` (the counter
increase inside the bucket, resets handled as Prometheus does) and `lt`, the time of
its last sample as an offset from `start`, which decides what may still be added.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from kputui.series import Bucket

__all__ = [
    "COLUMNS",
    "RAW_KEEP",
    "TIERS",
    "Calendar",
    "Chunk",
    "Columns",
    "Day",
    "Tier",
    "counter_increase",
    "make_bucket",
    "sample_bucket",
]

HOUR = 3600.0
DAY = 86400.0
RAW_KEEP = 2 * HOUR
"""How long raw samples are kept (measured back from the last checkpoint's clock)."""


@dataclass(frozen=True, slots=True)
class Tier:
    """One level of buckets."""

    name: str
    step: float | None
    """Bucket length in seconds; None for local days."""
    keep: float
    """How far back (seconds) this tier keeps buckets."""
    chunk: str
    """`day` or `month`: the span one chunk file covers."""


TIERS: tuple[Tier, ...] = (
    Tier("m5", 300.0, 3 * DAY, "day"),
    Tier("h1", HOUR, 40 * DAY, "day"),
    Tier("d1", None, 800 * DAY, "month"),
)
"""The bucket tiers, finest first."""

COLUMNS = ("start", "n", "sum", "min", "max", "first", "last", "inc", "lt")


def counter_increase(before: float | None, after: float | None) -> float:
    """How much a counter grew from `before` to `after`; a drop is a reset to zero."""
    if before is None or after is None:
        return 0.0
    return after - before if after >= before else after


@dataclass(frozen=True, slots=True)
class Day:
    """One local day: `[start, end)` in Unix seconds and its date."""

    start: float
    end: float
    date: date
    day_key: str
    """The day's chunk key, `YYYY-MM-DD`."""
    month_key: str
    """The month's chunk key, `YYYY-MM`."""


class Calendar:
    """Local days of one IANA time zone, cached."""

    def __init__(self, timezone: str) -> None:
        self.timezone = timezone
        self.zone = ZoneInfo(timezone)
        self._last = Day(0.0, 0.0, date(1970, 1, 1), "1970-01-01", "1970-01")
        self._days: dict[date, Day] = {}

    def midnight(self, day: date) -> float:
        """The instant local `day` begins."""
        return float(int(datetime(day.year, day.month, day.day, tzinfo=self.zone).timestamp()))

    def day_of_date(self, day: date) -> Day:
        """The local day `day`."""
        found = self._days.get(day)
        if found is None:
            found = Day(
                self.midnight(day),
                self.midnight(day + timedelta(days=1)),
                day,
                day.isoformat(),
                f"{day.year:04d}-{day.month:02d}",
            )
            if len(self._days) > 4096:
                self._days.clear()
            self._days[day] = found
        return found

    def day(self, t: float) -> Day:
        """The local day holding instant `t`."""
        last = self._last
        if last.start <= t < last.end:
            return last
        found = self.day_of_date(datetime.fromtimestamp(t, self.zone).date())
        if t < found.start:  # a day whose midnight does not exist locally
            found = self.day_of_date(found.date - timedelta(days=1))
        elif t >= found.end:
            found = self.day_of_date(found.date + timedelta(days=1))
        self._last = found
        return found

    def bucket_start(self, tier: Tier, t: float) -> float:
        """The start of `tier`'s bucket holding `t`."""
        day = self.day(t)
        if tier.step is None:
            return day.start
        return day.start + ((t - day.start) // tier.step) * tier.step

    def bucket_end(self, tier: Tier, start: float) -> float:
        """The end of `tier`'s bucket starting at `start`."""
        day = self.day(start)
        if tier.step is None:
            return day.end
        return min(start + tier.step, day.end)

    def chunk_key(self, tier: Tier, start: float) -> str:
        """The name of the chunk holding `tier`'s bucket starting at `start`."""
        day = self.day(start)
        return day.day_key if tier.chunk == "day" else day.month_key

    def chunk_span(self, tier: Tier, key: str) -> tuple[float, float]:
        """The `[start, end)` a chunk covers."""
        if tier.chunk == "day":
            day = self.day_of_date(date.fromisoformat(key))
            return day.start, day.end
        year, month = int(key[:4]), int(key[5:7])
        after = date(year + month // 12, month % 12 + 1, 1)
        return self.midnight(date(year, month, 1)), self.midnight(after)


_NEW = object.__new__
_SETTERS = tuple(
    getattr(Bucket, name).__set__
    for name in ("start", "end", "count", "sum", "min", "max", "first", "last", "increase")
)


def make_bucket(
    start: float, end: float, n: int, total: float, low: float, high: float,
    first: float, last: float, inc: float,
) -> Bucket:
    """`Bucket(...)` at half the cost of its frozen `__init__` (windows build many)."""
    bucket = _NEW(Bucket)
    s0, s1, s2, s3, s4, s5, s6, s7, s8 = _SETTERS
    s0(bucket, start)
    s1(bucket, end)
    s2(bucket, n)
    s3(bucket, total)
    s4(bucket, low)
    s5(bucket, high)
    s6(bucket, first)
    s7(bucket, last)
    s8(bucket, inc)
    return bucket


def sample_bucket(t: float, v: float) -> Bucket:
    """`Bucket.of_sample(t, v)`, faster."""
    return make_bucket(t, t, 1, v, v, v, v, v, 0.0)


class Columns:
    """One series' buckets in one chunk, as parallel lists sorted by `start`.

    `cache` holds the `Bucket` objects already built for windows; code that changes
    bucket `k` sets `cache[k] = None`.
    """

    __slots__ = (*COLUMNS, "cache")

    def __init__(self, data: dict[str, list[Any]] | None = None) -> None:
        for name in COLUMNS:
            setattr(self, name, list(data[name]) if data else [])
        if data and not all(len(getattr(self, name)) == len(self.start) for name in COLUMNS):
            raise ValueError("bucket columns of different lengths")
        self.cache: list[Bucket | None] = [None] * len(self.start)

    def __len__(self) -> int:
        return len(self.start)

    def to_doc(self) -> dict[str, list[Any]]:
        """The columns as a JSON-ready dict."""
        return {name: getattr(self, name) for name in COLUMNS}

    def find(self, start: float) -> int:
        """The index of the bucket starting at `start`, or -1."""
        starts = self.start
        if starts and starts[-1] == start:
            return len(starts) - 1
        i = bisect_left(starts, start)
        return i if i < len(starts) and starts[i] == start else -1

    def insert(self, start: float, t: float, v: float) -> None:
        """Add a bucket holding just the sample `(t, v)`."""
        i = bisect_left(self.start, start)
        for name, value in zip(COLUMNS, (start, 1, v, v, v, v, v, 0.0, t - start)):
            getattr(self, name).insert(i, value)
        self.cache.insert(i, None)

    def merge(self, start: float, other: Bucket, last_time: float) -> None:
        """Add a whole bucket whose samples all come after this bucket's (bulk loading)."""
        i = self.find(start)
        if i < 0:
            j = bisect_left(self.start, start)
            row = (start, other.count, other.sum, other.min, other.max, other.first,
                   other.last, other.increase, last_time - start)
            for name, value in zip(COLUMNS, row):
                getattr(self, name).insert(j, value)
            self.cache.insert(j, None)
            return
        self.cache[i] = None
        self.inc[i] += other.increase + counter_increase(self.last[i], other.first)
        self.n[i] += other.count
        self.sum[i] += other.sum
        self.min[i] = min(self.min[i], other.min)
        self.max[i] = max(self.max[i], other.max)
        self.last[i] = other.last
        self.lt[i] = last_time - start

    def buckets(self, lo: float, hi: float, end_of: Any) -> list[Bucket]:
        """The buckets starting in `[lo, hi)`; `end_of(start)` gives a bucket's end."""
        starts, cache = self.start, self.cache
        lo_i, hi_i = bisect_left(starts, lo), bisect_left(starts, hi)
        for i in range(lo_i, hi_i):
            if cache[i] is None:
                s = starts[i]
                cache[i] = make_bucket(s, end_of(s), self.n[i], self.sum[i], self.min[i],
                                       self.max[i], self.first[i], self.last[i], self.inc[i])
        return cache[lo_i:hi_i]  # type: ignore[return-value]


class Chunk:
    """The buckets of every series for one tier and one span: one file on disk."""

    def __init__(self, tier: Tier, key: str, series: dict[str, Columns] | None = None) -> None:
        self.tier = tier
        self.key = key
        self.series = series or {}
        self.dirty = False

    @classmethod
    def from_db(cls, tier: Tier, key: str, data: dict[str, Any]) -> Chunk:
        """A chunk from the TinyDB-format dict of its file."""
        series = {
            str(doc["series"]): Columns(doc)
            for doc in data.get("buckets", {}).values()
        }
        return cls(tier, key, series)

    def to_db(self, schema: int) -> dict[str, Any]:
        """The TinyDB-format dict for this chunk's file: tables `meta` and `buckets`."""
        docs = {
            str(i): {"series": name, **columns.to_doc()}
            for i, (name, columns) in enumerate(sorted(self.series.items()), start=1)
            if len(columns)
        }
        meta = {"schema": schema, "tier": self.tier.name, "key": self.key}
        return {"meta": {"1": meta}, "buckets": docs}

