"""Formatting values and changes for people."""

from __future__ import annotations

import pytest

from kputui.kpi.format import format_change, format_value, unit_of
from kputui.kpi.spec import FormatSpec


@pytest.mark.parametrize(
    ("value", "fmt", "text"),
    [
        (None, FormatSpec(), "—"),
        (float("nan"), FormatSpec(), "—"),
        (0.0, FormatSpec(), "0.00"),
        (1234.5, FormatSpec(), "1,234"),  # >= 100: no decimals (1234.5 rounds half to even)
        (12.345, FormatSpec(), "12.3"),
        (1.2345, FormatSpec(), "1.23"),
        (1234.5678, FormatSpec(decimals=2), "1,234.57"),
        (-0.0001, FormatSpec(decimals=2), "0.00"),  # no "-0.00"
        (12.5, FormatSpec(unit="ms"), "12.5 ms"),
        (41.0, FormatSpec(style="integer", unit="%"), "41%"),
        (1234.6, FormatSpec(style="integer"), "1,235"),
        (-21.7, FormatSpec(style="integer", compact=True), "-22"),
        (15_300.0, FormatSpec(style="integer", compact=True), "15.3k"),
        (0.0312, FormatSpec(style="percent"), "3.1%"),
        (0.0312, FormatSpec(style="percent", decimals=2), "3.12%"),
        (1.5, FormatSpec(style="percent", decimals=0), "150%"),
        (1234.5, FormatSpec(style="currency", currency="EUR"), "€1,234.50"),
        (-12.0, FormatSpec(style="currency", currency="USD"), "-$12.00"),
        (99.0, FormatSpec(style="currency", currency="GBP", decimals=0), "£99"),
        (1500.0, FormatSpec(style="currency", currency="JPY"), "¥1,500"),
        (10.0, FormatSpec(style="currency", currency="CHF"), "CHF 10.00"),
        (12_300.0, FormatSpec(style="currency", currency="EUR", compact=True), "€12.3k"),
        (12_345.0, FormatSpec(compact=True), "12.3k"),
        (4_500_000.0, FormatSpec(compact=True), "4.5M"),
        (1_200_000_000.0, FormatSpec(compact=True), "1.2B"),
        (-4_500_000.0, FormatSpec(compact=True), "-4.5M"),
        (999.0, FormatSpec(compact=True), "999"),
        (999_999.0, FormatSpec(compact=True), "1.0M"),  # not "1000.0k"
        (3 * 3600 + 12 * 60 + 5, FormatSpec(style="duration"), "3h 12m"),
        (2 * 86400 + 3 * 3600, FormatSpec(style="duration"), "2d 3h"),
        (3600.0, FormatSpec(style="duration"), "1h"),
        (90.0, FormatSpec(style="duration"), "1m 30s"),
        (42.0, FormatSpec(style="duration"), "42s"),
        (0.25, FormatSpec(style="duration"), "250ms"),
        (-90.0, FormatSpec(style="duration"), "-1m 30s"),
        (512.0, FormatSpec(style="bytes"), "512 B"),
        (1536.0, FormatSpec(style="bytes"), "1.5 KiB"),
        (3 * 1024**3, FormatSpec(style="bytes"), "3.0 GiB"),
        (5 * 1024**2, FormatSpec(style="bytes", decimals=0), "5 MiB"),
    ],
)
def test_format_value(value, fmt, text) -> None:
    assert format_value(value, fmt) == text


@pytest.mark.parametrize(
    ("change", "pct", "fmt", "text"),
    [
        (None, None, FormatSpec(), "—"),
        (1234.0, 0.123, FormatSpec(style="integer"), "+1,234 (+12.3%)"),
        (-50.0, -0.5, FormatSpec(style="integer"), "-50 (-50.0%)"),
        (0.0, 0.0, FormatSpec(style="integer"), "0 (0.0%)"),
        # previous was 0 or missing: no percent part, never "00%" or "inf%".
        (25.0, None, FormatSpec(style="integer"), "+25"),
        # 3.5% -> 3.1%: -0.4 percentage points, not "-11.4%".
        (-0.004, -0.114, FormatSpec(style="percent"), "-0.4 pp"),
        (0.0125, 0.5, FormatSpec(style="percent", decimals=2), "+1.25 pp"),
        (100.0, 0.1, FormatSpec(style="currency", currency="EUR"), "+€100.00 (+10.0%)"),
        (-100.0, -0.1, FormatSpec(style="currency", currency="EUR"), "-€100.00 (-10.0%)"),
        (600.0, 0.5, FormatSpec(style="duration"), "+10m (+50.0%)"),
        (1e-9, 1e-12, FormatSpec(decimals=2), "0.00 (0.0%)"),
    ],
)
def test_format_change(change, pct, fmt, text) -> None:
    assert format_change(change, pct, fmt) == text


def test_units_for_export() -> None:
    assert unit_of(FormatSpec(style="currency", currency="EUR")) == "EUR"
    assert unit_of(FormatSpec(unit="ms")) == "ms"
    assert unit_of(FormatSpec(style="duration")) == "s"
    assert unit_of(FormatSpec(style="percent")) is None
