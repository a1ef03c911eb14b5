"""Durations as people write them in a config (`500ms`, `30s`, `5m`, `1h30m`, `2d`, `1w`),
and the moments they type on the command line or in the UI (ISO 8601).

A bare number means seconds. Every duration is a positive, finite number of seconds.
"""

from __future__ import annotations

import math
import re
from datetime import datetime

__all__ = ["UNITS", "format_duration", "parse_duration", "parse_instant"]

UNITS: dict[str, float] = {
    "ms": 0.001,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
    "d": 86400.0,
    "w": 604800.0,
}
"""Seconds per unit suffix."""

_NUMBER = r"\d+(?:\.\d+)?|\.\d+"
_PART = re.compile(rf"\s*({_NUMBER})\s*(ms|s|m|h|d|w)", re.ASCII)
_BARE = re.compile(rf"\s*({_NUMBER})\s*", re.ASCII)


def parse_duration(text: str | float) -> float:
    """Return the duration `text` in seconds.

    Accepts a number of seconds (`30`, `0.5`, or an int/float), or one or more
    number-unit parts (`500ms`, `1h30m`, `1d 12h`) with the units ms, s, m, h, d, w.

    Raises:
        ValueError: the text is not a duration, or it is not greater than zero.
    """
    if isinstance(text, bool):
        raise ValueError(f"expected a duration, got {text!r}")
    if isinstance(text, (int, float)):
        seconds = float(text)
    else:
        seconds = _parse_text(str(text))
    if not math.isfinite(seconds) or seconds <= 0:
        raise ValueError(f"a duration must be greater than zero, got {text!r}")
    return seconds


def _parse_text(text: str) -> float:
    bare = _BARE.fullmatch(text)
    if bare:
        return float(bare.group(1))
    total = 0.0
    position = 0
    seen: set[str] = set()
    while position < len(text):
        part = _PART.match(text, position)
        if part is None:
            if text[position:].strip() == "":
                break
            raise ValueError(
                f"expected a duration like 30s, 5m or 1h30m (units ms s m h d w), got {text!r}"
            )
        number, unit = part.groups()
        if unit in seen:
            raise ValueError(f"the unit {unit!r} appears twice in {text!r}")
        seen.add(unit)
        total += float(number) * UNITS[unit]
        position = part.end()
    if not seen:
        raise ValueError(f"expected a duration like 30s, 5m or 1h30m, got {text!r}")
    return total


def format_duration(seconds: float) -> str:
    """Write `seconds` in the largest units that divide it: 5400 -> `1h30m`."""
    if seconds <= 0 or not math.isfinite(seconds):
        return f"{seconds:g}s"
    millis = round(seconds * 1000)
    parts = []
    for unit in ("w", "d", "h", "m", "s", "ms"):
        size = round(UNITS[unit] * 1000)
        count, millis = divmod(millis, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or f"{seconds:g}s"


def parse_instant(text: str) -> float:
    """An ISO 8601 time as Unix seconds; one without an offset is in the machine's zone.

    Raises ValueError with a message fit for the user.
    """
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"expected an ISO 8601 time like 2026-12-04T09:30, got {text.strip()!r}") from None
    return (moment if moment.tzinfo else moment.astimezone()).timestamp()
