"""Alert notifiers against real things on loopback: a webhook server (that fails, then
accepts), a command reading the JSON on stdin, and a collector that alone notices a KPI
going off track and back, posting exactly one alert and one resolution."""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from pathlib import Path
from types import MappingProxyType
from typing import Any

import httpx
import orjson
import pytest
from servers.http import HttpServer, Request, Route
from servers.kit import closed_port, wait_for

from kputui.alerts import AlertEvent, NotifierSpec
from kputui.collector import Collector
from kputui.config import Config, load_config_text
from kputui.notify import NotifyError, deliver
from kputui.series import Sample
from kputui.store import Store

pytestmark = pytest.mark.integration

SECRET = "s3cr3t-t0ken-f0r-hooks"


def event(kind: str = "fired") -> AlertEvent:
    state = {"id": "level", "name": "Stock level", "status": "off_track", "value": 10.0, "formatted": "10"}
    return AlertEvent(kind, "level/0/off_track/0", "level", "Stock level", "off track", time.time(),  # type: ignore[arg-type]
                      "off_track", MappingProxyType(state), ("hook",), 1)


def webhook(url: str, **options: Any) -> NotifierSpec:
    base = {"url": url, "headers": {"Authorization": f"Bearer {SECRET}"}, "timeout": 5.0, "retries": 3,
            "backoff": 0.01}
    return NotifierSpec("hook", "webhook", MappingProxyType({**base, **options}))


def flaky(failures: int) -> Any:
    """A handler that answers 500 `failures` times, then 200."""
    count = {"n": 0}

    def answer(request: Request) -> Route:
        count["n"] += 1
        return Route.json({"error": "busy"}, 500) if count["n"] <= failures else Route.json({"ok": True})
    return answer


async def test_webhook_retries_until_accepted() -> None:
    with HttpServer() as server:
        server.routes["/hook"] = flaky(2)
        async with httpx.AsyncClient() as client:
            await deliver(webhook(server.url("/hook")), event(), client=client)
        assert len(server.requests) == 3
        last = server.requests[-1]
        assert last.method == "POST"
        assert last.headers["authorization"] == f"Bearer {SECRET}"
        body = orjson.loads(last.body)
        assert body["id"] == "level" and body["status"] == "off_track"
        assert body["text"] == "ALERT Stock level: off track (value 10, status off_track)"
        assert body["alert"]["event"] == "fired"


async def test_webhook_gives_up_without_leaking_the_secret() -> None:
    with HttpServer() as server:
        server.routes["/hook"] = flaky(100)
        url = server.url("/hook") + f"?token={SECRET}"
        with pytest.raises(NotifyError) as caught:
            await deliver(webhook(url, retries=2), event())
        assert len(server.requests) == 3
        assert "HTTP 500" in str(caught.value) and "3 times" in str(caught.value)
        assert SECRET not in str(caught.value)
        server.routes["/hook"] = Route.json({"error": "no"}, 403)
        with pytest.raises(NotifyError) as caught:
            await deliver(webhook(url, retries=2), event())
        assert len(server.requests) == 4  # a 403 is not retried
    with pytest.raises(NotifyError) as caught:
        await deliver(webhook(f"http://127.0.0.1:{closed_port()}/services/{SECRET}", retries=1), event())
    assert SECRET not in str(caught.value) and str(caught.value).startswith("hook: webhook failed (2 times)")


async def test_command_gets_the_state_on_stdin(tmp_path: Path) -> None:
    script = tmp_path / "save.py"
    script.write_text("import sys\nopen(sys.argv[1], 'wb').write(sys.stdin.buffer.read())\n")
    out = tmp_path / "out.json"
    spec = NotifierSpec("save", "command", MappingProxyType({"command": (sys.executable, str(script), str(out)),
                                                            "timeout": 10.0}))
    await deliver(spec, event("resolved"))
    body = orjson.loads(out.read_bytes())
    assert body["id"] == "level" and body["alert"]["event"] == "resolved"
    assert body["text"].startswith("RESOLVED Stock level: no longer off track")


