"""Aggregations over windows: exact from samples or buckets, counter resets, robustness."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kputui.kpi.aggregate import AGGREGATIONS, SeriesIndex, aggregate, index_series
from kputui.series import Bucket

RAW = [Bucket.of_sample(t, v) for t, v in [(10, 1.0), (20, 5.0), (30, 10.0), (40, 2.0), (50, 7.0)]]


@pytest.mark.parametrize(
    ("how", "expected"),
    [
        ("sum", 25.0),  # 1 + 5 + 10 + 2 + 7
        ("avg", 5.0),  # 25 / 5
        ("min", 1.0),
        ("max", 10.0),
        ("first", 1.0),
        ("last", 7.0),
        ("count", 5.0),
        ("delta", 6.0),  # 7 - 1
        # 1 -> 5 -> 10: +9; reset to 2 counts as +2; 2 -> 7: +5. Total 16.
        ("increase", 16.0),
    ],
)
def test_aggregations_over_raw_samples(how: str, expected: float) -> None:
    assert aggregate(RAW, how, 0, 100) == expected


def test_windows_are_half_open_and_empty_ones_have_no_value() -> None:
    assert aggregate(RAW, "sum", 20, 40) == 15.0  # 5 + 10; the sample at 40 is outside
    assert aggregate(RAW, "count", 50, 51) == 1.0
    for how in AGGREGATIONS:
        assert aggregate(RAW, how, 60, 100) is None
        assert aggregate([], how, 0, 100) is None


def test_increase_inside_a_window_ignores_steps_from_outside() -> None:
    # Window [30, 50): 10 then 2 (a reset): only the reset's +2 is inside.
    assert aggregate(RAW, "increase", 30, 50) == 2.0


def test_bucket_increase_and_steps_between_buckets() -> None:
    # Bucket 1: 0 -> 8 (increase 8). Bucket 2 starts at 10 (+2 between), ends 3 after a reset
    # (its own increase is 3). Bucket 3 starts at 1 (< 3: a reset, +1), increase 4.
    buckets = [
        Bucket(0, 60, 3, 12, 0, 8, 0, 8, 8),
        Bucket(60, 120, 2, 13, 3, 10, 10, 3, 3),
        Bucket(120, 180, 2, 6, 1, 5, 1, 5, 4),
    ]
    assert aggregate(buckets, "increase", 0, 180) == 8 + 2 + 3 + 1 + 4
    assert aggregate(buckets, "avg", 0, 180) == pytest.approx(31 / 7)
    assert aggregate(buckets, "min", 0, 180) == 0 and aggregate(buckets, "max", 0, 180) == 10


@settings(max_examples=100, deadline=None)
@given(values=st.lists(st.floats(-1e9, 1e9), min_size=1, max_size=400), a=st.integers(0, 400), b=st.integers(0, 400))
def test_min_max_over_long_windows_match_a_scan(values, a, b) -> None:
    i, j = sorted((a, b))
    index = SeriesIndex([Bucket.of_sample(float(t), v) for t, v in enumerate(values)])
    inside = values[i:j]
    assert index.aggregate("min", i, j) == (min(inside) if inside else None)
    assert index.aggregate("max", i, j) == (max(inside) if inside else None)


def test_unusable_buckets_are_skipped_and_order_is_restored() -> None:
    nan = float("nan")
    buckets = [Bucket.of_sample(30, 3.0), Bucket.of_sample(10, 1.0), Bucket(20, 20, 1, nan, nan, nan, nan, nan)]
    index = index_series(buckets)
    assert [b.start for b in index] == [10, 30]
    assert index.aggregate("sum", 0, 100) == 4.0
    assert index_series(index) is index


def test_unknown_aggregation_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        aggregate(RAW, "median", 0, 100)


def test_long_windows_stay_exact_enough() -> None:
    # 100,000 samples of 0.1: the running totals must not drift visibly (a dashboard shows
    # 4-6 digits; 1e-9 leaves ample room), and short windows are summed exactly.
    index = SeriesIndex([Bucket.of_sample(float(i), 0.1) for i in range(100_000)])
    assert index.aggregate("sum", 50_000, 50_100) == pytest.approx(10.0, rel=1e-9)
    assert index.aggregate("sum", 50_000, 50_030) == math.fsum([0.1] * 30)
    assert index.aggregate("sum", 0, 100_000) == pytest.approx(10_000.0, rel=1e-9)


# -- properties ------------------------------------------------------------------------------

STEP = 60.0


def bucketed(samples: list[tuple[float, float]]) -> list[Bucket]:
    """Fold sorted samples into STEP-wide buckets the way the store does (independently)."""
    groups: dict[int, list[float]] = {}
    for time, value in samples:
        groups.setdefault(int(time // STEP), []).append(value)
    out = []
    for key in sorted(groups):
        values = groups[key]
        increase = 0.0
        for before, after in zip(values, values[1:]):
            increase += after - before if after >= before else after
        out.append(Bucket(key * STEP, (key + 1) * STEP, len(values), math.fsum(values),
                          min(values), max(values), values[0], values[-1], increase))
    return out


SAMPLES = st.lists(
    st.tuples(st.floats(0, 6000, allow_nan=False), st.floats(-1e6, 1e6, allow_nan=False)),
    min_size=0, max_size=200,
).map(lambda pairs: sorted(pairs, key=lambda p: p[0]))


@settings(max_examples=300, deadline=None)
@given(samples=SAMPLES, a=st.integers(0, 100), b=st.integers(0, 100), how=st.sampled_from(AGGREGATIONS))
def test_bucketed_and_raw_aggregation_agree(samples, a, b, how) -> None:
    start, end = sorted((a * STEP, b * STEP))
    raw = aggregate([Bucket.of_sample(t, v) for t, v in samples], how, start, end)
    folded = aggregate(bucketed(samples), how, start, end)
    if raw is None:
        assert folded is None
    else:
        assert folded == pytest.approx(raw, rel=1e-9, abs=1e-3)


@settings(max_examples=200, deadline=None)
@given(samples=SAMPLES, scale=st.floats(0.001, 1000), a=st.integers(0, 100), b=st.integers(0, 100))
def test_scaling_a_series_scales_its_aggregates(samples, scale, a, b) -> None:
    start, end = sorted((a * STEP, b * STEP))
    plain = [Bucket.of_sample(t, v) for t, v in samples]
    scaled = [Bucket.of_sample(t, v * scale) for t, v in samples]
    for how in ("sum", "avg", "min", "max", "last", "delta"):
        before, after = aggregate(plain, how, start, end), aggregate(scaled, how, start, end)
        if before is None:
            assert after is None
        else:
            assert after == pytest.approx(before * scale, rel=1e-9, abs=1e-6 * scale)


@settings(max_examples=100, deadline=None)
@given(
    values=st.lists(st.floats(-1e6, 1e6), min_size=0, max_size=120),
    cuts=st.lists(st.integers(0, 120), max_size=4),
    a=st.integers(0, 120),
    b=st.integers(0, 120),
)
def test_an_index_extended_in_steps_answers_as_one_built_at_once(values, cuts, a, b) -> None:
    buckets = [Bucket.of_sample(float(t), v) for t, v in enumerate(values)]
    whole = SeriesIndex(buckets)
    grown = SeriesIndex([])
    for lo, hi in zip([0, *sorted(cuts)], [*sorted(cuts), len(buckets)]):
        assert grown.extend(buckets[lo:hi])
    i, j = sorted((a, b))
    assert [x.start for x in grown] == [x.start for x in whole]
    for how in AGGREGATIONS:
        assert grown.aggregate(how, i, j) == whole.aggregate(how, i, j), how


def test_extending_with_older_buckets_is_refused_and_changes_nothing() -> None:
    index = SeriesIndex(RAW[2:])
    assert not index.extend(RAW[:2])
    assert [b.start for b in index] == [30, 40, 50]
    assert index.aggregate("increase", 0, 100) == 7.0  # 10 -> 2 is a reset (+2), 2 -> 7 is +5
    assert index.extend([Bucket(60, 60, 1, math.nan, math.nan, math.nan, math.nan, math.nan)])
    assert len(index) == 3  # unusable buckets are skipped here too
