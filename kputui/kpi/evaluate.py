"""Evaluating a KPI: the formula over its period, comparison, target, pace and status.

Status precedence: `error` (the source failed) > `no_data` (no value) > `stale` (no
sample for longer than `stale_after`) > `no_target` > the target's verdict.

Pace (`pace: linear`): the elapsed share of the period is the progress expected by now.
An additive formula (sums of events, counts, increases and deltas, maybe scaled by
constants) is projected to the period's end as `value / elapsed share`; any other
formula (ratios, gauge levels) is projected as its current value. With pace the
verdict is given on the projection, for every target mode; in the first `GRACE_SHARE`
of the period no verdict is given: the status is `on_track` with `judged` False and the
reason "too early to judge". Growth targets apply to the comparison window aligned with now, or with pace to
the whole comparison period (the projection is compared with a whole period).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from kputui.kpi.aggregate import SeriesIndex, index_series
from kputui.kpi.compute import Outcome, compute
from kputui.kpi.format import NO_VALUE, format_change, format_value, unit_of
from kputui.kpi.periods import (
    Window, current_period, elapsed_share, last_year_period, last_year_to_date,
    local_datetime, period_label, previous_period, previous_to_date,
)
from kputui.kpi.sparkline import sparkline_windows
from kputui.kpi.spec import Calendar, Compare, FormatSpec, KpiSpec, TargetSpec
from kputui.kpi.state import KpiState
from kputui.kpi.targets import judge, progress_of, schedule_labels, scheduled_target
from kputui.series import Bucket, Kind

__all__ = ["GRACE_SHARE", "KpiWindows", "data_range", "evaluate", "kpi_windows"]

GRACE_SHARE = 0.1
"""With pace, no verdict is given before this share of the period has passed."""
_DURATION = FormatSpec(style="duration")


@dataclass(frozen=True, slots=True)
class KpiWindows:
    """Every window a KPI is evaluated over at one instant (see `kpi_windows`)."""

    current: Window
    whole: Window
    compare: Window
    growth: Window | None
    sparkline: list[Window]
    """The windows of the sparkline's points, oldest first."""
    cut: float

    @property
    def data_range(self) -> tuple[float, float]:
        """The `[start, end)` of history read over these windows."""
        starts = [self.current.start, self.compare.start, *(s.start for s in self.sparkline)]
        if self.growth is not None:
            starts.append(self.growth.start)
        return min(starts), self.cut


def _comparison(spec: KpiSpec, compare: Compare, now: float, cal: Calendar, whole: bool) -> Window:
    if compare == "same_period_last_year":
        return (last_year_period if whole else last_year_to_date)(spec.period, now, cal)
    return (previous_period if whole else previous_to_date)(spec.period, now, cal)


def kpi_windows(spec: KpiSpec, *, now: float, calendar: Calendar, sparkline_points: int = 30) -> KpiWindows:
    """The windows `evaluate` uses for `spec` at `now`: work them out once and hand
    them to `data_range` and `evaluate` when both are needed."""
    return _windows(spec, now, calendar, sparkline_points)


def _windows(spec: KpiSpec, now: float, cal: Calendar, points: int) -> KpiWindows:
    cut = math.nextafter(now, math.inf)
    whole = current_period(spec.period, now, cal)
    current = Window(whole.start, cut)
    if spec.period.rolling:
        whole = Window(whole.start, now)
    growth = None
    if spec.target is not None and spec.target.growth is not None:
        growth = _comparison(spec, spec.target.vs, now, cal, spec.pace == "linear")
    sparkline = sparkline_windows(spec.period, now, cal, points)
    if sparkline:
        sparkline[-1] = Window(sparkline[-1].start, cut)
    compare = _comparison(spec, spec.compare, now, cal, False)
    return KpiWindows(current, whole, compare, growth, sparkline, cut)


def data_range(
    spec: KpiSpec, *, now: float, calendar: Calendar, sparkline_points: int = 30
) -> tuple[float, float]:
    """The `[start, end)` of history `evaluate` reads, so the caller fetches it once."""
    return _windows(spec, now, calendar, sparkline_points).data_range


