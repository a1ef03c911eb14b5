"""`KpiState`: everything the UI and the exports show about one KPI at one moment."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

__all__ = ["STATUSES", "KpiState", "Status"]

Status = Literal["on_track", "at_risk", "off_track", "no_target", "no_data", "stale", "error"]
STATUSES: tuple[str, ...] = (
    "on_track", "at_risk", "off_track", "no_target", "no_data", "stale", "error",
)


@dataclass(frozen=True, slots=True)
class KpiState:
    """A KPI evaluated at one instant: value, comparison, target, pace and status."""

    id: str
    name: str
    objective: str
    value: float | None
    """The formula over the period so far; None when there is no value (see `reason`)."""
    formatted: str
    unit: str | None
    period_start: datetime
    """Start of the current period, aware, in the calendar's zone."""
    period_end: datetime
    """End of the current period (exclusive); for rolling windows: now."""
    period_label: str
    """E.g. "2026-03", "2026-W13", "FY2026-Q4", "rolling:24h"."""
    previous: float | None
    """The comparison window's value (aligned: March 1-10 vs February 1-10)."""
    formatted_previous: str
    change: float | None
    change_pct: float | None
    """Relative change as a share (0.12 is +12 %); None when previous is 0 or missing."""
    formatted_change: str
    target: float | None
    """The target in force; for `range` targets the upper bound (see low/high)."""
    formatted_target: str
    target_mode: str | None
    progress: float | None
    """value / target (for `range`: position between low 0 and high 1)."""
    expected: float | None
    """With linear pace: the share of the period elapsed, i.e. the progress due by now."""
    projected: float | None
    """With linear pace: the value expected at the end of the period."""
    status: Status
    reason: str
    """Why there is no value, or why the status is what it is, in plain words."""
    direction: str
    updated_at: datetime | None
    """Time of the newest sample the KPI read, in the calendar's zone."""
    sparkline: tuple[float | None, ...]
    """The formula per sub-period (hours of a day, days of a month...), oldest first."""
    elapsed: float | None = None
    """Share of the current period passed (1 for rolling windows)."""
    judged: bool = False
    """False when no verdict is given yet (no target, no data, or the pace grace share)."""
    target_low: float | None = None
    target_high: float | None = None
    verdict: str = ""
    """The reason as a line under the value shows it: without the value in front where
    it reads so ("below the floor of 3.00%"), else the reason itself."""

    def to_json(self) -> dict[str, Any]:
        """The export object of `kputui export --format json`."""
        return {
            "id": self.id,
            "name": self.name,
            "objective": self.objective,
            "value": self.value,
            "formatted": self.formatted,
            "unit": self.unit,
            "period_start": self.period_start.isoformat(),
            "period_end": self.period_end.isoformat(),
            "period_label": self.period_label,
            "previous": self.previous,
            "formatted_previous": self.formatted_previous,
            "change": self.change,
            "change_pct": self.change_pct,
            "formatted_change": self.formatted_change,
            "target": self.target,
            "target_low": self.target_low,
            "target_high": self.target_high,
            "formatted_target": self.formatted_target,
            "target_mode": self.target_mode,
            "progress": self.progress,
            "expected": self.expected,
            "projected": self.projected,
            "status": self.status,
            "judged": self.judged,
            "reason": self.reason,
            "direction": self.direction,
            "updated_at": None if self.updated_at is None else self.updated_at.isoformat(),
            "sparkline": list(self.sparkline),
        }
