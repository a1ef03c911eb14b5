"""The metrics page (format, escaping, statesets, absent values) and its HTTP server."""

from __future__ import annotations

import asyncio
import dataclasses
import re
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kputui.board import Board
from kputui.config import load_config_text
from kputui.kpi.state import STATUSES
from kputui.metrics import (
    CONTENT_TYPE,
    MAX_REQUEST,
    ListenError,
    MetricsServer,
    escape_label,
    is_loopback,
    metric_name,
    parse_listen,
    render,
)
from kputui.series import Sample
from kputui.store import SourceStatus, Store

CONFIG = """\
version: 1
settings: {timezone: UTC}
sources:
  shop: {type: manual, series: {orders: {kind: event}, visitors: {kind: event}, queue: {kind: gauge}}}
  crm: {type: manual, series: {deals: {kind: event}}}
kpis:
  - id: conversion
    name: 'Shop "conversion" \\ rate'
    formula: orders / visitors
    period: rolling:24h
    target: {value: 0.03, mode: stay_above}
  - {id: deals, name: Deals won, formula: deals, period: rolling:24h}
"""
NOW = 1_790_000_000.0

_VALUE = r'"(?:[^"\\\n]|\\[\\"n])*"'
LINE = re.compile(
    rf"^[a-zA-Z_:][a-zA-Z0-9_:]*(?:\{{[a-zA-Z_][a-zA-Z0-9_]*={_VALUE}(?:,[a-zA-Z_][a-zA-Z0-9_]*={_VALUE})*\}})?"
    r" (?:[+-]?(?:\d+\.?\d*(?:e[+-]?\d+)?)|NaN|[+-]Inf)$"
)


def unescape(value: str) -> str:
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), value)


def samples_of(page: str) -> dict[str, str]:
    """Every sample line of `page` as `{name{labels}: value}`, checking each line's syntax."""
    found: dict[str, str] = {}
    types: set[str] = set()
    assert page.endswith("\n")
    for line in page[:-1].split("\n"):  # the format's lines end in \n only, whatever else a name holds
        if line.startswith("# TYPE "):
            types.add(line.split()[2])
            assert line.endswith(" gauge")
            continue
        if line.startswith("# HELP "):
            continue
        assert LINE.match(line), line
        key, value = line.rsplit(" ", 1)
        assert key.split("{")[0] in types, f"{line}: no TYPE line before it"
        assert key not in found, f"{key}: twice"
        found[key] = value
    return found


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = Store.open(tmp_path / "store", writer=True, timezone="UTC")
    try:
        yield store
    finally:
        store.close()


@pytest.fixture
def board(store: Store) -> Board:
    store.append([Sample("orders", NOW - 120, 6.0), Sample("visitors", NOW - 120, 100.0),
                  Sample("queue", NOW - 60, 4.0), Sample("queue", NOW - 30, 7.5)])
    board = Board(load_config_text(CONFIG), store, clock=lambda: NOW)
    board.update(None)
    return board


def page_of(board: Board, **kwargs: object) -> str:
    return render(board.config, board.states, board.statuses, board.store.latest, **kwargs)  # type: ignore[arg-type]


# -- names and escaping ---------------------------------------------------------------


@pytest.mark.parametrize(("text", "name"), [
    ("kputui_kpi_value", "kputui_kpi_value"), ("my-app.v2", "my_app_v2"), ("9lives", "_9lives"),
    ("a:b", "a:b"), ("", "_"), ("zähler", "z_hler"),
])
def test_metric_names_are_sanitised(text: str, name: str) -> None:
    assert metric_name(text) == name


def test_label_values_escape_backslash_quote_and_newline() -> None:
    assert escape_label('a\\b"c\nd') == 'a\\\\b\\"c\\nd'
    assert escape_label("\\n") == "\\\\n"  # a literal backslash-n stays two characters
    assert escape_label("plain ünïcode, {braces}=") == "plain ünïcode, {braces}="


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_any_kpi_name_gives_valid_lines_that_read_back(name: str) -> None:
    config = load_config_text(CONFIG)
    state = _fake_state(config.kpis[1].id, name)
    page = render(config, {"deals": state}, {}, lambda _series: None)
    lines = [line for line in page.split("\n") if line.startswith("kputui_kpi_value")]
    assert len(lines) == 1 and LINE.match(lines[0]), lines
    label = re.search(rf'name=({_VALUE})', lines[0])
    assert label is not None and unescape(label.group(1)[1:-1]) == name


