"""Bad input from real servers and processes on loopback (issue 5, "Bad input").

Every case runs a collector over two sources: the broken one and a healthy HTTP source.
The broken source's stored status must say what happened, in one plain line; the healthy
one must still deliver its sample.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from servers.http import HttpServer, Route
from servers.kit import closed_port, collect_once, make_config, values, wait_for

from kputui.collector import Collector
from kputui.store import Store

pytestmark = pytest.mark.integration

OK_BODY = {"data": {"orders": 42}}


@pytest.fixture(scope="module")
def server() -> Iterator[HttpServer]:
    with HttpServer() as server:
        server.routes["/ok"] = Route.json(OK_BODY)
        yield server


def healthy(server: HttpServer) -> dict[str, Any]:
    return {"type": "http", "url": server.url("/ok"), "series": {"orders": {"path": "data.orders", "kind": "event"}}}


def http(url: str, timeout: str = "5s", **series: str) -> dict[str, Any]:
    paths = series or {"broken_value": "value"}
    return {"type": "http", "url": url, "timeout": timeout,
            "series": {name: {"path": path, "kind": "gauge"} for name, path in paths.items()}}


async def broken_beside_healthy(server: HttpServer, broken: dict[str, Any], tmp_path: Path,
                                **config: Any) -> tuple[str, Store]:
    """Collect once; check the healthy source; return the broken one's error text."""
    statuses, store = await collect_once(make_config({"broken": broken, "good": healthy(server)}, **config),
                                         tmp_path)
    good = statuses["good"]
    assert good.consecutive_failures == 0 and good.last_success is not None
    assert values(store, "orders") == [42.0]
    status = statuses["broken"]
    assert status.consecutive_failures == 1
    assert status.last_error and "\n" not in status.last_error and "\x1b" not in status.last_error
    return status.last_error, store


async def test_connection_refused(server: HttpServer, tmp_path: Path) -> None:
    port = closed_port()
    error, _ = await broken_beside_healthy(server, http(f"http://127.0.0.1:{port}/stats"), tmp_path)
    assert error == f"connection refused by 127.0.0.1:{port}"


async def test_dns_failure(server: HttpServer, tmp_path: Path) -> None:
    error, _ = await broken_beside_healthy(server, http("http://kputui-test.invalid/stats"), tmp_path)
    assert error == "cannot resolve host kputui-test.invalid"


async def test_timeout_is_a_deadline_for_the_whole_poll(server: HttpServer, tmp_path: Path) -> None:
    server.routes["/hang"] = Route(hang=True)
    started = time.monotonic()
    error, _ = await broken_beside_healthy(server, http(server.url("/hang"), timeout="0.5s"), tmp_path)
    assert error == "timed out after 0.5s"
    assert time.monotonic() - started < 4


async def test_a_server_that_trickles_bytes_hits_the_deadline(server: HttpServer, tmp_path: Path) -> None:
    # Each byte comes well within any per-read timeout, the whole body never in time.
    server.routes["/trickle"] = Route.json({"value": 1, "padding": "x" * 200}, trickle=0.02)
    started = time.monotonic()
    error, _ = await broken_beside_healthy(server, http(server.url("/trickle"), timeout="0.6s"), tmp_path)
    assert error == "timed out after 0.6s"
    assert time.monotonic() - started < 4


async def test_http_500_names_status_and_url(server: HttpServer, tmp_path: Path) -> None:
    server.routes["/fail"] = Route(500, b"<html>oops</html>")
    error, _ = await broken_beside_healthy(server, http(server.url("/fail")), tmp_path)
    assert error == f"HTTP 500 from {server.url('/fail')}"


async def test_429_retry_after_sets_the_next_attempt(server: HttpServer, tmp_path: Path) -> None:
    hits: list[float] = []

    def limited(_request: Any) -> Route:
        hits.append(time.monotonic())
        return Route(429, b"slow down", {"Retry-After": "7"})

    server.routes["/limited"] = limited
    config = make_config({"broken": {**http(server.url("/limited")), "interval": "1s"}, "good": healthy(server)})
    store = Store.open(tmp_path / "store", writer=True, timezone="UTC")
    collector = Collector(config, store)
    task = asyncio.create_task(collector.run())
    try:
        status = await wait_for(lambda: store.statuses().get("broken"))
        await wait_for(lambda: store.statuses().get("good"))
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert status.last_error == f"HTTP 429 from {server.url('/limited')} (retry after 7s)"
    assert status.next_attempt - status.last_error_at == pytest.approx(7, abs=0.2)
    assert len(hits) == 1  # not retried at the 1 s interval
    assert store.statuses()["good"].consecutive_failures == 0
    store.close()


