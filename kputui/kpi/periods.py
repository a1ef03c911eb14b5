"""Calendar periods: which stretch of time a KPI covers, cut in the configured time zone.

Calendar periods (`day` ... `fiscal_year`) are numbered: period `k` starts at a local
midnight computed from `k` alone, so consecutive periods tile time without gaps or
overlaps, and DST days simply come out 23 or 25 hours long. Rolling periods
(`rolling:24h`) are a fixed number of seconds ending now.

All instants are Unix seconds (floats); a `Window` is the half-open `[start, end)`.
"""

from __future__ import annotations

import calendar as _calendar
import math
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import NamedTuple
from zoneinfo import ZoneInfo

from kputui.kpi.spec import Calendar

__all__ = [
    "CALENDAR_KINDS",
    "Period",
    "PeriodWindow",
    "Window",
    "current_period",
    "elapsed_share",
    "last_periods",
    "last_year_period",
    "last_year_to_date",
    "local_datetime",
    "parse_period",
    "period_label",
    "previous_period",
    "previous_to_date",
    "to_date",
]

CALENDAR_KINDS = (
    "day", "week", "month", "quarter", "year", "fiscal_quarter", "fiscal_year",
)
"""The calendar period kinds, finest first (fiscal ones after their calendar twins)."""

_MONTH_STEPS = {"month": 1, "quarter": 3, "year": 12, "fiscal_quarter": 3, "fiscal_year": 12}
_ROLLING = re.compile(r"rolling:([1-9][0-9]{0,5})([mhd])")
_UNIT_SECONDS = {"m": 60, "h": 3600, "d": 86400}
_MAX_ROLLING = 3 * 366 * 86400


class Window(NamedTuple):
    """A half-open stretch of time `[start, end)` in Unix seconds."""

    start: float
    end: float


class PeriodWindow(NamedTuple):
    """A whole period with its label, e.g. `("2026-03", start, end)`."""

    label: str
    start: float
    end: float


@dataclass(frozen=True, slots=True)
class Period:
    """A KPI's period as written in the config (`month`, `rolling:7d`)."""

    text: str
    kind: str
    """One of CALENDAR_KINDS, or `rolling`."""
    seconds: float = 0.0
    """The length of a rolling window; 0 for calendar periods."""

    @property
    def rolling(self) -> bool:
        """True for a window ending now rather than a calendar period."""
        return self.kind == "rolling"


