"""Issue 7's done-when, as a person runs it: only `kputui collect` runs, a KPI goes off
track (values given with `kputui push`), exactly one webhook arrives, and exactly one
resolution once the value recovers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest
from servers.http import HttpServer, Route

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
SECRET = "t0ken-for-the-hook"
CONFIG = """\
version: 1
settings: {{timezone: UTC}}
notifiers:
  hook:
    type: webhook
    url: "{url}"
    headers: {{Authorization: "Bearer ${{HOOK_TOKEN}}"}}
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


def wait_until(check, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError("timed out")


def test_only_kputui_collect_running_posts_one_alert_and_one_resolution(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HOOK_TOKEN": SECRET}
    with HttpServer() as server:
        server.routes["/hook"] = lambda request: Route.json({"ok": True})
        config = tmp_path / "alerts.yaml"
        config.write_text(CONFIG.format(url=server.url("/hook")))
        store = str(tmp_path / "store")

        def push(value: str) -> None:
            result = subprocess.run([sys.executable, "-m", "kputui", "push", "level", value, str(config),
                                     "--store", store], env=env, capture_output=True, text=True, timeout=60)
            assert result.returncode == 0, result.stderr

        push("80")
        collector = subprocess.Popen([sys.executable, "-m", "kputui", "collect", str(config), "--store", store],
                                     env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            time.sleep(0.5)
            push("10")  # off track: below the floor of 50
            wait_until(lambda: len(server.requests) >= 1)
            push("90")  # back on track
            wait_until(lambda: len(server.requests) >= 2)
            time.sleep(6)  # one more alert evaluation round (every 5 s): nothing new may arrive
        finally:
            collector.send_signal(signal.SIGTERM)
            _, stderr = collector.communicate(timeout=30)
    bodies = [orjson.loads(request.body) for request in server.requests]
    assert [(body["alert"]["event"], body["id"]) for body in bodies] == [("fired", "level"), ("resolved", "level")]
    assert "Stock level" in bodies[0]["text"]
    assert all(request.headers.get("authorization") == f"Bearer {SECRET}" for request in server.requests)
    assert SECRET not in stderr
