"""The numbers every layer passes around: samples and buckets of a series.

Times are Unix seconds (UTC) as floats everywhere below the UI; calendars and time zones
only matter where periods are computed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

__all__ = ["Bucket", "Kind", "Sample", "clean_value"]

Kind = Literal["event", "gauge"]
"""How a series adds up: `event` values sum over time, a `gauge` is a level."""


def clean_value(value: float | None) -> float | None:
    """Return `value` as a float, or None for no value (None, NaN, infinities)."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


@dataclass(frozen=True, slots=True)
class Sample:
    """One number from a source at one time."""

    series: str
    """The series' name, unique across the config."""
    time: float
    """Unix seconds, UTC."""
    value: float | None
    """The number; None when the source gave no usable value."""


@dataclass(frozen=True, slots=True)
class Bucket:
    """The exact summary of a series' samples in `[start, end)`.

    A raw sample is a bucket with `start == end == time` and `count == 1`. Every
    aggregation the engine offers can be computed exactly from a run of buckets.
    """

    start: float
    end: float
    count: int
    sum: float
    min: float
    max: float
    first: float
    last: float
    increase: float = 0.0
    """Counter increase inside the bucket, with resets handled as Prometheus does."""

    @classmethod
    def of_sample(cls, time: float, value: float) -> Bucket:
        """A bucket holding exactly one sample."""
        return cls(time, time, 1, value, value, value, value, value, 0.0)
