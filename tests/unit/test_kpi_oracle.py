"""An oracle: period sums, averages and last values against an independent computation.

A year of irregular samples in Europe/Berlin (DST both ways) is grouped by local day,
week and month twice: by a naive loop over `datetime.fromtimestamp`, and with pandas'
resampling when pandas is installed. The engine must agree with both.
"""

from __future__ import annotations

import math
import random
import warnings
from collections import defaultdict
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from kputui.kpi.aggregate import SeriesIndex
from kputui.kpi.evaluate import evaluate
from kputui.kpi.formula import parse_formula
from kputui.kpi.periods import last_periods, parse_period
from kputui.kpi.spec import Calendar, KpiSpec
from kputui.series import Bucket

ZONE = ZoneInfo("Europe/Berlin")
CAL = Calendar("Europe/Berlin")
START = datetime(2025, 1, 1, tzinfo=ZONE).timestamp()
END = datetime(2026, 1, 1, tzinfo=ZONE).timestamp()


def irregular_year(seed: int = 7) -> list[tuple[float, float]]:
    """About 17,000 samples with random gaps (seconds to hours) and random values."""
    rng = random.Random(seed)
    out, t = [], START
    while True:
        t += rng.expovariate(1 / 1800)
        if t >= END:
            return out
        out.append((t, round(rng.lognormvariate(3, 1), 3)))


SAMPLES = irregular_year()
INDEX = SeriesIndex([Bucket.of_sample(t, v) for t, v in SAMPLES])


def naive_groups(key) -> dict[object, list[float]]:
    groups: dict[object, list[float]] = defaultdict(list)
    for t, v in SAMPLES:
        groups[key(datetime.fromtimestamp(t, ZONE))].append(v)
    return groups


NAIVE_KEYS = {
    "day": lambda d: d.date(),
    "week": lambda d: d.date() - timedelta(days=d.weekday()),
    "month": lambda d: (d.year, d.month),
}


def naive_key_of(kind: str, start: float):
    return NAIVE_KEYS[kind](datetime.fromtimestamp(start, ZONE))


@pytest.mark.parametrize(("kind", "count"), [("day", 365), ("week", 52), ("month", 12)])
def test_periods_match_a_naive_loop(kind: str, count: int) -> None:
    groups = naive_groups(NAIVE_KEYS[kind])
    now = END - 1
    periods = last_periods(parse_period(kind), now, CAL, count)
    checked = 0
    for period in periods:
        values = groups.get(naive_key_of(kind, period.start), [])
        if not values:
            assert INDEX.aggregate("sum", period.start, period.end) is None
            continue
        assert INDEX.aggregate("sum", period.start, period.end) == pytest.approx(math.fsum(values), rel=1e-12)
        assert INDEX.aggregate("avg", period.start, period.end) == pytest.approx(math.fsum(values) / len(values))
        assert INDEX.aggregate("last", period.start, period.end) == values[-1]
        assert INDEX.aggregate("count", period.start, period.end) == len(values)
        checked += 1
    assert checked >= count - 3
    assert sum(len(v) for v in groups.values()) == len(SAMPLES)


@pytest.mark.parametrize(("kind", "rule", "count"), [("day", "D", 365), ("week", "", 52), ("month", "MS", 12)])
def test_periods_match_pandas_resampling(kind: str, rule: str, count: int) -> None:
    pd = pytest.importorskip("pandas")
    times = pd.to_datetime([t for t, _ in SAMPLES], unit="s", utc=True).tz_convert("Europe/Berlin")
    series = pd.Series([v for _, v in SAMPLES], index=times)
    if kind == "week":
        # Weeks Monday to Sunday, by local wall time: pandas' weekly periods ending Sunday.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "will drop timezone information": wanted here
            weeks = times.to_period("W-SUN")
        grouped = series.groupby(weeks.start_time)
    else:
        grouped = series.resample(rule, label="left", closed="left")
    sums, means, lasts = grouped.sum(), grouped.mean(), grouped.last()
    by_day = {stamp.date(): (sums[stamp], means[stamp], lasts[stamp]) for stamp in sums.index}
    for period in last_periods(parse_period(kind), END - 1, CAL, count):
        day = datetime.fromtimestamp(period.start, ZONE).date()
        expected = by_day.get(day)
        got = INDEX.aggregate("sum", period.start, period.end)
        if expected is None or math.isnan(expected[1]):
            assert got is None
            continue
        assert got == pytest.approx(expected[0], rel=1e-9)
        assert INDEX.aggregate("avg", period.start, period.end) == pytest.approx(expected[1], rel=1e-9)
        assert INDEX.aggregate("last", period.start, period.end) == expected[2]


def test_kpi_values_to_date_match_the_naive_loop() -> None:
    # October 2025 up to the 26th 12:00 (after the fall-back night), evaluated as KPIs.
    now = datetime(2025, 10, 26, 12, tzinfo=ZONE).timestamp()
    start = datetime(2025, 10, 1, tzinfo=ZONE).timestamp()
    values = [v for t, v in SAMPLES if start <= t < now]
    kinds = {"x": "event", "g": "gauge"}
    expected = {"x": math.fsum(values), "avg(x)": math.fsum(values) / len(values), "g": values[-1],
                "max(x)": max(values), "count(x)": len(values)}
    data = {"x": INDEX, "g": INDEX}
    for text, value in expected.items():
        spec = KpiSpec(id="k", name="k", formula=parse_formula(text, kinds), period=parse_period("month"))
        state = evaluate(spec, data, now=now, calendar=CAL, kinds=kinds)
        assert state.value == pytest.approx(value, rel=1e-12), text