_STATES: dict[str, object] = {}


def _fake_state(kpi: str, name: str):
    """A real `KpiState` of the `deals` KPI with another name."""
    if "base" not in _STATES:
        config = load_config_text(CONFIG)
        store = Store.open(Path(_tmp()) / "store", writer=True, timezone="UTC")
        try:
            store.append([Sample("deals", NOW - 60, 3.0)])
            board = Board(config, store, clock=lambda: NOW)
            board.update(None)
            _STATES["base"] = board.states["deals"]
        finally:
            store.close()
    return dataclasses.replace(_STATES["base"], id=kpi, name=name)  # type: ignore[type-var]


def _tmp() -> str:
    import tempfile

    return tempfile.mkdtemp(prefix="kputui-metrics-")


# -- the page ---------------------------------------------------------------------------


def test_the_page_has_every_series_kpi_and_status(board: Board) -> None:
    found = samples_of(page_of(board))
    assert found['kputui_series_value{series="queue",source="shop",kind="gauge"}'] == "7.5"
    assert float(found['kputui_series_timestamp_seconds{series="queue",source="shop",kind="gauge"}']) == NOW - 30
    assert found['kputui_series_value{series="orders",source="shop",kind="event"}'] == "6.0"
    labels = 'kpi="conversion",name="Shop \\"conversion\\" \\\\ rate",period="rolling:24h"'
    assert float(found[f"kputui_kpi_value{{{labels}}}"]) == pytest.approx(0.06)
    assert float(found[f"kputui_kpi_target{{{labels}}}"]) == 0.03
    assert float(found[f"kputui_kpi_progress{{{labels}}}"]) == pytest.approx(2.0)
    assert found['kputui_kpi_status{kpi="conversion",status="on_track"}'] == "1.0"


def test_status_is_a_stateset_one_series_per_status_exactly_one_set(board: Board) -> None:
    found = samples_of(page_of(board))
    for kpi, expected in (("conversion", "on_track"), ("deals", "no_data")):
        states = {status: found[f'kputui_kpi_status{{kpi="{kpi}",status="{status}"}}'] for status in STATUSES}
        assert states == {status: "1.0" if status == expected else "0.0" for status in STATUSES}


def test_missing_numbers_are_absent_not_nan(board: Board) -> None:
    found = samples_of(page_of(board))
    assert not any('series="deals"' in key for key in found), "a series with no sample is left out"
    assert not any(key.startswith(("kputui_kpi_value", "kputui_kpi_target", "kputui_kpi_progress"))
                   and 'kpi="deals"' in key for key in found), "no value, no target: left out"
    assert "NaN" not in found.values()
    # HELP and TYPE lines stay, so the families are known even when empty.
    assert "# TYPE kputui_source_up gauge" in page_of(board)


def test_non_finite_numbers_use_the_format_spelling(board: Board) -> None:
    states = dict(board.states)
    for value, text in ((float("nan"), "NaN"), (float("inf"), "+Inf"), (float("-inf"), "-Inf"), (1e21, "1e+21")):
        states["conversion"] = dataclasses.replace(board.states["conversion"], value=value)
        found = samples_of(render(board.config, states, {}, board.store.latest))
        [key] = [key for key in found if key.startswith("kputui_kpi_value")]
        assert found[key] == text


def test_sources_report_up_and_failures(board: Board, store: Store) -> None:
    store.set_statuses([SourceStatus("shop", NOW - 5, None, None, 0, NOW + 60),
                        SourceStatus("crm", NOW - 600, "HTTP 500", NOW - 1, 3, NOW + 30)])
    board.update([])
    found = samples_of(page_of(board))
    assert found['kputui_source_up{source="shop"}'] == "1.0"
    assert found['kputui_source_up{source="crm"}'] == "0.0"
    assert found['kputui_source_consecutive_failures{source="crm"}'] == "3.0"
    assert float(found['kputui_source_last_success_timestamp_seconds{source="shop"}']) == NOW - 5


