"""The store's contents in memory: raw samples of the recent past plus tiers of buckets.

Rules that keep every tier exact (see `tiers` for the tiers themselves):

- At or after the raw horizon every sample is kept raw, so a duplicate (same series,
  same time) is recognised and ignored, and a sample arriving out of order is added to
  its buckets exactly: its neighbours are known (the raw samples, plus `prev`, the last
  sample before the horizon), so `first`, `last` and `inc` stay right.
- Before the raw horizon only buckets remain, so a sample is added only if it is later
  than everything already in each bucket it falls into (backfill in time order works,
  re-importing the same data is ignored). Anything else is counted in `dropped`.
- Horizons only move at checkpoints, so replaying a journal gives the same result in
  every process, and replaying it twice changes nothing.
"""

from __future__ import annotations

import gc
import itertools
import math
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from kputui.series import Bucket, Sample
from kputui.store.tiers import (
    RAW_KEEP,
    TIERS,
    Calendar,
    Chunk,
    Columns,
    Tier,
    counter_increase,
    sample_bucket,
)

__all__ = ["History", "SeriesState", "TIME_RANGE", "freeze_long_lived", "paused_gc"]

TIME_RANGE = (0.0, 32503680000.0)
"""Sample times kputui accepts: from 1970 to the year 3000."""

Point = tuple[float, float]
KEEP_CHUNKS = 64
"""Chunks kept in memory before the least recently used clean ones are let go."""


@contextmanager
def paused_gc() -> Iterator[None]:
    """Hold back the cyclic GC while building many acyclic objects (buckets, parsed
    files): otherwise it rescans the whole history again and again, and reading gets
    slower the more history is loaded."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()

def freeze_long_lived() -> None:
    """Put every object alive now out of the cyclic GC's sight (`gc.freeze`).

    Call it once start-up has settled (the history read and backfilled): those objects
    live as long as the process, and each full collection rescanning them held the
    event loop for about 100 ms while freeing nothing. Reference counting still frees
    frozen objects that are let go."""
    gc.freeze()


ChunkLoader = Callable[[Tier, str], Chunk]
_serials = itertools.count()


class SeriesState:
    """One series' raw window and the two samples the rules above need."""

    __slots__ = ("edits", "last", "prev", "rb", "rt", "rv", "serial")

    def __init__(self) -> None:
        self.serial = next(_serials)
        """Unique to this object, so a reloaded series never passes for the old one."""
        self.edits = 0
        """Changes other than a raw sample appended after the others (see `revision`)."""
        self.rt: list[float] = []
        """Raw sample times, sorted."""
        self.rv: list[float | None] = []
        """Raw sample values (None: no value)."""
        self.rb: list[Bucket | None] = []
        """The raw samples as buckets, built when a window first asks."""
        self.prev: Point | None = None
        """The latest sample with a value before the raw horizon."""
        self.last: Point | None = None
        """The latest sample with a value."""

    def to_doc(self, name: str) -> dict[str, Any]:
        return {"name": name, "t": self.rt, "v": self.rv, "prev": self.prev, "last": self.last}

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> SeriesState:
        state = cls()
        state.rt = [float(t) for t in doc.get("t", [])]
        state.rv = [None if v is None else float(v) for v in doc.get("v", [])]
        if len(state.rt) != len(state.rv):
            raise ValueError(f"series {doc.get('name')!r}: raw columns of different lengths")
        state.rb = [None] * len(state.rt)
        state.prev = _point(doc.get("prev"))
        state.last = _point(doc.get("last"))
        return state


def _raw_buckets(state: SeriesState, i: int, j: int) -> list[Bucket]:
    """Raw samples `i` to `j` of a series as one-sample buckets, each built once."""
    rt, rv, rb = state.rt, state.rv, state.rb
    out: list[Bucket] = []
    for k in range(i, j):
        bucket = rb[k]
        if bucket is None:
            value = rv[k]
            if value is None:
                continue
            bucket = rb[k] = sample_bucket(rt[k], value)
        out.append(bucket)
    return out


