"""The KPI states of a config, computed from the store and kept current cheaply.

The board is what the dashboard, `export` and `snapshot` read. It asks the store for the
history each KPI needs, hands it to the pure engine, and re-evaluates a KPI only when one
of its series changed or when time has moved far enough to matter.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kputui.kpi import SeriesIndex, evaluate, kpi_windows

if TYPE_CHECKING:
    from kputui.config import Config
    from kputui.kpi import KpiSpec, KpiState, KpiWindows, Window
    from kputui.store import SourceStatus, Store

__all__ = ["TIME_REFRESH", "Board"]

TIME_REFRESH = 10.0
"""Seconds after which every KPI is re-evaluated even without new data (periods move)."""

REREAD_AFTER = 3600.0
"""A kept series index reaching this many seconds further back than asked is read afresh."""


@dataclass(slots=True)
class _Kept:
    """A series' index kept between updates, and what is needed to bring it up to date."""

    start: float
    end: float
    revision: tuple
    position: int
    index: SeriesIndex


@dataclass(slots=True)
class _Points:
    """A KPI's sparkline points as last evaluated, and when they stay right."""

    spec: KpiSpec
    revisions: tuple
    stable_before: float
    """The earliest of its series' newest samples then: a sample appended since is later."""
    values: dict[Window, float | None]


def _failures(statuses: dict[str, SourceStatus]) -> dict[str, tuple]:
    """What of the sources' health the KPIs show: who fails, and why."""
    return {
        name: (s.consecutive_failures, s.last_error, s.failed_series)
        for name, s in statuses.items()
        if s.consecutive_failures
    }


class Board:
    """Current `KpiState`s of every KPI in a config."""

    def __init__(
        self,
        config: Config,
        store: Store,
        *,
        clock: Callable[[], float] = time.time,
        sparkline_points: int = 30,
    ) -> None:
        self.config = config
        self.store = store
        self.clock = clock
        self.sparkline_points = sparkline_points
        self.states: dict[str, KpiState] = {}
        """The latest state of each KPI by id, in config order."""
        self.statuses: dict[str, SourceStatus] = {}
        """The latest health of each source by name."""
        self._evaluated_at = float("-inf")
        self._kept: dict[str, _Kept] = {}
        self._points: dict[str, _Points] = {}

    def _source_error(self, spec: KpiSpec) -> str | None:
        """The last error of a failing source feeding `spec`, if any."""
        for name in sorted(spec.formula.series & self.config.series.keys()):
            status = self.statuses.get(self.config.series[name].source)
            if status is None or not status.consecutive_failures or not status.last_error:
                continue
            # A partial failure only touches the KPIs whose series delivered nothing.
            if status.failed_series is None or name in status.failed_series:
                return f"{status.source}: {status.last_error}"
        return None

    def _windows(self, spec: KpiSpec, now: float) -> KpiWindows:
        return kpi_windows(spec, now=now, calendar=self.config.settings.calendar,
                           sparkline_points=self.sparkline_points)

    def _indexes(self, plans: dict[str, tuple[KpiSpec, KpiWindows]]) -> dict[str, SeriesIndex]:
        """Each series the KPIs read, fetched and indexed once over the union of their ranges."""
        ranges: dict[str, tuple[float, float]] = {}
        for spec, windows in plans.values():
            start, end = windows.data_range
            for name in spec.formula.series:
                low, high = ranges.get(name, (start, end))
                ranges[name] = (min(low, start), max(high, end))
        return {name: self._index(name, *span) for name, span in ranges.items()}

    def _index(self, name: str, start: float, end: float) -> SeriesIndex:
        """The buckets of series `name` over (at least) `[start, end)`, indexed.

        The engine only ever asks an index for explicit windows, so an index reaching
        further back than `start` answers the same. One kept from an earlier update is
        reused while the store says nothing but new raw samples arrived since, and only
        those are appended: a series sampled every second is not re-read and re-indexed
        (thousands of buckets) every second.
        """
        kept = self._kept.get(name)
        revision = self.store.revision(name)
        if (
            kept is not None
            and kept.revision == revision
            and kept.start <= start < kept.start + REREAD_AFTER
        ):
            buckets, position = self.store.raw_after(name, kept.position, end)
            if kept.index.extend(buckets):
                kept.end, kept.position = end, position
                return kept.index
        index = SeriesIndex(self.store.window(name, start, end))
        position = self.store.raw_position(name, end)
        if revision is not None and position is not None and revision == self.store.revision(name):
            self._kept[name] = _Kept(start, end, revision, position, index)
        else:
            self._kept.pop(name, None)
        return index

    def evaluate_kpi(
        self,
        spec: KpiSpec,
        now: float,
        indexes: dict[str, SeriesIndex] | None = None,
        windows: KpiWindows | None = None,
    ) -> KpiState:
        """Evaluate one KPI from the store's history as of `now` (`indexes` and
        `windows` when the caller has them already)."""
        if windows is None:
            windows = self._windows(spec, now)
        if indexes is None:
            indexes = self._indexes({spec.id: (spec, windows)})
        names = sorted(spec.formula.series)
        latest = [s.time if s else -math.inf for s in map(self.store.latest, names)]
        newest = max(latest, default=-math.inf)
        # Sparkline points over windows that ended before the newest sample of the last
        # evaluation are the same, as long as nothing but appended samples came since.
        revisions = tuple(map(self.store.revision, names))
        kept = self._points.get(spec.id)
        known = None
        if kept is not None and kept.spec is spec and kept.revisions == revisions:
            known = {w: v for w, v in kept.values.items() if w.end <= kept.stable_before}
        calendar = self.config.settings.calendar
        state = evaluate(
            spec,
            indexes,
            now=now,
            calendar=calendar,
            kinds=self.config.kinds,
            last_sample_at=newest if newest > -math.inf else None,
            source_error=self._source_error(spec),
            sparkline_points=self.sparkline_points,
            known_points=known,
            windows=windows,
        )
        self._points[spec.id] = _Points(spec, revisions, min(latest, default=-math.inf),
                                        dict(zip(windows.sparkline, state.sparkline)))
        return state

    def update(self, changed: Iterable[str] | None = None, only: Iterable[str] | None = None) -> list[str]:
        """Re-evaluate what needs it and return the ids of KPIs whose state changed.

        `changed` names the series with new data (None: assume all). Every KPI is
        re-evaluated anyway once `TIME_REFRESH` seconds have passed, unless `only` limits
        the work to some KPI ids (then the caller decides when everything is due).
        """
        now = self.clock()
        statuses = self.store.statuses()
        # A status matters to KPIs only through its failures, not each success's time.
        due_by_time = only is None and now - self._evaluated_at >= TIME_REFRESH
        everything = changed is None or due_by_time or _failures(statuses) != _failures(self.statuses)
        self.statuses = statuses
        changed_series = set(changed or ())
        wanted = None if only is None else set(only)
        due = [
            spec
            for spec in self.config.kpis
            if (wanted is None or spec.id in wanted)
            and (everything or spec.id not in self.states or spec.formula.series & changed_series)
        ]
        plans = {spec.id: (spec, self._windows(spec, now)) for spec in due}
        indexes = self._indexes(plans)
        updated: list[str] = []
        for spec, windows in plans.values():
            state = self.evaluate_kpi(spec, now, indexes, windows)
            if self.states.get(spec.id) != state:
                self.states[spec.id] = state
                updated.append(spec.id)
        if everything and wanted is None:
            self._evaluated_at = now
        return updated
