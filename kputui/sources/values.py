"""Turning what a source sent into numbers and times, once, with errors that say where.

Every source type parses at its edge with these: `to_number` for a value, `to_time` for
a time, `quote` to show a bad value briefly, `redact_url` so that no URL in a message
carries a secret, and `secrets_of` for the collector to blank secrets out of any text.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from datetime import datetime, timezone
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from kputui.config import SourceSpec

__all__ = [
    "TIME_RANGE",
    "ValueProblem",
    "blank_out",
    "quote",
    "redact_url",
    "secrets_of",
    "size_text",
    "to_number",
    "to_time",
]

TIME_RANGE = (0.0, 32503680000.0)
"""Sample times kputui accepts: from 1970 to the year 3000."""
SECRET_NAME = re.compile(r"token|key|secret|pass|pwd|auth|credential|signature|session", re.I)
"""Names of query parameters, headers and variables whose values are secrets."""
MIN_SECRET = 4
"""Shorter values are not blanked out of messages (they would garble ordinary words)."""


class ValueProblem(ValueError):
    """A value or time is unusable; the message says why, without saying where."""


def quote(value: Any, limit: int = 40) -> str:
    """`value` shown briefly in single quotes, cut to `limit` characters."""
    text = value if isinstance(value, str) else repr(value)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return f"'{text}'"


def to_number(value: Any, *, text_ok: bool = False) -> float:
    """`value` as a finite float.

    JSON numbers pass; booleans, NaN, infinities and (unless `text_ok`, for CSV cells and
    command output) text are a `ValueProblem`.
    """
    if isinstance(value, bool):
        raise ValueProblem(f"{str(value).lower()} is a boolean, not a number")
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str) and text_ok:
        try:
            number = float(value.strip())
        except ValueError:
            raise ValueProblem(f"{quote(value)} is not a number") from None
    elif isinstance(value, str):
        raise ValueProblem(f"{quote(value)} is text, not a number (to_number() in the path converts it)")
    elif value is None:
        raise ValueProblem("null is not a number")
    else:
        kind = "a list" if isinstance(value, list) else "an object" if isinstance(value, dict) else type(value).__name__
        raise ValueProblem(f"{kind} is not a number")
    if math.isnan(number):
        raise ValueProblem("NaN is not a number")
    if math.isinf(number):
        raise ValueProblem("infinity is not a number")
    return number


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def to_time(value: Any, zone: str = "UTC", time_format: str | None = None) -> float:
    """`value` as Unix seconds: epoch seconds, ISO 8601 text, or text in `time_format`.

    Times without an offset are read in `zone`.
    """
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str) and value.strip():
        text = value.strip()
        try:
            if time_format:
                moment = datetime.strptime(text, time_format)
            else:
                try:
                    seconds = float(text)
                except ValueError:
                    moment = datetime.fromisoformat(text.replace("z", "Z"))
                else:
                    return _in_range(seconds, value)
        except ValueError:
            expected = f"in the format {time_format}" if time_format else "ISO 8601 or epoch seconds"
            raise ValueProblem(f"time {quote(value)} is not {expected}") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=_zone(zone))
        seconds = moment.timestamp()
    else:
        raise ValueProblem(f"time {quote(value)} is not ISO 8601 text or epoch seconds")
    return _in_range(seconds, value)


def _in_range(seconds: float, value: Any) -> float:
    if not (math.isfinite(seconds) and TIME_RANGE[0] <= seconds <= TIME_RANGE[1]):
        raise ValueProblem(f"time {quote(value)} is outside 1970 to 3000 (epoch seconds expected)")
    return seconds


def size_text(size: int) -> str:
    """A byte count in words: `10 MB`, `512 kB`, `300 bytes`."""
    for unit, factor in (("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if size >= factor:
            return f"{size / factor:g} {unit}"
    return f"{size} bytes"


def redact_url(url: str) -> str:
    """`url` without its userinfo and with secret-looking query values replaced by `***`."""
    try:
        parts = urlsplit(str(url))
    except ValueError:
        return "<invalid URL>"
    netloc = parts.netloc.rpartition("@")[2]
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(SECRET_NAME.search(key) for key, _ in pairs):
            query = urlencode([(k, "***" if SECRET_NAME.search(k) else v) for k, v in pairs], safe="*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def secrets_of(spec: SourceSpec) -> set[str]:
    """Every text in `spec` that may be a secret: header and auth values, secret-named
    params and env values, and the userinfo and secret query values of its URL."""
    options = spec.options
    found: list[str] = []
    found += [str(v) for v in (options.get("headers") or {}).values()]
    for mapping in (options.get("params") or {}, options.get("env") or {}):
        found += [str(v) for k, v in mapping.items() if SECRET_NAME.search(str(k))]
    auth = options.get("auth") or {}
    if "bearer" in auth:
        found.append(str(auth["bearer"]))
    if "basic" in auth:
        found.append(str(auth["basic"]["password"]))
    url = options.get("url")
    if isinstance(url, str):
        parts = urlsplit(url)
        if parts.password:
            found.append(parts.password)
        found += [v for k, v in parse_qsl(parts.query) if SECRET_NAME.search(k)]
    # A header like "Bearer abc" also leaks as its token alone.
    found += [word for text in list(found) for word in text.split() if len(word) >= MIN_SECRET * 2]
    return {text for text in found if len(text) >= MIN_SECRET}


def blank_out(text: str, secrets: Iterable[str]) -> str:
    """`text` with every secret replaced by `***` (longest first)."""
    for secret in sorted(secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, "***")
    return text
