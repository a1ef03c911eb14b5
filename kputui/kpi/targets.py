"""Targets: which one is in force for a period, and how a value is judged against it.

The `at_risk` share `r` (default 0.9) sets a warning band of width `(1 - r) * |target|`:

- `reach` (direction up): reached at `value >= target` (on_track); short of it by less
  than the band (with r = 0.9: 90-100 % of the target) is at_risk; further is off_track.
  With direction down the target is reached at `value <= target` and the band lies above.
- `stay_above`: below the floor is off_track; meeting it but within the band above it is
  at_risk (the cushion is thin).
- `stay_below`: above the ceiling is off_track; within the band below it is at_risk
  (`stay_below 0.001, at_risk: 0.8` warns from 0.0008, i.e. 80 % of the ceiling used).
- `range`: outside `[low, high]` is off_track; inside but within
  `(1 - r) * (high - low) / 2` of an edge is at_risk.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from kputui.kpi.format import format_value
from kputui.kpi.periods import CALENDAR_KINDS, Period, period_label
from kputui.kpi.spec import Calendar, FormatSpec, TargetSpec

__all__ = [
    "DEFAULT_AT_RISK", "Verdict", "judge", "progress_of", "schedule_labels", "scheduled_target",
]

DEFAULT_AT_RISK = 0.9
"""The at_risk share used when a target does not set one."""

_SIZE = {kind: i for i, kind in enumerate(
    ("day", "week", "month", "quarter", "fiscal_quarter", "year", "fiscal_year"))}


class Verdict(NamedTuple):
    """A status and the reason for it."""

    status: str
    reason: str
    phrase: str = ""
    """The reason without the value in front where it reads so ("below the floor of
    3.00%"), for a line under the value itself; otherwise the reason."""


def schedule_labels(period: Period, instant: float, cal: Calendar) -> list[str]:
    """Labels a schedule may key the period at `instant` by, most specific first.

    A month KPI in December 2026 tries "2026-12", "2026-Q4", "FY2027-Q3", "2026",
    "FY2027"; a day KPI tries its day first, then the week, the month and so on. Rolling
    windows use the labels of the day they end in.
    """
    size = 0 if period.rolling else _SIZE[period.kind]
    kinds = sorted((k for k in CALENDAR_KINDS if _SIZE[k] >= size), key=_SIZE.__getitem__)
    return [period_label(kind, instant, cal) for kind in kinds]


def scheduled_target(spec: TargetSpec, labels: list[str]) -> float | None:
    """The schedule's entry for the most specific matching label, else the default."""
    entries = dict(spec.schedule)
    for label in labels:
        if label in entries:
            return entries[label]
    return spec.default


def _band(spec: TargetSpec, size: float) -> float:
    share = DEFAULT_AT_RISK if spec.at_risk is None else spec.at_risk
    return max(0.0, 1.0 - share) * abs(size)


def judge(
    spec: TargetSpec,
    direction: str,
    value: float,
    target: float | None,
    fmt: FormatSpec,
    what: str = "",
) -> Verdict:
    """The status of `value` (or a projection, named by `what`) against the target."""
    show = lambda number: format_value(number, fmt)  # noqa: E731
    found = _predicate(spec, direction, value, target, show)
    if isinstance(found, Verdict):
        return found  # nothing to judge against
    status, predicate = found
    reason = f"{what}{show(value)} {predicate}"
    plain = not what and predicate.startswith("is ")
    return Verdict(status, reason, predicate.removeprefix("is ") if plain else reason)


def _predicate(
    spec: TargetSpec, direction: str, value: float, target: float | None, show: Callable[[float], str]
) -> tuple[str, str] | Verdict:
    """The status and what to say of the value ("is below the floor of 3.00%")."""
    if spec.mode == "range":
        low, high = spec.low, spec.high
        if low is None or high is None:
            return Verdict("no_target", "the range has no bounds", "the range has no bounds")
        if value < low or value > high:
            side = "below" if value < low else "above"
            return "off_track", f"is {side} the range {show(low)}–{show(high)}"
        band = _band(spec, (high - low) / 2)
        if value < low + band or value > high - band:
            return "at_risk", f"is near the edge of {show(low)}–{show(high)}"
        return "on_track", f"is within {show(low)}–{show(high)}"
    if target is None:
        return Verdict("no_target", "no target for this period", "no target for this period")
    band = _band(spec, target)
    if spec.mode == "stay_above":
        if value < target:
            return "off_track", f"is below the floor of {show(target)}"
        if value < target + band:
            return "at_risk", f"is just above the floor of {show(target)}"
        return "on_track", f"is above the floor of {show(target)}"
    if spec.mode == "stay_below":
        if value > target:
            return "off_track", f"is above the ceiling of {show(target)}"
        if value > target - band:
            return "at_risk", f"is close to the ceiling of {show(target)}"
        return "on_track", f"is below the ceiling of {show(target)}"
    if direction == "down":
        if value <= target:
            return "on_track", f"reaches the target of {show(target)} or less"
        if value <= target + band:
            return "at_risk", f"is just above the target of {show(target)}"
        return "off_track", f"is well above the target of {show(target)}"
    if value >= target:
        return "on_track", f"reaches the target of {show(target)}"
    if value >= target - band:
        return "at_risk", f"is just short of the target of {show(target)}"
    return "off_track", f"is well short of the target of {show(target)}"


def progress_of(spec: TargetSpec, value: float | None, target: float | None) -> float | None:
    """value / target, or for `range` the position from low (0) to high (1)."""
    if value is None:
        return None
    if spec.mode == "range":
        if spec.low is None or spec.high is None or spec.high == spec.low:
            return None
        return (value - spec.low) / (spec.high - spec.low)
    if target is None or target == 0:
        return None
    return value / target