async def test_command_failures_are_reported(tmp_path: Path) -> None:
    failing = NotifierSpec("bad", "command", MappingProxyType({
        "command": (sys.executable, "-c", "import sys; sys.stderr.write('nope'); sys.exit(3)"), "timeout": 10.0}))
    with pytest.raises(NotifyError, match="exited with 3: nope"):
        await deliver(failing, event())
    slow = NotifierSpec("slow", "command", MappingProxyType({
        "command": (sys.executable, "-c", "import time; time.sleep(30)"), "timeout": 0.3}))
    started = time.monotonic()
    with pytest.raises(NotifyError, match="did not finish within 0.3s"):
        await deliver(slow, event())
    assert time.monotonic() - started < 10
    missing = NotifierSpec("gone", "command", MappingProxyType({"command": (str(tmp_path / "nothing"),),
                                                               "timeout": 1.0}))
    with pytest.raises(NotifyError, match="cannot run"):
        await deliver(missing, event())


# --- the collector alone: off track, one webhook; recovered, one resolution

def config_for(url: str) -> Config:
    text = f"""\
version: 1
settings: {{timezone: UTC}}
notifiers:
  hook:
    type: webhook
    url: "{url}"
    headers: {{Authorization: "Bearer ${{HOOK_TOKEN}}"}}
    retries: 3
    backoff: 10ms
sources:
  crm: {{type: manual, series: {{level: {{kind: gauge}}}}}}
kpis:
  - id: level
    name: Stock level
    formula: level
    period: rolling:24h
    target: {{value: 50, mode: stay_above}}
    alerts:
      - {{when: off_track, notify: [hook]}}
"""
    return load_config_text(text, "alerts.yaml", env={"HOOK_TOKEN": SECRET})


class Counting(Collector):
    """A collector that counts its alert evaluations (to wait for a few more, not sleep)."""

    evaluations = 0

    def evaluate_alerts(self) -> list[AlertEvent]:
        Counting.evaluations += 1
        return super().evaluate_alerts()


async def more_evaluations(count: int) -> None:
    target = Counting.evaluations + count
    await wait_for(lambda: Counting.evaluations >= target)


async def test_collector_posts_one_alert_and_one_resolution(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    folder = tmp_path / "store"
    with HttpServer() as server:
        server.routes["/hook"] = flaky(2)
        config = config_for(server.url("/hook"))
        store = Store.open(folder, writer=True)
        pusher = Store.open(folder, writer=False)  # as `kputui push` does
        task = asyncio.create_task(Counting(config, store, alert_interval=0.05).run())
        try:
            pusher.push([Sample("level", time.time() - 2, 80.0)])
            await wait_for(lambda: store.latest("level"))
            await more_evaluations(3)
            assert server.requests == []
            pusher.push([Sample("level", time.time() - 1, 10.0)])
            await wait_for(lambda: [r for r in server.requests if r.body and b"ALERT" in r.body])
            await more_evaluations(10)
            posted = [orjson.loads(r.body) for r in server.requests]
            assert [b["alert"]["event"] for b in posted] == ["fired"] * 3  # two 500s, then accepted
            assert posted[-1]["id"] == "level" and posted[-1]["status"] == "off_track"
            pusher.push([Sample("level", time.time(), 90.0)])
            await wait_for(lambda: len(server.requests) > 3)
            await more_evaluations(10)
            posted = [orjson.loads(r.body) for r in server.requests[3:]]
            assert [(b["alert"]["event"], b["status"]) for b in posted] == [("resolved", "on_track")]
            assert "RESOLVED Stock level" in posted[0]["text"]
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            pusher.close()
            store.close()
    with Store.open(folder, writer=False) as reader:
        assert [e.kind for e in reader.alert_events()] == ["fired", "resolved"]
        stored = orjson.dumps([e.to_doc() for e in reader.alert_events()]) + orjson.dumps(
            [s.to_doc() for s in reader.statuses().values()])
        assert SECRET.encode() not in stored
    assert "ALERT Stock level" in caplog.text
    assert SECRET not in caplog.text


async def test_collector_logs_failed_delivery_without_secret(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    config = config_for(f"http://127.0.0.1:{closed_port()}/hook?token={SECRET}")
    store = Store.open(tmp_path / "store", writer=True)
    task = asyncio.create_task(Counting(config, store, alert_interval=0.05).run())
    try:
        store.push([Sample("level", time.time(), 10.0)])
        await wait_for(lambda: "not delivered" in caplog.text)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        store.close()
    assert SECRET not in caplog.text
