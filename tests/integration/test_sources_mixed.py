"""A config mixing every source type, through the real command line: collect, then export.

Also: `kputui collect` (no --once) stops cleanly on SIGTERM with what it gathered written.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from servers.http import HttpServer, Route

from kputui.store import Store

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def server() -> Iterator[HttpServer]:
    with HttpServer() as server:
        server.routes["/shop"] = Route.json({"data": {"orders": 12, "revenue_cents": 123456}})
        yield server


def kputui(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "kputui", *args], capture_output=True, text=True,
                          timeout=timeout, env=env, check=False)


def write_config(folder: Path, server: HttpServer) -> Path:
    now = time.time()
    (folder / "ads.csv").write_text("time,spend\n" + "".join(f"{now - i * 600:.0f},{10 + i}\n" for i in range(3)))
    with sqlite3.connect(folder / "crm.db") as db:
        db.execute("create table deals (won_at real, amount real)")
        db.executemany("insert into deals values (?, ?)", [(now - 300, 1000), (now - 200, 250)])
    db.close()
    sources = {
        "shop": {"type": "http", "url": server.url("/shop"), "series": {
            "orders": {"path": "data.orders", "kind": "event"},
            "revenue": {"path": "data.revenue_cents", "kind": "event", "scale": 0.01, "unit": "EUR"}}},
        "disk": {"type": "command", "command": [sys.executable, "-c", "print('Use%\\n 73%')"],
                 "series": {"disk_used": {"regex": r"(\d+)%", "kind": "gauge", "unit": "%"}}},
        "ads": {"type": "file", "path": "ads.csv",
                "series": {"ad_spend": {"time_column": "time", "value_column": "spend", "kind": "event"}}},
        "crm": {"type": "sqlite", "path": "crm.db",
                "series": {"deal_value": {"query": "select won_at, amount from deals", "kind": "event"}}},
        "manual": {"type": "manual", "series": {"mood": {"kind": "gauge"}}},
        "demo": {"type": "demo", "backfill": "1d", "series": {"visitors": {"base": 100, "kind": "event"}}},
    }
    kpis = [
        {"id": "orders", "name": "Orders", "formula": "sum(orders)", "period": "rolling:24h"},
        {"id": "revenue", "name": "Revenue", "formula": "sum(revenue)", "period": "rolling:24h"},
        {"id": "disk", "name": "Disk", "formula": "last(disk_used)", "period": "rolling:24h"},
        {"id": "ads", "name": "Ads", "formula": "sum(ad_spend)", "period": "rolling:24h"},
        {"id": "deals", "name": "Deals", "formula": "sum(deal_value)", "period": "rolling:24h"},
        {"id": "visitors", "name": "Visitors", "formula": "sum(visitors)", "period": "rolling:24h"},
    ]
    path = folder / "kputui.yaml"
    path.write_text(yaml.safe_dump({"version": 1, "settings": {"timezone": "UTC"}, "sources": sources,
                                    "kpis": kpis}, sort_keys=False))
    return path


def test_every_source_type_feeds_export(server: HttpServer, tmp_path: Path) -> None:
    config = write_config(tmp_path, server)
    store = str(tmp_path / "store")
    collected = kputui("collect", str(config), "--once", "--store", store)
    assert collected.returncode == 0, collected.stderr
    exported = kputui("export", str(config), "--store", store, "--format", "json", "--no-collect")
    assert exported.returncode == 0, exported.stderr
    values = {kpi["id"]: kpi["value"] for kpi in json.loads(exported.stdout)["kpis"]}
    assert values["orders"] == 12
    assert values["revenue"] == pytest.approx(1234.56)
    assert values["disk"] == 73
    assert values["ads"] == 10 + 11 + 12
    assert values["deals"] == 1250
    assert values["visitors"] > 0
    with Store.open(store, writer=False) as reader:
        statuses = reader.statuses()
    assert {name: s.consecutive_failures for name, s in statuses.items()} == {
        "shop": 0, "disk": 0, "ads": 0, "crm": 0, "manual": 0, "demo": 0}


def test_collect_stops_cleanly_on_sigterm_with_samples_written(server: HttpServer, tmp_path: Path) -> None:
    config = write_config(tmp_path, server)
    store = tmp_path / "store"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    process = subprocess.Popen([sys.executable, "-m", "kputui", "collect", str(config), "--store", str(store)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.monotonic() + 20
        while True:
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            if store.exists():
                with Store.open(store, writer=False) as reader:
                    if reader.latest("orders") is not None and reader.latest("deal_value") is not None:
                        break
            assert time.monotonic() < deadline, "the collector wrote nothing within 20 s"
            time.sleep(0.1)
        process.send_signal(signal.SIGTERM)
        assert process.wait(15) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(5)
    with Store.open(store, writer=False) as reader:
        assert reader.latest("orders").value == 12
        assert reader.latest("disk_used").value == 73
        assert set(reader.statuses()) == {"shop", "disk", "ads", "crm", "manual", "demo"}
