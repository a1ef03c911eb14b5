"""Sparkline points: the KPI's period cut into consecutive sub-periods ending now.

Hours for a day, days for a week or month, weeks for quarters, months for years; a
rolling window is cut into equal slices on a fixed grid. Hours follow the zone's local hour (also in
half-hour zones) and DST days simply have 23 or 25 of them.
"""

from __future__ import annotations

import math
from datetime import datetime
from functools import lru_cache

from kputui.kpi.periods import Period, Window, _index, _local, _start, _zone
from kputui.kpi.spec import Calendar

__all__ = ["sparkline_windows"]

_SUB_KIND = {
    "day": "hour", "week": "day", "month": "day", "quarter": "week", "year": "month",
    "fiscal_quarter": "week", "fiscal_year": "month",
}


def _hour_phase(instant: float, cal: Calendar) -> float:
    offset = datetime.fromtimestamp(instant, _zone(cal.timezone)).utcoffset()
    return (offset.total_seconds() if offset else 0.0) % 3600


def _sub_window(kind: str, k: int, phase: float, cal: Calendar) -> Window:
    if kind == "hour":
        return Window(k * 3600 + phase, (k + 1) * 3600 + phase)
    return Window(_start(kind, k, cal), _start(kind, k + 1, cal))


def _sub_index(kind: str, instant: float, phase: float, cal: Calendar) -> int:
    if kind == "hour":
        return int((instant - phase) // 3600)
    return _index(kind, _local(instant, cal).date(), cal)


def sparkline_windows(period: Period, now: float, cal: Calendar, points: int) -> list[Window]:
    """`points` consecutive sub-periods ending with the one containing `now`.

    Hours for a day, days for a week or month, weeks for quarters, months for years; a
    rolling window is cut into `points` equal slices. The last window ends at `now`.
    """
    if points <= 0:
        return []
    if period.rolling:
        # Slices on a fixed grid, like the sub-periods of a calendar period: the past
        # points stay put as time passes and only the last, partial slice grows.
        width = period.seconds / points
        k = math.ceil(now / width) - 1
        return [Window(j * width, now if j == k else (j + 1) * width) for j in range(k - points + 1, k + 1)]
    kind = _SUB_KIND[period.kind]
    phase = _hour_phase(now, cal) if kind == "hour" else 0.0
    windows = list(_sub_windows(kind, _sub_index(kind, now, phase, cal), phase, cal, points))
    windows[-1] = Window(windows[-1].start, now)
    return windows


@lru_cache(maxsize=256)
def _sub_windows(kind: str, k: int, phase: float, cal: Calendar, points: int) -> tuple[Window, ...]:
    """Sub-periods `k - points + 1` to `k`: the same for every evaluation until the
    current sub-period ends, and local-calendar arithmetic is costly enough to keep."""
    return tuple(_sub_window(kind, j, phase, cal) for j in range(k - points + 1, k + 1))
