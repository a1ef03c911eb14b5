"""The demo source: deterministic, seasonal, gap-free between backfill and live polls."""

from __future__ import annotations

import statistics
from types import MappingProxyType

import pytest

from kputui.config import SeriesSpec, SourceSpec
from kputui.sources.demo import BACKFILL_STEP, CATCH_UP_STEP, DemoSource, demo_value

NOW = 1_780_000_000.0  # 2026-05-28T20:26:40Z


def series(name: str, kind: str = "event", unit: str | None = None, **options: float) -> SeriesSpec:
    return SeriesSpec(name=name, kind=kind, unit=unit, scale=1.0, source="demo", options=MappingProxyType(options))


def source(*specs: SeriesSpec, interval: float = 5.0, backfill: float = 3 * 86400, seed: int = 1) -> DemoSource:
    spec = SourceSpec(
        name="demo",
        type="demo",
        interval=interval,
        timeout=10.0,
        series=specs,
        options=MappingProxyType({"seed": seed, "backfill": backfill}),
    )
    return DemoSource(spec)


async def test_values_depend_only_on_seed_series_and_time() -> None:
    orders = series("orders", base=30.0, noise=0.3)
    first = await source(orders).backfill(NOW, None)
    again = await source(orders).backfill(NOW, None)
    assert first == again
    other_seed = await source(orders, seed=2).backfill(NOW, None)
    assert [s.value for s in other_seed] != [s.value for s in first]


async def test_backfill_is_hourly_then_by_the_minute_and_live_polls_continue_without_gap_or_overlap() -> None:
    demo = source(series("orders", base=30.0), interval=5.0)
    history = await demo.backfill(NOW, None)
    times = [s.time for s in history]
    assert times == sorted(times) and len(set(times)) == len(times)
    assert times[0] >= NOW - 3 * 86400
    steps = [b - a for a, b in zip(times, times[1:])]
    hourly_end = NOW - NOW % BACKFILL_STEP
    assert all(step == BACKFILL_STEP for step, t in zip(steps, times[1:]) if t < hourly_end)
    assert all(step == CATCH_UP_STEP for step, t in zip(steps, times[1:]) if t > hourly_end)
    assert times[-1] == NOW - NOW % 60 - 60  # the last whole minute before now
    live = await demo.poll(NOW)
    assert live[0].time == times[-1] + CATCH_UP_STEP
    assert all(b.time - a.time == 5.0 for a, b in zip(live, live[1:]))
    assert live[-1].time < NOW
    later = await demo.poll(NOW + 12)
    assert [s.time for s in later] == [live[-1].time + 5.0 * i for i in (1, 2, 3)]  # up to NOW + 10 < NOW + 12


async def test_restart_fills_the_gap_since_the_newest_stored_sample_cheaply() -> None:
    orders = series("orders", base=30.0)
    demo = source(orders, interval=5.0)
    stopped_at = NOW - 2.5 * 3600  # last run stopped two and a half hours ago
    history = await demo.backfill(NOW, stopped_at)
    live = await demo.poll(NOW)
    times = [s.time for s in history + live]
    assert times == sorted(times) and len(set(times)) == len(times)
    assert stopped_at < times[0] <= stopped_at + CATCH_UP_STEP
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert max(gaps) <= BACKFILL_STEP
    assert len(times) < 200  # minutes and hours, not 1800 five-second samples


async def test_what_a_pause_costs_adds_up_like_an_uninterrupted_run() -> None:
    """Event sums over the gap agree whatever the steps the gap was filled with."""
    orders = series("orders", base=360.0, noise=0.0)
    demo = source(orders, interval=5.0)
    history = await demo.backfill(NOW, NOW - 5 * 3600)
    # 360 per hour for about five hours: Poisson total ~1800 (sd ~42).
    assert sum(s.value for s in history) == pytest.approx(1800, rel=0.12)


def test_event_counts_are_whole_numbers_and_amounts_are_not() -> None:
    counts = [demo_value(0, series("orders", base=30.0), NOW + i * 3600, 3600) for i in range(48)]
    amounts = [demo_value(0, series("revenue", unit="EUR", base=900.0), NOW + i * 3600, 3600) for i in range(48)]
    assert all(value == int(value) and value >= 0 for value in counts)
    assert any(value != int(value) for value in amounts)


def test_event_rate_is_per_hour_whatever_the_step() -> None:
    orders = series("orders", base=40.0, noise=0.0)
    hourly = sum(demo_value(0, orders, NOW + i * 3600, 3600) for i in range(24 * 14))
    per_minute = sum(demo_value(0, orders, NOW + i * 60, 60) for i in range(60 * 24 * 14))
    # Both are Poisson totals with mean 40 * 24 * 14 = 13440 (sd ~116).
    assert hourly == pytest.approx(13440, rel=0.05)
    assert per_minute == pytest.approx(13440, rel=0.05)


def test_weekly_seasonality_moves_the_level() -> None:
    visitors = series("visitors", base=1000.0, weekly=0.4, noise=0.0)
    days = [
        statistics.mean(demo_value(0, visitors, NOW + day * 86400 + h * 3600, 3600) for h in range(24))
        for day in range(7)
    ]
    assert max(days) / min(days) > 1.5


def test_gauge_stays_near_its_level() -> None:
    followers = series("followers", kind="gauge", base=48_000.0, noise=0.01)
    values = [demo_value(0, followers, NOW + i * 3600, 3600) for i in range(100)]
    assert all(abs(v - 48_000) / 48_000 < 0.05 for v in values)
    assert len(set(values)) > 50
