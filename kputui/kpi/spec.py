"""What a KPI is, as the config describes it: typed, frozen values the engine evaluates.

`kputui.config` builds these from YAML; the engine reads them. Nothing here does I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from kputui.kpi.formula import Formula
    from kputui.kpi.periods import Period

__all__ = [
    "Calendar",
    "Compare",
    "Direction",
    "FormatSpec",
    "FormatStyle",
    "KpiSpec",
    "Pace",
    "TargetMode",
    "TargetSpec",
]

Direction = Literal["up", "down"]
"""`up`: higher is better; `down`: lower is better."""
TargetMode = Literal["reach", "stay_above", "stay_below", "range"]
Compare = Literal["previous_period", "same_period_last_year"]
Pace = Literal["linear", "none"]
FormatStyle = Literal["number", "integer", "percent", "currency", "duration", "bytes"]


@dataclass(frozen=True, slots=True)
class Calendar:
    """How calendar periods are cut: time zone, first day of the week, fiscal year."""

    timezone: str = "UTC"
    """An IANA zone name."""
    week_start: int = 0
    """0 is Monday ... 6 is Sunday."""
    fiscal_year_start: tuple[int, int] = (1, 1)
    """(month, day) on which the fiscal year starts."""


@dataclass(frozen=True, slots=True)
class FormatSpec:
    """How a KPI's value is written."""

    style: FormatStyle = "number"
    decimals: int | None = None
    """Digits after the point; None picks a sensible number for the style."""
    currency: str | None = None
    """ISO 4217 code for the `currency` style, e.g. EUR."""
    compact: bool = False
    """Use SI suffixes (12.3k, 4.5M)."""
    unit: str | None = None
    """Text written after the number (for `number` and `integer`)."""


@dataclass(frozen=True, slots=True)
class TargetSpec:
    """The attainable target of a KPI and how it is judged.

    Exactly one of `value`, `schedule`, `growth` (or `low`/`high` for `range`) is set.
    """

    mode: TargetMode = "reach"
    value: float | None = None
    """A fixed target."""
    schedule: tuple[tuple[str, float], ...] = ()
    """Per-period targets keyed by period label ("2026-12", "2026-Q4", "2026-W49",
    "2026", "2026-12-04"), tried in that order of specificity."""
    default: float | None = None
    """The target of periods missing from `schedule`."""
    growth: float | None = None
    """Target as growth over a comparison period: 0.1 is +10 %."""
    vs: Compare = "previous_period"
    """The comparison period that `growth` applies to."""
    low: float | None = None
    high: float | None = None
    """Bounds of a `range` target."""
    at_risk: float | None = None
    """Share r in (0, 1) where the warning band starts: it is (1 - r) of the target wide,
    e.g. `stay_below` with 0.8 warns from 80 % of the ceiling (see kputui.kpi.targets)."""


@dataclass(frozen=True, slots=True)
class KpiSpec:
    """One KPI: a formula over series, a period, a target and how to show it."""

    id: str
    name: str
    formula: Formula
    period: Period
    objective: str = ""
    format: FormatSpec = field(default_factory=FormatSpec)
    direction: Direction = "up"
    target: TargetSpec | None = None
    compare: Compare = "previous_period"
    pace: Pace = "none"
    stale_after: float | None = None
    """Seconds without a new sample after which the KPI is stale; None: never."""
    owner: str = ""
    tags: tuple[str, ...] = ()
