"""What the detail view of a KPI shows, computed from the store without any UI.

- the course of the current period: the KPI "to date" at the end of each sub-period
  (hour of a day, day of a month ...), next to the same points of the previous period;
- the last periods, each with its value, target and status;
- every series in the formula with its own figure over the period and its latest sample;
- the health of the sources feeding it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kputui.kpi import (
    Window,
    compute,
    format_value,
    index_series,
    judge,
    last_periods,
    previous_to_date,
    schedule_labels,
    sparkline_windows,
    to_date,
)
from kputui.kpi.periods import local_datetime
from kputui.kpi.targets import scheduled_target

if TYPE_CHECKING:
    from datetime import datetime

    from kputui.board import Board
    from kputui.kpi import KpiSpec, KpiState, SeriesIndex
    from kputui.store import SourceStatus

__all__ = ["KpiDetail", "PastPeriod", "SeriesFigure", "kpi_detail"]

COURSE_POINTS = 48
"""Sub-periods drawn at most for the course of the current period."""
PAST_PERIODS = 8


@dataclass(frozen=True, slots=True)
class PastPeriod:
    """One whole period in the table of the detail view."""

    label: str
    value: float | None
    formatted: str
    target: float | None
    status: str
    """on_track, at_risk, off_track, no_target or no_data, judged on the period's value."""


@dataclass(frozen=True, slots=True)
class SeriesFigure:
    """One series of the formula: its figure over the period and its newest sample."""

    name: str
    kind: str
    source: str
    aggregation: str
    value: float | None
    latest: float | None
    latest_at: datetime | None
    unit: str | None


@dataclass(frozen=True, slots=True)
class KpiDetail:
    """Everything the detail view shows about one KPI."""

    spec: KpiSpec
    state: KpiState
    times: tuple[datetime, ...]
    """The ends of the sub-periods drawn, in the dashboard's zone."""
    course: tuple[float | None, ...]
    """The KPI to date at each of `times`."""
    previous_course: tuple[float | None, ...]
    """The previous period's value at the same points."""
    periods: tuple[PastPeriod, ...]
    series: tuple[SeriesFigure, ...]
    sources: tuple[SourceStatus | None, ...]


def _value(spec: KpiSpec, indexes: dict[str, SeriesIndex], window: Window) -> float | None:
    return compute(spec.formula, lambda name, how: indexes[name].aggregate(how, window.start, window.end)).value


def _target(spec: KpiSpec, state: KpiState, board: Board, instant: float) -> float | None:
    """The target of the period at `instant`: scheduled, fixed, or the current one."""
    target = spec.target
    if target is None:
        return None
    if target.schedule or target.default is not None:
        return scheduled_target(target, schedule_labels(spec.period, instant, board.config.settings.calendar))
    return target.value if target.value is not None else state.target


def kpi_detail(board: Board, kpi_id: str) -> KpiDetail:
    """Compute the detail of `kpi_id` as of the board's clock."""
    config = board.config
    spec = config.kpi(kpi_id)
    calendar = config.settings.calendar
    now = board.clock()
    state = board.states.get(kpi_id) or board.evaluate_kpi(spec, now)

    past = last_periods(spec.period, now, calendar, PAST_PERIODS)
    windows = sparkline_windows(spec.period, now, calendar, COURSE_POINTS)
    ends = [min(w.end, now) for w in windows if w.end > past[-1].start or spec.period.rolling]
    if not ends or ends[-1] < now:
        ends.append(now)
    # The earliest data needed: the oldest past period, or the comparison of the first point.
    start = min(past[0].start, previous_to_date(spec.period, ends[0], calendar).start)
    end = math.nextafter(now, math.inf)
    store = board.store
    indexes = {name: index_series(store.window(name, start, end)) for name in spec.formula.series}

    course = tuple(_value(spec, indexes, to_date(spec.period, t, calendar)) for t in ends)
    previous = tuple(_value(spec, indexes, previous_to_date(spec.period, t, calendar)) for t in ends)

    periods = []
    for window in past:
        value = _value(spec, indexes, Window(window.start, min(window.end, end)))
        target = _target(spec, state, board, window.start)
        label = window.label
        if spec.period.rolling:
            label = f"to {local_datetime(window.end, calendar):%d %b %H:%M}"
        if window is past[-1]:
            status = state.status  # the current period is judged as the dashboard judges it
        elif value is None:
            status = "no_data"
        elif spec.target is None or (target is None and spec.target.mode != "range"):
            status = "no_target"
        else:
            status = judge(spec.target, spec.direction, value, target, spec.format).status
        periods.append(PastPeriod(label, value, format_value(value, spec.format), target, status))

    current = to_date(spec.period, now, calendar)
    figures = []
    for name in sorted(spec.formula.series):
        series = config.series[name]
        how = "sum" if series.kind == "event" else "last"
        latest = store.latest(name)
        figures.append(
            SeriesFigure(
                name=name,
                kind=series.kind,
                source=series.source,
                aggregation=how,
                value=indexes[name].aggregate(how, current.start, current.end),
                latest=None if latest is None else latest.value,
                latest_at=None if latest is None else local_datetime(latest.time, calendar),
                unit=series.unit,
            )
        )
    source_names = sorted({config.series[name].source for name in spec.formula.series})
    return KpiDetail(
        spec=spec,
        state=state,
        times=tuple(local_datetime(t, calendar) for t in ends),
        course=course,
        previous_course=previous,
        periods=tuple(periods[::-1]),
        series=tuple(figures),
        sources=tuple(board.statuses.get(name) for name in source_names),
    )
