"""Parsing at the edge: numbers, times, sizes, redacted URLs, secrets, safe text."""

from __future__ import annotations

import math
from datetime import datetime, timezone

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from kputui.collector import safe_text
from kputui.config import load_config_text
from kputui.sources.values import ValueProblem, blank_out, redact_url, secrets_of, size_text, to_number, to_time


@pytest.mark.parametrize("value, expected", [(3, 3.0), (2.5, 2.5), (-0.0, 0.0), (10**20, 1e20)])
def test_json_numbers_pass(value: object, expected: float) -> None:
    assert to_number(value) == expected


@pytest.mark.parametrize("value, message", [
    ("12", "'12' is text, not a number (to_number() in the path converts it)"),
    (True, "true is a boolean, not a number"),
    (False, "false is a boolean, not a number"),
    (math.nan, "NaN is not a number"),
    (math.inf, "infinity is not a number"),
    (-math.inf, "infinity is not a number"),
    (None, "null is not a number"),
    ([1], "a list is not a number"),
    ({"a": 1}, "an object is not a number"),
])
def test_other_values_are_refused_with_a_reason(value: object, message: str) -> None:
    with pytest.raises(ValueProblem, match=f"^{message.replace('(', '[(]').replace(')', '[)]')}$"):
        to_number(value)


@pytest.mark.parametrize("text, expected", [(" 12.5 ", 12.5), ("1e3", 1000.0), ("-4", -4.0)])
def test_text_cells_may_be_numbers(text: str, expected: float) -> None:
    assert to_number(text, text_ok=True) == expected


@pytest.mark.parametrize("text", ["abc", "nan", "inf", "", "12 apples"])
def test_text_that_is_no_finite_number_is_refused(text: str) -> None:
    with pytest.raises(ValueProblem):
        to_number(text, text_ok=True)


def test_long_bad_values_are_cut_in_messages() -> None:
    with pytest.raises(ValueProblem) as caught:
        to_number("x" * 1000, text_ok=True)
    assert len(str(caught.value)) < 80


@pytest.mark.parametrize("value, expected", [
    (1767225600, 1767225600.0),
    ("1767225600", 1767225600.0),
    ("2026-01-01T00:00:00Z", 1767225600.0),
    ("2026-01-01T01:00:00+01:00", 1767225600.0),
    ("2026-01-01", 1767225600.0),
])
def test_times_in_utc(value: object, expected: float) -> None:
    assert to_time(value) == expected


def test_times_without_offset_are_read_in_the_zone() -> None:
    berlin = datetime(2026, 1, 1, tzinfo=timezone.utc).timestamp() - 3600
    assert to_time("2026-01-01", "Europe/Berlin") == berlin
    assert to_time("01/01/2026 00:00", "Europe/Berlin", "%d/%m/%Y %H:%M") == berlin
    assert to_time("2026-01-01T00:00:00Z", "Europe/Berlin") == berlin + 3600


@pytest.mark.parametrize("value, message", [
    ("yesterday", "time 'yesterday' is not ISO 8601 or epoch seconds"),
    (True, "time 'True' is not ISO 8601 text or epoch seconds"),
    (1767225600000, "time '1767225600000' is outside 1970 to 3000 (epoch seconds expected)"),
    (-5, "time '-5' is outside 1970 to 3000 (epoch seconds expected)"),
])
def test_bad_times(value: object, message: str) -> None:
    with pytest.raises(ValueProblem) as caught:
        to_time(value)
    assert str(caught.value) == message


def test_time_format_mismatch_names_the_format() -> None:
    with pytest.raises(ValueProblem, match="^time '2026-01-01' is not in the format %d/%m/%Y$"):
        to_time("2026-01-01", time_format="%d/%m/%Y")


@pytest.mark.parametrize("size, text", [(10_000_000, "10 MB"), (1000, "1 kB"), (1_500_000, "1.5 MB"), (12, "12 bytes")])
def test_sizes(size: int, text: str) -> None:
    assert size_text(size) == text


@pytest.mark.parametrize("url, shown", [
    ("https://user:pw@host/path?a=1", "https://host/path?a=1"),
    ("https://host/p?api_key=abc&page=2", "https://host/p?api_key=***&page=2"),
    ("https://host/p?access_token=abc&SECRET=x&password=y", "https://host/p?access_token=***&SECRET=***&password=***"),
    ("http://host:8080/", "http://host:8080/"),
])
def test_redacted_urls(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_secrets_of_a_spec_cover_headers_auth_params_env_and_url() -> None:
    text = yaml.safe_dump({"version": 1, "sources": {
        "a": {"type": "http", "url": "https://me:urlpass@h/x?token=qtoken1", "headers": {"X-Key": "hdrsecret"},
              "params": {"apikey": "paramsecret", "page": "12345"}, "auth": {"bearer": "bearertoken"},
              "series": {"s": {"path": "v", "kind": "gauge"}}},
        "b": {"type": "command", "command": ["true"], "env": {"DB_PASSWORD": "envsecret", "LANG": "C.UTF-8"},
              "series": {"t": {"regex": "x", "kind": "gauge"}}},
        "c": {"type": "http", "url": "https://h/", "auth": {"basic": {"username": "u", "password": "basicpw"}},
              "series": {"u": {"path": "v", "kind": "gauge"}}},
    }})
    config = load_config_text(text, env={})
    a, b, c = (secrets_of(spec) for spec in config.sources)
    assert {"urlpass", "qtoken1", "hdrsecret", "paramsecret", "bearertoken"} <= a
    assert "12345" not in a
    assert b == {"envsecret"}
    assert c == {"basicpw"}
    assert blank_out("got hdrsecret and bearertoken", a) == "got *** and ***"


@given(st.text())
def test_safe_text_is_one_bounded_line_without_controls(text: str) -> None:
    safe = safe_text(text, limit=50)
    assert len(safe) <= 50
    assert safe == safe.strip()
    assert not any(ord(ch) < 32 or 0x7F <= ord(ch) <= 0x9F for ch in safe)


@pytest.mark.parametrize("text, safe", [
    ("\x1b[1;31mred\x1b[0m", "red"),
    ("a\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\b", "a link b"),
    ("title\x1b]0;pwned\x07 done", "title done"),
    ("[bold red]x[/] [@click=app.quit]q", "[bold red]x[/] [@click=app.quit]q"),
    ("line one\r\nline two\tand\x00nul", "line one line two and nul"),
    ("abc\u202eevil", "abc evil"),
])
def test_safe_text_removes_escapes_and_keeps_markup_literal(text: str, safe: str) -> None:
    assert safe_text(text) == safe
