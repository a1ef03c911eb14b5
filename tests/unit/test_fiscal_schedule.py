"""Schedules keyed by fiscal labels load from the config and reach the engine."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from kputui.config import load_config_text
from kputui.kpi import evaluate
from kputui.series import Bucket

CONFIG = """\
version: 1
settings: {timezone: UTC, fiscal_year_start: "04-01"}
sources: {crm: {type: manual, series: {deals: {kind: event}}}}
kpis:
  - id: deals_fy
    formula: deals
    period: fiscal_year
    target: {schedule: {FY2027: 120}, default: 100}
  - id: deals_fq
    formula: deals
    period: fiscal_quarter
    target: {schedule: {FY2027-Q3: 30, FY2027: 999}, default: 25}
"""


def test_fiscal_labels_pick_their_targets() -> None:
    config = load_config_text(CONFIG, "fiscal.yaml")
    # 2026-12-04 lies in the fiscal year April 2026 - March 2027 (named FY2027), its third quarter.
    now = datetime(2026, 12, 4, 12, tzinfo=ZoneInfo("UTC")).timestamp()
    data = {"deals": [Bucket.of_sample(now - 3600, 7.0)]}
    states = {
        spec.id: evaluate(spec, data, now=now, calendar=config.settings.calendar, kinds=config.kinds)
        for spec in config.kpis
    }
    assert states["deals_fy"].target == 120
    assert states["deals_fq"].target == 30  # the quarter's own entry beats the year's