def parse_period(text: str) -> Period:
    """Read a period from config text; raise ValueError with a human message."""
    cleaned = text.strip()
    if cleaned in CALENDAR_KINDS:
        return Period(cleaned, cleaned)
    match = _ROLLING.fullmatch(cleaned)
    if match is None:
        raise ValueError(
            f"unknown period {text!r}: expected one of {', '.join(CALENDAR_KINDS)} "
            "or rolling:<N>m|h|d, e.g. rolling:24h"
        )
    seconds = int(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    if seconds > _MAX_ROLLING:
        raise ValueError(f"rolling period {text!r} is longer than 3 years")
    return Period(cleaned, "rolling", float(seconds))


# -- calendar arithmetic on local dates --------------------------------------------


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _local(instant: float, cal: Calendar) -> datetime:
    """Local wall time of `instant`, truncated (not rounded) to the microsecond, so an
    instant a hair before midnight is never taken for the next day."""
    seconds = math.floor(instant)
    micros = min(int((instant - seconds) * 1e6), 999_999)
    local = datetime.fromtimestamp(seconds, _zone(cal.timezone)).replace(tzinfo=None)
    return local + timedelta(microseconds=micros)


def _instant(local: datetime, cal: Calendar) -> float:
    """Local wall time -> Unix seconds (a time skipped by DST maps past the gap)."""
    return local.replace(tzinfo=_zone(cal.timezone), fold=0).timestamp()


def _anchor(kind: str, cal: Calendar) -> tuple[int, int]:
    """(month 0-11 modulo the step, day) on which month-based periods start."""
    if kind.startswith("fiscal"):
        month, day = cal.fiscal_year_start
        return (month - 1) % _MONTH_STEPS[kind], day
    return 0, 1


def _month_start(months: int, day: int) -> date:
    year, month0 = divmod(months, 12)
    return date(year, month0 + 1, min(day, _calendar.monthrange(year, month0 + 1)[1]))


def _index(kind: str, day: date, cal: Calendar) -> int:
    """The number of the period of `kind` containing the local date `day`."""
    if kind == "day":
        return day.toordinal()
    if kind == "week":
        return (day.toordinal() - 1 - cal.week_start) // 7
    step = _MONTH_STEPS[kind]
    offset, anchor_day = _anchor(kind, cal)
    k = (day.year * 12 + day.month - 1 - offset) // step
    if day < _month_start(k * step + offset, anchor_day):
        k -= 1
    return k


def _start_date(kind: str, k: int, cal: Calendar) -> date:
    if kind == "day":
        return date.fromordinal(k)
    if kind == "week":
        return date.fromordinal(k * 7 + 1 + cal.week_start)
    step = _MONTH_STEPS[kind]
    offset, anchor_day = _anchor(kind, cal)
    return _month_start(k * step + offset, anchor_day)


@lru_cache(maxsize=4096)
def _start(kind: str, k: int, cal: Calendar) -> float:
    """The start of period `k` of `kind`: pure, and asked for every KPI on every tick."""
    return _instant(datetime.combine(_start_date(kind, k, cal), time()), cal)


def _shift_months(local: datetime, months: int, cal: Calendar) -> float:
    """`local` moved by whole months; a day the target month lacks becomes its end."""
    total = local.year * 12 + local.month - 1 + months
    year, month0 = divmod(total, 12)
    if local.day > _calendar.monthrange(year, month0 + 1)[1]:
        return _instant(datetime.combine(_month_start(total + 1, 1), time()), cal)
    return _instant(local.replace(year=year, month=month0 + 1), cal)


def _shift_days(local: datetime, days: int, cal: Calendar) -> float:
    return _instant(local + timedelta(days=days), cal)


# -- the public questions ------------------------------------------------------------


def current_period(period: Period, now: float, cal: Calendar) -> Window:
    """The whole period containing `now` (a rolling one ends at `now`)."""
    if period.rolling:
        return Window(now - period.seconds, now)
    k = _index(period.kind, _local(now, cal).date(), cal)
    return Window(_start(period.kind, k, cal), _start(period.kind, k + 1, cal))


def to_date(period: Period, now: float, cal: Calendar) -> Window:
    """The part of the current period up to `now`."""
    return Window(current_period(period, now, cal).start, now)


def previous_period(period: Period, now: float, cal: Calendar) -> Window:
    """The whole period before the current one."""
    if period.rolling:
        return Window(now - 2 * period.seconds, now - period.seconds)
    start = current_period(period, now, cal).start
    k = _index(period.kind, _local(start, cal).date(), cal)
    return Window(_start(period.kind, k - 1, cal), start)


def _aligned(whole: Window, moved: float) -> Window:
    return Window(whole.start, min(max(moved, whole.start), whole.end))


def previous_to_date(period: Period, now: float, cal: Calendar) -> Window:
    """The previous period up to the point matching `now`: March 1-10 -> February 1-10.

    Month-based periods move by whole months (March 31 -> the end of February), day and
    week periods by whole days, keeping the local time of day.
    """
    whole = previous_period(period, now, cal)
    if period.rolling:
        return whole
    local = _local(now, cal)
    if period.kind in _MONTH_STEPS:
        moved = _shift_months(local, -_MONTH_STEPS[period.kind], cal)
    else:
        moved = _shift_days(local, -1 if period.kind == "day" else -7, cal)
    return _aligned(whole, moved)


def last_year_period(period: Period, now: float, cal: Calendar) -> Window:
    """The same period one year earlier (weeks: 52 weeks back, same weekday)."""
    if period.rolling:
        return Window(now - 365 * 86400 - period.seconds, now - 365 * 86400)
    local = _local(now, cal)
    if period.kind == "week":
        k = _index("week", local.date(), cal) - 52
    elif period.kind == "day":
        k = _index("day", _local(_shift_months(local, -12, cal), cal).date(), cal)
        if local.month == 2 and local.day == 29:
            k -= 1
    else:
        k = _index(period.kind, local.date(), cal) - 12 // _MONTH_STEPS[period.kind]
    return Window(_start(period.kind, k, cal), _start(period.kind, k + 1, cal))


def last_year_to_date(period: Period, now: float, cal: Calendar) -> Window:
    """The same period last year up to the point matching `now` (Feb 29 -> Feb 28)."""
    whole = last_year_period(period, now, cal)
    if period.rolling:
        return whole
    local = _local(now, cal)
    if period.kind == "week":
        moved = _shift_days(local, -364, cal)
    elif period.kind == "day" and local.month == 2 and local.day == 29:
        moved = _instant(local.replace(year=local.year - 1, day=28), cal)
    else:
        moved = _shift_months(local, -12, cal)
    return _aligned(whole, moved)


def elapsed_share(period: Period, now: float, cal: Calendar) -> float:
    """How much of the current period has passed, 0..1 (always 1 for rolling windows)."""
    if period.rolling:
        return 1.0
    start, end = current_period(period, now, cal)
    return min(max((now - start) / (end - start), 0.0), 1.0)


def period_label(period: Period | str, instant: float, cal: Calendar) -> str:
    """The label of the period containing `instant`: "2026-12", "2026-W49", "FY2026-Q2".

    Weeks carry the ISO week of their middle day; a fiscal year is named after the
    calendar year in which it ends (with a January start both agree).
    """
    kind = period if isinstance(period, str) else period.kind
    if kind == "rolling":
        return period.text if isinstance(period, Period) else kind
    day = _local(instant, cal).date()
    if kind == "day":
        return day.isoformat()
    start = _start_date(kind, _index(kind, day, cal), cal)
    if kind == "week":
        iso = (start + timedelta(days=3)).isocalendar()
        return f"{iso.year}-W{iso.week:02d}"
    if kind == "month":
        return f"{start.year}-{start.month:02d}"
    if kind == "quarter":
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    if kind == "year":
        return str(start.year)
    year_k = _index("fiscal_year", day, cal)
    year_start = _start_date("fiscal_year", year_k, cal)
    name = _start_date("fiscal_year", year_k + 1, cal) - timedelta(days=1)
    if kind == "fiscal_year":
        return f"FY{name.year}"
    months = (start.year - year_start.year) * 12 + start.month - year_start.month
    return f"FY{name.year}-Q{months // 3 + 1}"


def last_periods(period: Period, now: float, cal: Calendar, count: int) -> list[PeriodWindow]:
    """The last `count` whole periods, oldest first, ending with the current one."""
    if period.rolling:
        end = now
        out = [PeriodWindow(period.text, end - (i + 1) * period.seconds, end - i * period.seconds)
               for i in range(count)]
        return out[::-1]
    k = _index(period.kind, _local(now, cal).date(), cal)
    result = []
    for j in range(k - count + 1, k + 1):
        start, end = _start(period.kind, j, cal), _start(period.kind, j + 1, cal)
        result.append(PeriodWindow(period_label(period, start, cal), start, end))
    return result


def local_datetime(instant: float, cal: Calendar) -> datetime:
    """An instant as an aware datetime in the calendar's zone."""
    return datetime.fromtimestamp(instant, _zone(cal.timezone))