def test_the_namespace_is_sanitised(board: Board) -> None:
    page = page_of(board, namespace="my-app")
    assert "# TYPE my_app_kpi_value gauge" in page and "kputui_" not in page


# -- the listen address -----------------------------------------------------------------


@pytest.mark.parametrize(("text", "address"), [
    ("127.0.0.1:9464", ("127.0.0.1", 9464)), ("[::1]:9464", ("::1", 9464)), ("localhost:80", ("localhost", 80)),
    (":9464", ("127.0.0.1", 9464)), ("9464", ("127.0.0.1", 9464)), ("0.0.0.0:0", ("0.0.0.0", 0)),
    ("[::]:9464", ("::", 9464)), ("metrics.example.com:9100", ("metrics.example.com", 9100)),
])
def test_listen_addresses_parse(text: str, address: tuple[str, int]) -> None:
    assert parse_listen(text) == address


@pytest.mark.parametrize(("text", "why"), [
    ("127.0.0.1:", "port must be a number"), ("127.0.0.1:99999", "port must be a number"),
    ("127.0.0.1:http", "port must be a number"), ("::1:9464", "IPv6 address in brackets"),
    ("[::1]9464", "expected HOST:PORT"), ("[127.0.0.1]:9464", "not an IPv6 address"),
    ("[::1:9464", "expected HOST:PORT"), ("bad host:9464", "not a host name"), ("", "port must be a number"),
    ("127.0.0.1:٩٤٦٤", "port must be a number"),
])
def test_bad_listen_addresses_say_what_is_expected(text: str, why: str) -> None:
    with pytest.raises(ListenError, match=re.escape(why)) as caught:
        parse_listen(text)
    assert str(caught.value).startswith("--metrics-listen: expected HOST:PORT like 127.0.0.1:9464 or [::1]:9464")


def test_loopback_hosts() -> None:
    assert all(is_loopback(h) for h in ("127.0.0.1", "127.1.2.3", "::1", "localhost", "LOCALHOST."))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "::", "192.168.1.2", "example.com"))


# -- refreshing -------------------------------------------------------------------------


def test_the_board_is_refreshed_at_most_once_per_interval(board: Board, store: Store) -> None:
    clock = [100.0]
    server = MetricsServer(board, min_refresh=1.0, clock=lambda: clock[0])
    calls: list[object] = []
    update = board.update
    board.update = lambda changed=None, only=None: calls.append(changed) or update(changed, only)  # type: ignore[method-assign]
    server.page()
    server.page()
    assert calls == [None]
    store.append([Sample("orders", NOW - 1, 3.0)])
    assert kpi_value(server.page()) == pytest.approx(0.06)  # KPIs as they were within the interval
    assert 'kputui_series_value{series="orders",source="shop",kind="event"} 3.0' in server.page()  # series: live
    clock[0] += 1.0
    assert kpi_value(server.page()) == pytest.approx(0.09)
    assert calls == [None, {"orders"}], "only what changed is passed on"


def kpi_value(page: str) -> float:
    [value] = [v for k, v in samples_of(page).items() if k.startswith('kputui_kpi_value{kpi="conversion"')]
    return float(value)


# -- HTTP ---------------------------------------------------------------------------------


