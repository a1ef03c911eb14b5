"""Writing KPI values for people: styles, decimals, compact suffixes, signed changes.

No value is written `—`, never 0. A percent KPI holds a ratio (0.031 is "3.1%"), and its
change is written in percentage points ("+0.4 pp"), not as a percent of a percent.
"""

from __future__ import annotations

import math

from kputui.kpi.spec import FormatSpec

__all__ = ["NO_VALUE", "format_change", "format_value", "unit_of"]

NO_VALUE = "—"
"""How a missing value is written."""

CURRENCY_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥", "INR": "₹", "CNY": "¥",
                    "KRW": "₩"}
_ZERO_DECIMAL_CURRENCIES = {"JPY", "KRW"}
_SI = ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k"))
_BYTES = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB")
_DURATION = (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))


def _plain(value: float, decimals: int) -> str:
    text = f"{value:,.{decimals}f}"
    return text[1:] if text.startswith("-") and float(text[1:].replace(",", "")) == 0 else text


def _auto_decimals(value: float) -> int:
    size = abs(value)
    return 0 if size >= 100 else 1 if size >= 10 else 2


def _compact(value: float, decimals: int | None) -> str:
    size = abs(value)
    for threshold, suffix in _SI:
        if size >= threshold * 0.9995:
            scaled = value / threshold
            return _plain(scaled, 1 if decimals is None else decimals) + suffix
    return _plain(value, _auto_decimals(value) if decimals is None else decimals)


def _number(value: float, fmt: FormatSpec) -> str:
    if fmt.compact:
        return _compact(value, fmt.decimals)
    return _plain(value, _auto_decimals(value) if fmt.decimals is None else fmt.decimals)


def _duration(seconds: float, decimals: int | None) -> str:
    sign = "-" if seconds < 0 else ""
    left = abs(seconds)
    if left < 1:
        return f"{sign}{_plain(left * 1000, decimals or 0)}ms" if left else "0s"
    if left < 60:
        return f"{sign}{_plain(left, decimals or 0)}s"
    left = round(left)
    parts = []
    for suffix, size in _DURATION:
        amount, left = divmod(left, size)
        if amount or parts:
            parts.append(f"{amount}{suffix}")
        if len(parts) == 2:
            break
    if len(parts) == 2 and parts[1].startswith("0"):
        parts.pop()
    return sign + " ".join(parts)


def _bytes(value: float, decimals: int | None) -> str:
    size = abs(value)
    unit = 0
    while size >= 1024 * 0.99995 and unit < len(_BYTES) - 1:
        size /= 1024
        unit += 1
    if unit == 0:
        return f"{_plain(value, 0)} B"
    return f"{_plain(math.copysign(size, value), 1 if decimals is None else decimals)} {_BYTES[unit]}"


def _currency(value: float, fmt: FormatSpec) -> str:
    code = (fmt.currency or "").upper()
    decimals = fmt.decimals
    if decimals is None:
        decimals = 0 if code in _ZERO_DECIMAL_CURRENCIES else 2
    body = _compact(abs(value), fmt.decimals) if fmt.compact else _plain(abs(value), decimals)
    sign = "-" if value < 0 and body.strip("0.,kMBT") else ""
    symbol = CURRENCY_SYMBOLS.get(code)
    if symbol is not None:
        return f"{sign}{symbol}{body}"
    return f"{sign}{code} {body}" if code else f"{sign}{body}"


def format_value(value: float | None, fmt: FormatSpec) -> str:
    """`value` written in the KPI's style, or `—` for no value."""
    if value is None or not math.isfinite(value):
        return NO_VALUE
    style = fmt.style
    if style == "percent":
        decimals = 1 if fmt.decimals is None else fmt.decimals
        return f"{_plain(value * 100, decimals)}%"
    if style == "currency":
        return _currency(value, fmt)
    if style == "duration":
        return _duration(value, fmt.decimals)
    if style == "bytes":
        return _bytes(value, fmt.decimals)
    if style == "integer":
        whole = abs(value) < 999.5 or not fmt.compact
        text = _plain(round(value), 0) if whole else _compact(value, fmt.decimals)
    else:
        text = _number(value, fmt)
    if fmt.unit:
        text += fmt.unit if fmt.unit == "%" else f" {fmt.unit}"
    return text


def _signed(text: str, value: float) -> str:
    if text.startswith("-"):
        return text
    if value == 0 or not any(ch in "123456789" for ch in text):
        return text
    return f"+{text}"


def format_change(change: float | None, change_pct: float | None, fmt: FormatSpec) -> str:
    """A signed change, e.g. "+1,234 (+12.3%)"; percent KPIs change in "pp".

    The relative part is left out when there is none (previous value 0 or missing).
    """
    if change is None or not math.isfinite(change):
        return NO_VALUE
    if fmt.style == "percent":
        decimals = 1 if fmt.decimals is None else fmt.decimals
        return _signed(f"{_plain(change * 100, decimals)} pp", change)
    text = _signed(format_value(change, fmt), change)
    if change_pct is None or not math.isfinite(change_pct):
        return text
    return f"{text} ({_signed(_plain(change_pct * 100, 1), change_pct)}%)"


def unit_of(fmt: FormatSpec) -> str | None:
    """The unit a value is counted in, for exports: the currency code or the unit."""
    if fmt.style == "currency":
        return fmt.currency
    if fmt.style == "duration":
        return "s"
    if fmt.style == "bytes":
        return "B"
    return fmt.unit
