"""Durations, and the promise that a bad config never ends in a traceback."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kputui.config import Config, load_config_text
from kputui.durations import format_duration, parse_duration
from kputui.errors import ConfigError


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("500ms", 0.5),
        ("30s", 30.0),
        ("5m", 300.0),
        ("1h", 3600.0),
        ("2d", 172800.0),
        ("1w", 604800.0),
        ("1h30m", 5400.0),
        ("1d 12h", 129600.0),
        ("1.5h", 5400.0),
        ("45", 45.0),
        ("0.25", 0.25),
        (90, 90.0),
        (2.5, 2.5),
    ],
)
def test_parse_duration(text, seconds):
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize(
    "text", ["", "0", "0s", "-5s", "5 minutes", "5x", "1h1h", "h", "1h-30m", "nan", True, 0, -1.0]
)
def test_parse_duration_refuses(text):
    with pytest.raises(ValueError):
        parse_duration(text)


@given(st.integers(min_value=1, max_value=10**10))
def test_format_duration_round_trips(millis):
    seconds = millis / 1000
    assert parse_duration(format_duration(seconds)) == pytest.approx(seconds)


_PIECES = st.sampled_from([
    "version: 1\n", "settings:\n", "  timezone: UTC\n", "  refresh: 0s\n", "sources:\n",
    "  s:\n", "    type: demo\n", "    type: http\n", "    url: ${X}\n", "    series:\n",
    "      a: {kind: event, base: 1}\n", "      a: [1, 2\n", "kpis:\n", "  - id: a\n",
    "    formula: a / (\n", "    formula: sum(a)\n", "    period: week\n", "    target: {low: 2, high: 1}\n",
    "dashboards:\n", "  - {name: x, kpis: [a, b]}\n", "x: &a [*a]\n", "\t", ": ", "- ", "'", "{",
])


@settings(max_examples=300, deadline=None)
@given(st.lists(_PIECES, max_size=14).map("".join))
def test_any_text_gives_a_config_or_located_issues(text):
    try:
        config = load_config_text(text, "f.yaml", env={})
    except ConfigError as error:
        assert error.issues
        for issue in error.issues:
            assert str(issue).startswith("f.yaml:")
            assert issue.line >= 1 and issue.col >= 1
    else:
        assert isinstance(config, Config)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_never_raises_anything_else(text):
    try:
        load_config_text(text, "f.yaml", env={})
    except ConfigError:
        pass