def evaluate(
    spec: KpiSpec,
    data: Mapping[str, Sequence[Bucket]],
    *,
    now: float,
    calendar: Calendar,
    kinds: Mapping[str, Kind],
    last_sample_at: float | None = None,
    source_error: str | None = None,
    sparkline_points: int = 30,
    known_points: Mapping[Window, float | None] | None = None,
    windows: KpiWindows | None = None,
) -> KpiState:
    """Evaluate `spec` at `now` over `data` (each formula series' buckets, by start).

    `kinds` is accepted for callers that evaluate formulas parsed elsewhere; the parsed
    formula already knows each bare series' aggregation. `known_points` are sparkline
    points the caller knows did not change since it last asked (their windows' data is
    the same): they are taken as they are. `windows` are `kpi_windows` of the same
    arguments, when the caller has them already. Never raises for bad data: empty
    windows and divisions by zero give no value and a reason.
    """
    del kinds
    w = windows if windows is not None else _windows(spec, now, calendar, sparkline_points)
    indexes = {name: index_series(data.get(name, ())) for name in spec.formula.series}
    fmt = spec.format
    label = period_label(spec.period, now, calendar)

    outcome = _compute(spec, indexes, w.current)
    value = outcome.value
    previous = _compute(spec, indexes, w.compare).value
    change = None if value is None or previous is None else value - previous
    change_pct = None if change is None or not previous else change / abs(previous)

    elapsed = elapsed_share(spec.period, now, calendar)
    pace = spec.pace == "linear"
    projected = expected = None
    if pace and value is not None:
        expected = elapsed if spec.formula.additive else None
        if not spec.formula.additive:
            projected = value
        elif elapsed > 0:
            projected = value / elapsed

    target_spec = spec.target
    target: float | None = None
    target_note = ""
    if target_spec is not None:
        if target_spec.growth is not None and w.growth is not None:
            base = _compute(spec, indexes, w.growth).value
            if base is None:
                target_note = "no value in the comparison period to grow from"
            else:
                target = base + abs(base) * target_spec.growth
        elif target_spec.schedule or target_spec.default is not None:
            target = scheduled_target(target_spec, schedule_labels(spec.period, now, calendar))
            if target is None:
                target_note = f"the schedule has no target for {label}"
        elif target_spec.mode == "range":
            target = target_spec.high
        else:
            target = target_spec.value

    updated = [t for t in (ix.newest_before(w.cut) for ix in indexes.values()) if t is not None]
    updated_at = max(updated) if updated else None
    freshest = last_sample_at if last_sample_at is not None else updated_at

    judged, phrase = False, None
    if source_error:
        status, reason = "error", source_error
    elif value is None:
        where = f"in the last {spec.period.text.split(':')[1]}" if spec.period.rolling else f"in {label} so far"
        status, reason = "no_data", f"{outcome.reason} {where}"
    elif spec.stale_after is not None and (freshest is None or now - freshest > spec.stale_after):
        status, reason = "stale", _stale_reason(now, freshest, spec.stale_after)
    elif target_spec is None:
        status, reason = "no_target", "no target set"
    elif target is None and target_spec.mode != "range":
        status, reason = "no_target", target_note or "no target for this period"
    elif pace and elapsed < GRACE_SHARE and not spec.period.rolling:
        status = "on_track"
        reason = f"too early to judge: {elapsed:.0%} of the period has passed"
    elif pace and projected is None:
        status, reason = "on_track", "too early to judge: the period has just begun"
    else:
        judged_value, what = (projected, "projected ") if pace and projected is not None else (value, "")
        status, reason, phrase = judge(target_spec, spec.direction, judged_value, target, fmt, what)
        judged = status != "no_target"

    known = known_points or {}
    sparkline = tuple(
        known[window] if window in known else _compute(spec, indexes, window).value for window in w.sparkline
    )
    zone_start = local_datetime(w.whole.start, calendar)
    return KpiState(
        id=spec.id,
        name=spec.name,
        objective=spec.objective,
        value=value,
        formatted=format_value(value, fmt),
        unit=unit_of(fmt),
        period_start=zone_start,
        period_end=local_datetime(w.whole.end, calendar),
        period_label=label,
        previous=previous,
        formatted_previous=format_value(previous, fmt),
        change=change,
        change_pct=change_pct,
        formatted_change=format_change(change, change_pct, fmt),
        target=target,
        formatted_target=_format_target(target_spec, target, fmt),
        target_mode=None if target_spec is None else target_spec.mode,
        progress=None if target_spec is None else progress_of(target_spec, value, target),
        expected=expected,
        projected=projected,
        status=status,  # type: ignore[arg-type]
        reason=reason,
        verdict=reason if phrase is None else phrase,
        direction=spec.direction,
        updated_at=None if updated_at is None else local_datetime(updated_at, calendar),
        sparkline=sparkline,
        elapsed=elapsed,
        judged=judged,
        target_low=None if target_spec is None else target_spec.low,
        target_high=None if target_spec is None else target_spec.high,
    )


def _compute(spec: KpiSpec, indexes: Mapping[str, SeriesIndex], window: Window) -> Outcome:
    start, end = window
    return compute(spec.formula, lambda name, how: indexes[name].aggregate(how, start, end))


def _format_target(target_spec: TargetSpec | None, target: float | None, fmt: FormatSpec) -> str:
    if target_spec is not None and target_spec.mode == "range":
        if target_spec.low is None or target_spec.high is None:
            return NO_VALUE
        return f"{format_value(target_spec.low, fmt)}–{format_value(target_spec.high, fmt)}"
    return format_value(target, fmt)


def _stale_reason(now: float, freshest: float | None, limit: float) -> str:
    limit_text = format_value(limit, _DURATION)
    if freshest is None:
        return f"no sample yet (stale after {limit_text})"
    return f"no new sample for {format_value(now - freshest, _DURATION)} (stale after {limit_text})"