async def raw(port: int, data: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(data)
    writer.write_eof()
    await writer.drain()
    try:
        return await asyncio.wait_for(reader.read(), 5)
    finally:
        writer.close()


async def test_get_metrics_serves_the_page(board: Board) -> None:
    async with MetricsServer(board, "127.0.0.1", 0) as server, httpx.AsyncClient() as client:
        assert server.port != 0 and server.url == f"http://127.0.0.1:{server.port}/metrics"
        response = await client.get(server.url)
        assert response.status_code == 200
        assert response.headers["content-type"] == CONTENT_TYPE
        assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
        assert response.text == page_of(board)
        head = await client.head(server.url)
        assert head.status_code == 200 and head.content == b""
        assert int(head.headers["content-length"]) == len(response.content)
        assert (await client.get(server.url + "?name[]=x")).status_code == 200
        assert server.scrapes == 3


async def test_other_paths_and_methods_are_refused(board: Board) -> None:
    async with MetricsServer(board, "127.0.0.1", 0) as server, httpx.AsyncClient() as client:
        base = f"http://127.0.0.1:{server.port}"
        for path in ("/", "/metrics/", "/metricsx", "/favicon.ico", "/METRICS"):
            assert (await client.get(base + path)).status_code == 404, path
        response = await client.post(server.url, content=b"x=1")
        assert response.status_code == 405 and response.headers["allow"] == "GET, HEAD"
        assert (await client.delete(server.url)).status_code == 405
        assert (await raw(server.port, b"GET /../metrics HTTP/1.1\r\n\r\n")).startswith(b"HTTP/1.1 404 ")
        assert (await raw(server.port, b"GET http://x/metrics HTTP/1.1\r\n\r\n")).startswith(b"HTTP/1.1 404 ")
        assert server.scrapes == 0


async def test_garbage_and_huge_requests_get_an_answer_and_the_server_goes_on(board: Board) -> None:
    async with MetricsServer(board, "127.0.0.1", 0) as server:
        assert (await raw(server.port, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(range(256)) + b"\r\n\r\n")
                ).startswith(b"HTTP/1.1 400 ")
        assert (await raw(server.port, b"GET /metrics\r\n\r\n")).startswith(b"HTTP/1.1 400 ")
        assert (await raw(server.port, b"get /metrics HTTP/1.1\r\n\r\n")).startswith(b"HTTP/1.1 400 ")
        assert (await raw(server.port, b"GET /metrics HTTP/9.9\r\n\r\n")).startswith(b"HTTP/1.1 400 ")
        assert (await raw(server.port, b"GET /metrics HTTP/1.1\r\nX: " + b"a" * (2 * MAX_REQUEST))
                ).startswith(b"HTTP/1.1 431 ")
        assert (await raw(server.port, b"GET /metr")).startswith(b"HTTP/1.1 400 ")  # cut short
        assert await raw(server.port, b"") == b""  # connect and leave: nothing to say
        answer = await raw(server.port, b"GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 200 OK\r\n") and b"kputui_kpi_status" in answer
        async with httpx.AsyncClient() as client:
            assert (await client.get(server.url)).status_code == 200


async def test_a_broken_board_gives_500_not_a_dead_server(board: Board) -> None:
    async with MetricsServer(board, "127.0.0.1", 0) as server, httpx.AsyncClient() as client:
        board.update = lambda *_a, **_k: 1 / 0  # type: ignore[method-assign]
        assert (await client.get(server.url)).status_code == 500
        del board.update
        server._refreshed_at = float("-inf")
        assert (await client.get(server.url)).status_code == 200


async def test_stop_ends_a_client_that_never_sends(board: Board) -> None:
    server = MetricsServer(board, "127.0.0.1", 0)
    await server.start()
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    await asyncio.sleep(0.05)
    await asyncio.wait_for(server.stop(), 3)
    assert await asyncio.wait_for(reader.read(), 3) == b""
    writer.close()
    with pytest.raises(OSError):
        await asyncio.open_connection("127.0.0.1", server.port)


async def test_a_busy_port_is_a_clear_error(board: Board) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ListenError, match=rf"cannot listen on 127\.0\.0\.1:{port} for metrics: "):
            await MetricsServer(board, "127.0.0.1", port).start()


async def test_ipv6_loopback(board: Board) -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6 on this machine")
    try:
        server = MetricsServer(board, "::1", 0)
        await server.start()
    except ListenError as error:
        pytest.skip(f"cannot bind ::1 here: {error}")
    try:
        assert server.url == f"http://[::1]:{server.port}/metrics"
        async with httpx.AsyncClient() as client:
            assert (await client.get(server.url)).status_code == 200
    finally:
        await server.stop()
