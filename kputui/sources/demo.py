"""Synthetic, deterministic series for the bundled demo and for tests.

Each series is a level with a yearly trend, weekly and daily seasonality and noise. Values
depend only on the seed, the series and the sample time, so history backfilled on one run
and samples polled on the next agree, and re-importing a time adds nothing new.

For an `event` series `base` is the mean amount per hour: a series without a unit is a
count (orders, sign-ups) drawn as whole numbers, one with a unit is an amount (revenue,
spend). For a `gauge` series `base` is the level itself (followers, queue depth).
"""

from __future__ import annotations

import math
import random
from typing import TYPE_CHECKING

from kputui.series import Sample
from kputui.sources.base import Source

if TYPE_CHECKING:
    from kputui.config import SeriesSpec

__all__ = ["DemoSource", "demo_value"]

HOUR = 3600.0
DAY = 24 * HOUR
WEEK = 7 * DAY
YEAR = 365.2425 * DAY
TREND_EPOCH = 1767225600.0
"""2026-01-01T00:00:00Z: the moment at which a series is at its `base` level."""
BACKFILL_STEP = HOUR
"""History is backfilled hourly, the current hour by the minute; live samples follow at
the source's interval."""
CATCH_UP_STEP = 60.0
MAX_LIVE_CATCH_UP = 10 * 60.0
"""A poll after a long pause fills at most this much at the live interval."""


def _shape(options: dict, time: float) -> float:
    """The noiseless multiplier of a series at `time`: trend times seasonality."""
    trend = 1.0 + float(options.get("trend", 0.0)) * (time - TREND_EPOCH) / YEAR
    # Weeks peak mid-week and dip at the weekend; days peak mid-afternoon (UTC).
    week_phase = 2 * math.pi * ((time + 3 * DAY) % WEEK) / WEEK
    weekly = 1.0 + float(options.get("weekly", 0.0)) * math.sin(week_phase)
    day_phase = 2 * math.pi * ((time - 9 * HOUR) % DAY) / DAY
    daily = 1.0 + float(options.get("daily", 0.0)) * math.sin(day_phase)
    return max(trend, 0.0) * max(weekly, 0.0) * max(daily, 0.0)


def _poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw; a rounded normal once the mean is large enough for it."""
    if mean <= 0:
        return 0
    if mean > 50:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def demo_value(seed: int, series: SeriesSpec, time: float, step: float) -> float:
    """The value of `series` for the sample at `time` covering `step` seconds."""
    options = dict(series.options)
    base = float(options.get("base", 1.0))
    noise = float(options.get("noise", 0.1))
    rng = random.Random(f"{seed}:{series.name}:{time:.3f}:{step:.3f}")
    level = base * _shape(options, time)
    if series.kind == "gauge":
        # A gauge wanders around its level; the noise is relative to the level.
        return round(level * (1.0 + rng.gauss(0.0, noise / 4)), 4) * series.scale
    mean = level * step / HOUR
    if series.unit is None:
        jittered = mean * max(0.0, 1.0 + rng.gauss(0.0, noise))
        return float(_poisson(rng, jittered)) * series.scale
    return round(max(0.0, mean * (1.0 + rng.gauss(0.0, noise))), 2) * series.scale


class DemoSource(Source):
    """Synthetic series: full history the moment the dashboard opens, then live samples."""

    def __init__(self, spec, **kwargs) -> None:
        super().__init__(spec, **kwargs)
        self._seed = int(spec.options.get("seed", 0))
        self._backfill = float(spec.options.get("backfill", 35 * DAY))
        self._next_time: float | None = None

    def _samples(self, start: float, end: float, step: float) -> list[Sample]:
        """Samples on the `step` grid in `[start, end)`."""
        first = math.ceil(start / step) * step
        count = max(0, math.ceil((end - first) / step))
        return [
            Sample(series.name, first + i * step, demo_value(self._seed, series, first + i * step, step))
            for i in range(count)
            for series in self.spec.series
        ]

    async def backfill(self, now: float, since: float | None) -> list[Sample]:
        """Hourly history, then minutes up to now; live polls take over from there.

        Only what is newer than `since` (the newest stored sample) is generated, so a
        restart after a pause fills the gap cheaply instead of re-creating history.
        """
        start = now - self._backfill
        if since is not None:
            start = max(start, since + 1.0)
        else:
            start = math.ceil(start / BACKFILL_STEP) * BACKFILL_STEP
        hourly_end = math.floor(now / BACKFILL_STEP) * BACKFILL_STEP
        minute_end = math.floor(now / CATCH_UP_STEP) * CATCH_UP_STEP
        hourly_start = math.ceil(start / BACKFILL_STEP) * BACKFILL_STEP
        samples = self._samples(start, min(hourly_start, minute_end), CATCH_UP_STEP)
        samples += self._samples(hourly_start, hourly_end, BACKFILL_STEP)
        samples += self._samples(max(hourly_end, hourly_start), minute_end, CATCH_UP_STEP)
        self._next_time = minute_end
        return samples

    async def poll(self, now: float) -> list[Sample]:
        step = self.spec.interval
        start = self._next_time if self._next_time is not None else now - step
        start = max(start, now - MAX_LIVE_CATCH_UP)
        samples = self._samples(start, now, step)
        if samples:
            self._next_time = samples[-1].time + step
        return samples