async def test_invalid_json(server: HttpServer, tmp_path: Path) -> None:
    server.routes["/notjson"] = Route(200, b'{"value": 1,,}', {"Content-Type": "application/json"})
    error, _ = await broken_beside_healthy(server, http(server.url("/notjson")), tmp_path)
    assert error == f"invalid JSON from {server.url('/notjson')} at line 1 column 13"


async def test_jmespath_matching_nothing_names_series_and_path(server: HttpServer, tmp_path: Path) -> None:
    server.routes["/shape"] = Route.json({"data": {"orders": 1}})
    error, _ = await broken_beside_healthy(server, http(server.url("/shape"), refunds="data.refunds"), tmp_path)
    assert error == "series refunds: path data.refunds matched nothing"


async def test_text_boolean_nan_and_infinity_fail_their_series_only(server: HttpServer, tmp_path: Path) -> None:
    server.routes["/odd"] = Route(200, b'{"t": "12", "b": true, "n": NaN, "i": -Infinity, "fine": 7}')
    broken = http(server.url("/odd"), text="t", flag="b", nan="n", inf="i", fine="fine")
    error, store = await broken_beside_healthy(server, broken, tmp_path)
    assert error == (
        "series text: path t: '12' is text, not a number (to_number() in the path converts it); "
        "series flag: path b: true is a boolean, not a number; series nan: path n: NaN is not a number; "
        "series inf: path i: infinity is not a number"
    )
    assert values(store, "fine") == [7.0]
    for name in ("text", "flag", "nan", "inf"):
        assert values(store, name) == []


async def test_a_50_mb_body_fails_cleanly_without_reading_it_all(server: HttpServer, tmp_path: Path) -> None:
    server.routes["/huge"] = Route(size=50_000_000)
    started = time.monotonic()
    error, _ = await broken_beside_healthy(server, http(server.url("/huge")), tmp_path)
    assert error == f"response larger than 10 MB from {server.url('/huge')}"
    assert time.monotonic() - started < 5


async def test_a_declared_huge_body_is_refused_before_reading(server: HttpServer, tmp_path: Path) -> None:
    server.routes["/declared"] = Route(200, b"{}", {"Content-Length": "50000000"}, hang=False)
    source = {**http(server.url("/declared")), "max_bytes": 1000}
    error, _ = await broken_beside_healthy(server, source, tmp_path)
    assert error == f"response larger than 1 kB from {server.url('/declared')}"


async def test_redirect_loop(server: HttpServer, tmp_path: Path) -> None:
    server.routes["/loop"] = Route(302, headers={"Location": "/loop"})
    error, _ = await broken_beside_healthy(server, http(server.url("/loop")), tmp_path)
    assert error == f"more than 5 redirects from {server.url('/loop')}"


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


async def test_a_command_that_hangs_is_killed_with_its_children(server: HttpServer, tmp_path: Path) -> None:
    pidfile = tmp_path / "child.pid"
    script = f"sleep 60 & echo $! > {pidfile}; wait"
    broken = {"type": "command", "command": script, "shell": True, "timeout": "0.7s",
              "series": {"load": {"regex": r"(\d+)", "kind": "gauge"}}}
    started = time.monotonic()
    error, _ = await broken_beside_healthy(server, broken, tmp_path)
    assert error == "timed out after 0.7s"
    assert time.monotonic() - started < 4
    child = int(pidfile.read_text())
    await wait_for(lambda: not _alive(child), timeout=5)


async def test_a_command_printing_100_mb_fails_cleanly(server: HttpServer, tmp_path: Path) -> None:
    code = "import sys\nfor _ in range(100): sys.stdout.buffer.write(b'7' * 1_000_000)"
    broken = {"type": "command", "command": [sys.executable, "-c", code],
              "series": {"big": {"regex": r"(\d+)", "kind": "gauge"}}}
    started = time.monotonic()
    error, _ = await broken_beside_healthy(server, broken, tmp_path)
    assert error == "output larger than 1 MB"
    assert time.monotonic() - started < 5


async def test_a_failing_command_reports_the_first_line_of_stderr(server: HttpServer, tmp_path: Path) -> None:
    code = "import sys; sys.stderr.write('\\n  disk not mounted\\nmore detail\\n'); sys.exit(3)"
    broken = {"type": "command", "command": [sys.executable, "-c", code],
              "series": {"disk": {"regex": r"(\d+)", "kind": "gauge"}}}
    error, _ = await broken_beside_healthy(server, broken, tmp_path)
    assert error == "exit status 3: disk not mounted"


