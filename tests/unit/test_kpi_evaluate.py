"""Evaluating KPIs: values, comparisons, targets, pace, status and sparklines.

Each expected number is worked out by hand in a comment next to it.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kputui.kpi.evaluate import data_range, evaluate
from kputui.kpi.formula import parse_formula
from kputui.kpi.periods import parse_period
from kputui.kpi.spec import Calendar, FormatSpec, KpiSpec, TargetSpec
from kputui.series import Bucket

CAL = Calendar("Europe/Berlin")
KINDS = {"orders": "event", "visitors": "event", "error_ratio": "gauge", "followers": "gauge",
         "requests_total": "gauge"}


def at(*parts: int) -> float:
    return datetime(*parts, tzinfo=ZoneInfo("Europe/Berlin")).timestamp()  # type: ignore[misc]


def kpi(formula: str, period: str = "week", **kwargs) -> KpiSpec:
    return KpiSpec(id="k", name="K", formula=parse_formula(formula, KINDS),
                   period=parse_period(period), **kwargs)


def samples(*points: tuple[float, float]) -> list[Bucket]:
    return [Bucket.of_sample(t, v) for t, v in sorted(points)]


def run(spec: KpiSpec, data: dict, now: float, **kwargs):
    return evaluate(spec, data, now=now, calendar=CAL, kinds=KINDS, **kwargs)


# Wednesday 2026-03-11 12:00 in Berlin; the week began Monday 2026-03-09.
WED = at(2026, 3, 11, 12)


def test_a_ratio_of_sums_is_not_an_average_of_ratios() -> None:
    # Monday 10 orders / 100 visitors, Tuesday 1 / 900: 11 / 1000 = 0.011
    # (the average of the daily ratios would be (0.1 + 0.0011) / 2 = 0.05055).
    data = {"orders": samples((at(2026, 3, 9, 10), 10), (at(2026, 3, 10, 10), 1)),
            "visitors": samples((at(2026, 3, 9, 10), 100), (at(2026, 3, 10, 10), 900))}
    state = run(kpi("orders / visitors", format=FormatSpec("percent", 2)), data, WED)
    assert state.value == pytest.approx(0.011)
    assert state.formatted == "1.10%"
    assert state.status == "no_target"
    assert state.period_label == "2026-W11"
    assert state.period_start.isoformat() == "2026-03-09T00:00:00+01:00"


def test_division_by_zero_gives_no_value_with_a_reason() -> None:
    data = {"orders": samples((at(2026, 3, 9, 10), 5)), "visitors": samples((at(2026, 3, 9, 10), 0))}
    state = run(kpi("orders / visitors"), data, WED)
    assert state.value is None and state.formatted == "—"
    assert state.status == "no_data"
    assert "division by zero: visitors is 0" in state.reason


def test_an_empty_window_gives_no_value_not_zero() -> None:
    # Only last week's data: nothing this week.
    data = {"orders": samples((at(2026, 3, 4, 10), 5)), "visitors": []}
    state = run(kpi("orders"), data, WED)
    assert state.value is None
    assert state.status == "no_data" and "no data for orders" in state.reason
    assert state.previous == 5  # last week Mon-Wed 12:00 held the 5 orders of Wed 10:00


def test_change_against_the_aligned_previous_week() -> None:
    # This week Mon-Wed 12:00: 30 + 20 = 50. Last week Mon-Wed 12:00: 40;
    # last week's Wednesday 13:00 (10) is after the aligned point and is left out.
    data = {"orders": samples(
        (at(2026, 3, 2, 9), 40), (at(2026, 3, 4, 13), 10),
        (at(2026, 3, 9, 9), 30), (at(2026, 3, 11, 11), 20))}
    state = run(kpi("orders", format=FormatSpec("integer")), data, WED)
    assert (state.value, state.previous, state.change) == (50, 40, 10)
    assert state.change_pct == pytest.approx(0.25)  # 10 / 40
    assert state.formatted_change == "+10 (+25.0%)"


def test_change_from_zero_has_no_percent() -> None:
    data = {"orders": samples((at(2026, 3, 2, 9), 0), (at(2026, 3, 9, 9), 30))}
    state = run(kpi("orders", format=FormatSpec("integer")), data, WED)
    assert (state.previous, state.change, state.change_pct) == (0, 30, None)
    assert state.formatted_change == "+30"


def test_compare_with_the_same_period_last_year() -> None:
    # Week 11 of 2026 from Monday to Wednesday 12:00; 52 weeks back: 2025-03-10 .. 03-12 12:00.
    data = {"orders": samples((at(2025, 3, 11, 9), 8), (at(2025, 3, 12, 13), 100), (at(2026, 3, 10, 9), 12))}
    state = run(kpi("orders", compare="same_period_last_year"), data, WED)
    assert (state.value, state.previous) == (12, 8)


def test_sample_at_exactly_now_is_counted() -> None:
    data = {"orders": samples((WED, 7))}
    assert run(kpi("orders"), data, WED).value == 7


# -- targets -----------------------------------------------------------------------------


def orders_per_day(per_day: float, days: int) -> dict:
    """`per_day` orders at noon on April 1 .. April `days`, 2026."""
    return {"orders": samples(*((at(2026, 4, d, 12), per_day) for d in range(1, days + 1)))}


# April 11 00:00: 10 of April's 30 days have passed (no DST change in April): share 1/3.
APRIL_11 = at(2026, 4, 11)


@pytest.mark.parametrize(
    ("per_day", "status", "projected"),
    [
        (100, "on_track", 3000),  # 1000 so far / (1/3) = 3000 >= 3000
        (90, "at_risk", 2700),  # 900 * 3 = 2700: short, but within 15 % (at 2550 or more)
        (80, "off_track", 2400),  # 800 * 3 = 2400 < 2550
    ],
)
def test_reach_with_linear_pace_is_judged_on_the_projection(per_day, status, projected) -> None:
    spec = kpi("orders", "month", pace="linear", target=TargetSpec(mode="reach", value=3000, at_risk=0.85))
    state = run(spec, orders_per_day(per_day, 10), APRIL_11)
    assert state.projected == pytest.approx(projected)
    assert state.expected == pytest.approx(1 / 3)
    assert state.progress == pytest.approx(per_day * 10 / 3000)
    assert state.status == status and state.judged
    assert "projected" in state.reason
    assert state.verdict == state.reason  # about a projection: never without its subject


def test_no_verdict_in_the_grace_share() -> None:
    # April 2 00:00: 1/30 of the month has passed, below the 10 % grace share.
    spec = kpi("orders", "month", pace="linear", target=TargetSpec(mode="reach", value=3000))
    state = run(spec, orders_per_day(1, 1), at(2026, 4, 2))
    assert state.status == "on_track" and not state.judged
    assert "too early" in state.reason


def test_reach_without_pace_is_judged_on_the_value_so_far() -> None:
    spec = kpi("orders", "month", target=TargetSpec(mode="reach", value=3000))
    state = run(spec, orders_per_day(100, 10), APRIL_11)
    assert state.status == "off_track"  # 1000 of 3000, no projection
    assert state.projected is None and state.expected is None
    assert state.reason == "1,000 is well short of the target of 3,000"
    assert state.verdict == "well short of the target of 3,000"  # the line under the value


def test_the_verdict_keeps_its_subject_where_it_would_not_read_without_it() -> None:
    spec = kpi("orders", "month", target=TargetSpec(mode="reach", value=3000))
    state = run(spec, orders_per_day(400, 10), APRIL_11)
    assert state.verdict == state.reason == "4,000 reaches the target of 3,000"
    unjudged = run(kpi("orders", "month"), orders_per_day(1, 1), APRIL_11)
    assert unjudged.verdict == unjudged.reason == "no target set"


def test_a_ratio_projects_as_its_current_value() -> None:
    data = {**orders_per_day(3, 10), "visitors": samples(*((at(2026, 4, d, 12), 100) for d in range(1, 11)))}
    spec = kpi("orders / visitors", "month", pace="linear", target=TargetSpec(mode="reach", value=0.02))
    state = run(spec, data, APRIL_11)
    assert state.projected == pytest.approx(0.03) and state.expected is None
    assert state.status == "on_track"


@pytest.mark.parametrize(
    ("mode", "direction", "value", "status"),
    [
        # reach up, target 100, default at_risk 0.9: band 10 below the target.
        ("reach", "up", 100, "on_track"), ("reach", "up", 95, "at_risk"), ("reach", "up", 89, "off_track"),
        # reach down: reached at 100 or less; band 10 above it.
        ("reach", "down", 90, "on_track"), ("reach", "down", 105, "at_risk"), ("reach", "down", 120, "off_track"),
        # stay_above 100: below is off; 100..110 is a thin cushion.
        ("stay_above", "up", 99, "off_track"), ("stay_above", "up", 105, "at_risk"), ("stay_above", "up", 111, "on_track"),
        # stay_below 100: above is off; 90..100 is close to the ceiling.
        ("stay_below", "down", 101, "off_track"), ("stay_below", "down", 95, "at_risk"), ("stay_below", "down", 80, "on_track"),
    ],
)
def test_target_modes(mode, direction, value, status) -> None:
    data = {"followers": samples((at(2026, 3, 10, 9), value))}
    spec = kpi("followers", direction=direction, target=TargetSpec(mode=mode, value=100))
    state = run(spec, data, WED)
    assert state.status == status
    assert state.progress == pytest.approx(value / 100)


@pytest.mark.parametrize(("value", "status"), [(0.0005, "on_track"), (0.00085, "at_risk"), (0.0012, "off_track")])
def test_stay_below_with_at_risk_share_from_the_design(value, status) -> None:
    # stay_below 0.001, at_risk 0.8: at risk from 0.0008 (80 % of the ceiling).
    spec = kpi("avg(error_ratio)", "rolling:24h", direction="down",
               target=TargetSpec(mode="stay_below", value=0.001, at_risk=0.8))
    state = run(spec, {"error_ratio": samples((WED - 3600, value), (WED - 7200, value))}, WED)
    assert state.value == pytest.approx(value)
    assert state.status == status


@pytest.mark.parametrize(("value", "status", "progress"), [(15, "on_track", 0.5), (10.5, "at_risk", 0.05), (25, "off_track", 1.5)])
def test_range_target(value, status, progress) -> None:
    # range 10..20 with at_risk 0.8: band (1 - 0.8) * (20 - 10) / 2 = 1 inside each edge.
    spec = kpi("followers", target=TargetSpec(mode="range", low=10, high=20, at_risk=0.8))
    state = run(spec, {"followers": samples((at(2026, 3, 10, 9), value))}, WED)
    assert state.status == status
    assert state.progress == pytest.approx(progress)
    assert state.formatted_target == "10.0–20.0"


@pytest.mark.parametrize(
    ("schedule", "default", "target"),
    [
        ((("2026-04", 5000.0), ("2026-Q2", 4000.0), ("2026", 3000.0)), 1000.0, 5000),
        ((("2026-Q2", 4000.0), ("2026", 3000.0)), 1000.0, 4000),
        ((("2026", 3000.0),), 1000.0, 3000),
        ((("2026-05", 9000.0),), 1000.0, 1000),
    ],
)
def test_scheduled_targets_most_specific_label_first(schedule, default, target) -> None:
    spec = kpi("orders", "month", target=TargetSpec(schedule=schedule, default=default))
    assert run(spec, orders_per_day(100, 10), APRIL_11).target == target


def test_a_schedule_without_an_entry_or_default_means_no_target() -> None:
    spec = kpi("orders", "month", target=TargetSpec(schedule=(("2026-05", 9000.0),)))
    state = run(spec, orders_per_day(100, 10), APRIL_11)
    assert state.status == "no_target" and "2026-04" in state.reason


def test_growth_target_against_the_previous_period() -> None:
    # Last week Mon-Wed 12:00: 100 orders; +10 % growth: this week's target is 110 so far.
    data = {"orders": samples((at(2026, 3, 3, 9), 100), (at(2026, 3, 10, 9), 104))}
    spec = kpi("orders", target=TargetSpec(growth=0.1))
    state = run(spec, data, WED)
    assert state.target == pytest.approx(110)
    assert state.status == "at_risk"  # 104 >= 110 - 11


def test_growth_with_pace_uses_the_whole_previous_period() -> None:
    # All of March 2026: 31 days of 100 = 3100; +10 %: 3410. April so far (1/3): 1200 -> 3600.
    data = {"orders": samples(*((at(2026, 3, d, 12), 100) for d in range(1, 32)),
                              *((at(2026, 4, d, 12), 120) for d in range(1, 11)))}
    spec = kpi("orders", "month", pace="linear", target=TargetSpec(growth=0.1))
    state = run(spec, data, APRIL_11)
    assert state.target == pytest.approx(3410)
    assert state.projected == pytest.approx(3600)
    assert state.status == "on_track"


def test_growth_without_a_base_means_no_target() -> None:
    spec = kpi("orders", target=TargetSpec(growth=0.1))
    state = run(spec, {"orders": samples((at(2026, 3, 10, 9), 5))}, WED)
    assert state.status == "no_target" and "grow" in state.reason


# -- status precedence ---------------------------------------------------------------------


def test_error_beats_everything() -> None:
    spec = kpi("orders", target=TargetSpec(value=1), stale_after=60)
    state = run(spec, {"orders": []}, WED, source_error="HTTP 503 from shop")
    assert state.status == "error" and state.reason == "HTTP 503 from shop"


def test_no_data_beats_stale() -> None:
    spec = kpi("orders", target=TargetSpec(value=1), stale_after=60)
    assert run(spec, {"orders": []}, WED).status == "no_data"


def test_stale_when_the_newest_sample_is_too_old() -> None:
    spec = kpi("orders", target=TargetSpec(value=1), stale_after=3600)
    data = {"orders": samples((WED - 7200, 5))}
    state = run(spec, data, WED)
    assert state.status == "stale" and "2h" in state.reason
    assert state.updated_at is not None and state.updated_at.isoformat() == "2026-03-11T10:00:00+01:00"
    # The caller may know of a newer sample (e.g. of another value) than the data shows.
    assert run(spec, data, WED, last_sample_at=WED - 60).status == "on_track"


# -- sparkline, range, export -------------------------------------------------------------------


def test_sparkline_is_the_formula_per_day() -> None:
    # Mon 3/10, Tue 1/4 visitors, Wed (so far) 2/0 visitors -> no value.
    data = {"orders": samples((at(2026, 3, 9, 9), 3), (at(2026, 3, 10, 9), 1), (at(2026, 3, 11, 9), 2)),
            "visitors": samples((at(2026, 3, 9, 9), 10), (at(2026, 3, 10, 9), 4), (at(2026, 3, 11, 9), 0))}
    state = run(kpi("orders / visitors"), data, WED, sparkline_points=4)
    assert state.sparkline == (None, pytest.approx(0.3), pytest.approx(0.25), None)


def test_data_range_covers_what_evaluate_reads() -> None:
    spec = kpi("orders", "month", compare="same_period_last_year",
               target=TargetSpec(growth=0.1, vs="previous_period"))
    start, end = data_range(spec, now=APRIL_11, calendar=CAL, sparkline_points=30)
    # Last year's April began 2025-04-01 00:00 +02:00; that is the oldest window.
    assert start == at(2025, 4, 1)
    assert end > APRIL_11


def test_to_json_is_the_export_object() -> None:
    spec = kpi("orders", "month", pace="linear", target=TargetSpec(mode="reach", value=3000),
               format=FormatSpec("currency", currency="EUR"))
    state = run(spec, orders_per_day(100, 10), APRIL_11)
    doc = state.to_json()
    for key in ("id", "name", "value", "formatted", "unit", "period_start", "period_end", "previous",
                "change", "change_pct", "target", "target_mode", "progress", "projected", "status",
                "updated_at", "sparkline"):
        assert key in doc
    assert doc["value"] == 1000 and doc["formatted"] == "€1,000.00" and doc["unit"] == "EUR"
    assert doc["period_start"] == "2026-04-01T00:00:00+02:00"
    assert doc["period_end"] == "2026-05-01T00:00:00+02:00"
    assert doc["updated_at"] == "2026-04-10T12:00:00+02:00"
    assert doc["previous"] is None and doc["change"] is None
    assert isinstance(doc["sparkline"], list) and len(doc["sparkline"]) == 30
    assert doc["sparkline"][-1] is None  # April 11 so far: no order yet
    assert doc["sparkline"][-2] == 100


def test_the_engine_imports_no_ui_store_or_network() -> None:
    code = ("import sys, kputui.kpi; bad = [m for m in sys.modules if m.split('.')[0] in "
            "('textual', 'httpx', 'tinydb', 'plotext') or m.startswith('kputui.store')]; print(bad)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


# -- properties -----------------------------------------------------------------------------

HOURS = st.lists(st.tuples(st.integers(0, 24 * 14 - 1), st.integers(0, 10**6), st.integers(0, 10**6)), max_size=60)


def hourly(points, column: int) -> list[Bucket]:
    start = at(2026, 3, 1)
    merged: dict[int, float] = {}
    for point in points:
        merged[point[0]] = point[column]
    return samples(*((start + hour * 3600, value) for hour, value in merged.items()))


@settings(max_examples=150, deadline=None)
@given(points=HOURS, scale=st.floats(0.01, 100))
def test_scaling_series_scales_sums_and_keeps_ratios(points, scale) -> None:
    plain = {"orders": hourly(points, 1), "visitors": hourly(points, 2)}
    scaled = {name: [Bucket.of_sample(b.start, b.sum * scale) for b in buckets] for name, buckets in plain.items()}
    for formula, power in (("orders", 1), ("orders / visitors", 0), ("orders * visitors", 2)):
        before, after = run(kpi(formula), plain, WED), run(kpi(formula), scaled, WED)
        if before.value is None:
            assert after.value is None
        else:
            assert after.value == pytest.approx(before.value * scale**power, rel=1e-9, abs=1e-9)


EVENTS = st.lists(st.tuples(st.floats(at(2026, 2, 1), at(2026, 3, 12)), st.floats(-1e12, 1e12)), max_size=40)
TARGETS = st.one_of(
    st.none(),
    st.builds(TargetSpec, mode=st.sampled_from(["reach", "stay_above", "stay_below"]),
              value=st.floats(-1e6, 1e6), at_risk=st.one_of(st.none(), st.floats(0, 1))),
    st.builds(TargetSpec, mode=st.just("range"), low=st.floats(-10, 0), high=st.floats(0, 10)),
    st.builds(TargetSpec, growth=st.floats(-1, 1), vs=st.sampled_from(["previous_period", "same_period_last_year"])),
)


@settings(max_examples=200, deadline=None)
@given(orders=EVENTS, visitors=EVENTS, target=TARGETS,
       formula=st.sampled_from(["orders / visitors", "(orders - visitors) / visitors", "orders ** 2 / visitors",
                                "clamp(orders, visitors, 10)", "round(orders / 3, 2) * max(orders, visitors)"]),
       period=st.sampled_from(["day", "week", "month", "quarter", "year", "rolling:7d"]),
       pace=st.sampled_from(["linear", "none"]))
def test_evaluate_never_raises(orders, visitors, target, formula, period, pace) -> None:
    data = {"orders": samples(*orders), "visitors": samples(*visitors)}
    spec = kpi(formula, period, target=target, pace=pace, stale_after=86400.0)
    state = run(spec, data, WED)
    assert state.status in ("on_track", "at_risk", "off_track", "no_target", "no_data", "stale")
    assert (state.value is None) == (state.status == "no_data")
    assert state.reason
    state.to_json()