def _point(value: Any) -> Point | None:
    return None if value is None else (float(value[0]), float(value[1]))


class History:
    """Raw samples, bucket chunks (loaded lazily through `load`), and the horizons."""

    def __init__(self, calendar: Calendar, load: ChunkLoader) -> None:
        self.calendar = calendar
        self.horizons: dict[str, float] = {"raw": -math.inf} | {t.name: -math.inf for t in TIERS}
        """Each tier is complete from its horizon on; older parts are gone or ignored."""
        self.series: dict[str, SeriesState] = {}
        self.chunks: dict[tuple[str, str], Chunk] = {}
        """Chunks in memory, by (tier name, key)."""
        self.stored: dict[tuple[str, str], str] = {}
        """Chunks on disk: file name by (tier name, key)."""
        self.dropped = 0
        """Samples refused: too late for their buckets, or times out of range."""
        self._load = load
        self._spans: dict[tuple[str, str], tuple[float, float]] = {}
        self._used: dict[tuple[str, str], int] = {}
        self._tick = 0

    # -- chunks -------------------------------------------------------------------------

    def chunk(self, tier: Tier, key: str) -> Chunk:
        """The chunk `(tier, key)`, loading it or starting an empty one."""
        ident = (tier.name, key)
        found = self.chunks.get(ident)
        if found is None:
            found = self._load(tier, key) if ident in self.stored else Chunk(tier, key)
            self.chunks[ident] = found
        self._tick += 1
        self._used[ident] = self._tick
        return found

    def forget_unused(self, keep: int = KEEP_CHUNKS) -> None:
        """Let go of the least recently used chunks that are saved on disk as they are."""
        if len(self.chunks) <= keep:
            return
        clean = [k for k, c in self.chunks.items() if not c.dirty and k in self.stored]
        clean.sort(key=lambda k: self._used.get(k, 0))
        for ident in clean[: len(self.chunks) - keep]:
            del self.chunks[ident]
            self._used.pop(ident, None)

    def _columns(self, tier: Tier, start: float, create: bool) -> Columns | None:
        chunk = self.chunk(tier, self.calendar.chunk_key(tier, start))
        columns = chunk.series.get(self._name)
        if columns is None and create:
            columns = chunk.series[self._name] = Columns()
        if create:
            chunk.dirty = True
        return columns

    def keys(self, tier: Tier, lo: float, hi: float) -> list[str]:
        """Keys of the chunks of `tier` that overlap `[lo, hi)`, in time order."""
        found = {key for (name, key) in self.stored if name == tier.name}
        found.update(key for (name, key) in self.chunks if name == tier.name)
        out = []
        for key in sorted(found):
            span = self._spans.get((tier.name, key))
            if span is None:
                span = self._spans[(tier.name, key)] = self.calendar.chunk_span(tier, key)
            if span[0] < hi and span[1] > lo:
                out.append(key)
        return out

    # -- adding -------------------------------------------------------------------------

    def add(self, name: str, t: float, v: float | None) -> bool:
        """Add one sample (value already cleaned); return whether anything changed."""
        if not TIME_RANGE[0] <= t < TIME_RANGE[1]:
            self.dropped += 1
            return False
        self._name = name
        state = self.series.get(name)
        if state is None:
            state = self.series[name] = SeriesState()
        if t >= self.horizons["raw"]:
            return self._add_raw(state, t, v)
        return self._add_late(state, t, v)

    def _add_raw(self, state: SeriesState, t: float, v: float | None) -> bool:
        rt, rv = state.rt, state.rv
        i = len(rt) if not rt or rt[-1] < t else bisect_left(rt, t)
        if i < len(rt) and rt[i] == t:
            if rv[i] is not None or v is None:
                return False
            rv[i] = v
            state.edits += 1
        else:
            if i < len(rt):
                state.edits += 1
            rt.insert(i, t)
            rv.insert(i, v)
            state.rb.insert(i, None)
        if v is None:
            return True
        before = next(((rt[j], rv[j]) for j in range(i - 1, -1, -1) if rv[j] is not None), None)
        p = before if before is not None else state.prev
        q = next(((rt[j], rv[j]) for j in range(i + 1, len(rt)) if rv[j] is not None), None)
        calendar = self.calendar
        for tier in TIERS:
            start = calendar.bucket_start(tier, t)
            columns = self._columns(tier, start, create=True)
            assert columns is not None
            k = columns.find(start)
            if k < 0:
                columns.insert(start, t, v)
                continue
            p_in = p if p is not None and p[0] >= start else None
            q_in = q if q is not None and q[0] < calendar.bucket_end(tier, start) else None
            pv = None if p_in is None else p_in[1]
            qv = None if q_in is None else q_in[1]
            columns.cache[k] = None
            columns.inc[k] += (
                counter_increase(pv, v) + counter_increase(v, qv) - counter_increase(pv, qv)
            )
            columns.n[k] += 1
            columns.sum[k] += v
            if v < columns.min[k]:
                columns.min[k] = v
            if v > columns.max[k]:
                columns.max[k] = v
            if p_in is None:
                columns.first[k] = v
            if q_in is None:
                columns.last[k] = v
                columns.lt[k] = t - start
        if state.last is None or t >= state.last[0]:
            state.last = (t, v)
        return True

    def _add_late(self, state: SeriesState, t: float, v: float | None) -> bool:
        if v is None:
            return False
        targets: list[tuple[Tier, float, Columns | None, int]] = []
        for tier in TIERS:
            if t < self.horizons[tier.name]:
                continue
            start = self.calendar.bucket_start(tier, t)
            columns = self._columns(tier, start, create=False)
            k = columns.find(start) if columns is not None else -1
            if columns is not None and k >= 0 and start + columns.lt[k] >= t:
                self.dropped += 1
                return False
            targets.append((tier, start, columns, k))
        if not targets:
            self.dropped += 1
            return False
        state.edits += 1
        for tier, start, columns, k in targets:
            if columns is None:
                columns = self._columns(tier, start, create=True)
                assert columns is not None
            else:
                self.chunk(tier, self.calendar.chunk_key(tier, start)).dirty = True
            if k < 0:
                columns.insert(start, t, v)
                continue
            columns.cache[k] = None
            columns.inc[k] += counter_increase(columns.last[k], v)
            columns.n[k] += 1
            columns.sum[k] += v
            columns.min[k] = min(columns.min[k], v)
            columns.max[k] = max(columns.max[k], v)
            columns.last[k] = v
            columns.lt[k] = t - start
        if state.prev is None or t > state.prev[0]:
            state.prev = (t, v)
        if state.last is None or t > state.last[0]:
            state.last = (t, v)
        return True

    def import_buckets(self, name: str, tier: Tier, items: Iterable[tuple[Bucket, float]]) -> int:
        """Bulk path: add whole buckets of `tier` (each with the time of its last sample),
        merged into every coarser tier, exactly as appending their samples in time order
        would. Buckets must come in time order, after everything the series already has,
        and before the raw horizon and the horizons of the finer tiers (call `prune`
        first so the horizons are set)."""
        self._name = name
        state = self.series.setdefault(name, SeriesState())
        state.edits += 1
        coarser = TIERS[TIERS.index(tier) :]
        count = 0
        for bucket, last_time in items:
            for level in coarser:
                if bucket.start < self.horizons[level.name]:
                    continue
                start = self.calendar.bucket_start(level, bucket.start)
                columns = self._columns(level, start, create=True)
                assert columns is not None
                columns.merge(start, bucket, last_time)
            point = (last_time, bucket.last)
            if state.last is None or last_time > state.last[0]:
                state.last = point
            if state.prev is None or last_time > state.prev[0]:
                state.prev = point
            count += 1
        return count

    # -- reading ------------------------------------------------------------------------

    def window(self, name: str, start: float, end: float) -> list[Bucket]:
        with paused_gc():
            found = self._window(name, start, end)
        self.forget_unused()
        return found

    def _window(self, name: str, start: float, end: float) -> list[Bucket]:
        """Buckets and raw samples of `name` in `[start, end)`, finest available first.

        A bucket belongs to the window when it starts inside it: exact whenever `start`
        and `end` fall on the boundaries of the tier that covers them (always true for
        local days, hours and 5-minute steps).
        """
        out: list[Bucket] = []
        h = self.horizons
        bounds = [h[t.name] for t in reversed(TIERS)] + [h["raw"]]
        for tier, lo, hi in zip(reversed(TIERS), bounds, bounds[1:]):
            a, b = max(start, lo), min(end, hi)
            if a >= b:
                continue
            end_of: Callable[[float], float] = lambda s, tier=tier: self.calendar.bucket_end(tier, s)
            for key in self.keys(tier, a, b):
                columns = self.chunk(tier, key).series.get(name)
                if columns is not None:
                    out.extend(columns.buckets(a, b, end_of))
        state = self.series.get(name)
        a = max(start, h["raw"])
        if state is not None and a < end:
            out += _raw_buckets(state, bisect_left(state.rt, a), bisect_left(state.rt, end))
        return out

    def revision(self, name: str) -> tuple | None:
        """What `name`'s windows depend on besides raw samples appended at the end: equal
        revisions mean that a window read before is still right, apart from the samples
        `raw_after` returns. None for a series the store does not have."""
        state = self.series.get(name)
        if state is None:
            return None
        return state.serial, state.edits, *self.horizons.values()

    def raw_position(self, name: str, end: float) -> int | None:
        """Where raw samples at or after `end` begin: the cursor for `raw_after`. None
        when `end` is before the raw horizon: a window to it cannot grow by raw samples."""
        if end < self.horizons["raw"]:
            return None
        state = self.series.get(name)
        return 0 if state is None else bisect_left(state.rt, end)

    def raw_after(self, name: str, position: int, end: float) -> tuple[list[Bucket], int]:
        """The raw samples from cursor `position` up to `end` (as buckets), and the cursor
        after them. Valid while `revision(name)` is what it was when `position` was taken."""
        state = self.series.get(name)
        if state is None:
            return [], position
        stop = max(position, bisect_left(state.rt, end))
        return _raw_buckets(state, position, stop), stop

    def latest(self, name: str) -> Sample | None:
        """The newest sample of `name` that has a value."""
        state = self.series.get(name)
        if state is None or state.last is None:
            return None
        return Sample(name, state.last[0], state.last[1])

    # -- keeping the size bounded -------------------------------------------------------

    def prune(self, now: float) -> list[tuple[str, str]]:
        """Move the horizons to `now` minus each tier's keep; return chunks dropped whole."""
        calendar, h = self.calendar, self.horizons
        m5, h1, d1 = TIERS
        moved = {
            "raw": calendar.bucket_start(m5, now - RAW_KEEP),
            "m5": calendar.bucket_start(h1, now - m5.keep),
            "h1": calendar.day(now - h1.keep).start,
            "d1": calendar.day(now - d1.keep).start,
        }
        for key, value in moved.items():
            h[key] = max(h[key], value)
        for state in self.series.values():
            i = bisect_left(state.rt, h["raw"])
            if not i:
                continue
            for j in range(i - 1, -1, -1):
                value = state.rv[j]
                if value is not None:
                    if state.prev is None or state.rt[j] > state.prev[0]:
                        state.prev = (state.rt[j], value)
                    break
            del state.rt[:i], state.rv[:i], state.rb[:i]
            state.edits += 1
        gone = []
        for tier in TIERS:
            for key in self.keys(tier, -math.inf, math.inf):
                if self.calendar.chunk_span(tier, key)[1] <= h[tier.name]:
                    gone.append((tier.name, key))
                    self.chunks.pop((tier.name, key), None)
        return gone

    def set_horizons(self, doc: dict[str, float | None]) -> None:
        for key in self.horizons:
            value = doc.get(key)
            self.horizons[key] = -math.inf if value is None else float(value)
