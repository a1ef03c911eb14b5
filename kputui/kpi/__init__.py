"""The pure KPI engine: periods, formulas, aggregations, targets, pace and formats.

Plain data in (a `KpiSpec`, series buckets, a clock), a `KpiState` out. Nothing here
imports Textual, the store or httpx, or does any I/O.
"""

from __future__ import annotations

from kputui.kpi.aggregate import AGGREGATIONS, SeriesIndex, aggregate, index_series
from kputui.kpi.compute import Outcome, compute
from kputui.kpi.evaluate import GRACE_SHARE, KpiWindows, data_range, evaluate, kpi_windows
from kputui.kpi.format import NO_VALUE, format_change, format_value, unit_of
from kputui.kpi.formula import Formula, parse_formula
from kputui.kpi.periods import (
    CALENDAR_KINDS,
    Period,
    PeriodWindow,
    Window,
    current_period,
    elapsed_share,
    last_periods,
    last_year_period,
    last_year_to_date,
    parse_period,
    period_label,
    previous_period,
    previous_to_date,
    to_date,
)
from kputui.kpi.sparkline import sparkline_windows
from kputui.kpi.spec import Calendar, FormatSpec, KpiSpec, TargetSpec
from kputui.kpi.state import STATUSES, KpiState, Status
from kputui.kpi.targets import DEFAULT_AT_RISK, judge, schedule_labels

__all__ = [
    "AGGREGATIONS",
    "CALENDAR_KINDS",
    "DEFAULT_AT_RISK",
    "GRACE_SHARE",
    "NO_VALUE",
    "STATUSES",
    "Calendar",
    "FormatSpec",
    "Formula",
    "KpiSpec",
    "KpiState",
    "KpiWindows",
    "Outcome",
    "Period",
    "PeriodWindow",
    "SeriesIndex",
    "Status",
    "TargetSpec",
    "Window",
    "aggregate",
    "compute",
    "current_period",
    "data_range",
    "elapsed_share",
    "evaluate",
    "format_change",
    "format_value",
    "index_series",
    "judge",
    "kpi_windows",
    "last_periods",
    "last_year_period",
    "last_year_to_date",
    "parse_formula",
    "parse_period",
    "period_label",
    "previous_period",
    "previous_to_date",
    "schedule_labels",
    "sparkline_windows",
    "to_date",
    "unit_of",
]