async def test_a_csv_with_broken_rows_imports_the_good_ones(server: HttpServer, tmp_path: Path) -> None:
    csv = tmp_path / "ads.csv"
    csv.write_text("date,spend\n2026-01-01,10\n2026-01-02,abc\n2026-01-03,12.5\nnot-a-date,3\n2026-01-05\n"
                   "2026-01-06,20\n")
    broken = {"type": "file", "path": str(csv),
              "series": {"ad_spend": {"time_column": "date", "value_column": "spend", "kind": "event"}}}
    error, store = await broken_beside_healthy(server, broken, tmp_path)
    assert error == ("ads.csv: 3 rows skipped: line 3: value 'abc' is not a number; line 5: time 'not-a-date' "
                     "is not ISO 8601 or epoch seconds; line 6: expected 2 columns, got 1")
    assert values(store, "ad_spend") == [10.0, 12.5, 20.0]


async def test_markup_and_escape_sequences_in_error_text_stay_inert(server: HttpServer, tmp_path: Path) -> None:
    nasty = "\x1b[31m[red]boom[/red]\x1b[0m [@click=app.quit]quit\x1b]0;owned\x07\r\n\x07second line\x9b2J"
    code = f"import sys; sys.stderr.write({nasty!r}); sys.exit(1)"
    broken = {"type": "command", "command": [sys.executable, "-c", code],
              "series": {"x": {"regex": r"(\d+)", "kind": "gauge"}}}
    error, _ = await broken_beside_healthy(server, broken, tmp_path)
    assert error == "exit status 1: [red]boom[/red] [@click=app.quit]quit"
    assert not any(ord(ch) < 32 or 0x7f <= ord(ch) <= 0x9f for ch in error)


async def test_secrets_never_reach_the_status(server: HttpServer, tmp_path: Path) -> None:
    server.routes["/private"] = Route(500, b"")
    env = {"TOKEN": "s3cr3t-token-value", "PASSWORD": "hunter2hunter2"}
    broken = {"type": "http", "url": server.url("/private") + "?api_key=${TOKEN}&page=2",
              "headers": {"X-Api-Token": "${TOKEN}"},
              "series": {"v": {"path": "value", "kind": "gauge"}}}
    echo = {"type": "command", "command": [sys.executable, "-c", "import os,sys; sys.exit('bad ' + os.environ['PASS'])"],
            "env": {"PASS": "${PASSWORD}"}, "series": {"w": {"regex": "(\\d+)", "kind": "gauge"}}}
    statuses, _ = await collect_once(make_config({"broken": broken, "echo": echo}, env=env), tmp_path)
    assert statuses["broken"].last_error == f"HTTP 500 from {server.url('/private')}?api_key=***&page=2"
    assert statuses["echo"].last_error == "exit status 1: bad ***"
    stored = b"".join(p.read_bytes() for p in (tmp_path / "store").rglob("*") if p.is_file())
    assert b"s3cr3t" not in stored and b"hunter2" not in stored


async def test_failures_back_off_and_recover_by_themselves(server: HttpServer, tmp_path: Path) -> None:
    hits: list[float] = []
    state = {"fail": True}

    def flaky(_request: Any) -> Route:
        hits.append(time.monotonic())
        return Route(503, b"") if state["fail"] else Route.json({"value": 5})

    server.routes["/flaky"] = flaky
    config = make_config({"flaky": {**http(server.url("/flaky")), "interval": "0.1s"}, "good": healthy(server)})
    store = Store.open(tmp_path / "store", writer=True, timezone="UTC")
    task = asyncio.create_task(Collector(config, store).run())
    try:
        await wait_for(lambda: len(hits) >= 4)
        failing = store.statuses()["flaky"]
        assert failing.consecutive_failures >= 3
        assert failing.last_error == f"HTTP 503 from {server.url('/flaky')}"
        gaps = [b - a for a, b in zip(hits, hits[1:4])]
        assert gaps[0] == pytest.approx(0.1, abs=0.05)
        assert gaps[1] == pytest.approx(0.2, abs=0.05)
        assert gaps[2] == pytest.approx(0.4, abs=0.06)
        state["fail"] = False
        recovered = await wait_for(lambda: (s := store.statuses()["flaky"]).consecutive_failures == 0 and s)
        assert recovered.last_success is not None
        assert set(values(store, "broken_value")) == {5.0}
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        store.close()
