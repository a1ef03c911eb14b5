"""An alert the collector fires shows in the dashboard as a notification, once."""

from __future__ import annotations

import time
from pathlib import Path

from kputui.collector import Collector
from kputui.config import load_config
from kputui.series import Sample
from kputui.store import Store
from kputui.ui.app import KputuiApp

CONFIG = """\
version: 1
settings: {timezone: UTC}
notifiers:
  ring: {type: bell}
sources:
  crm: {type: manual, series: {deals: {kind: event}}}
kpis:
  - id: deals
    name: Deals won
    formula: deals
    period: day
    target: {value: 10, mode: stay_above}
    alerts:
      - {when: off_track, notify: [ring]}
"""


async def test_a_fired_alert_is_notified_once(tmp_path: Path) -> None:
    path = tmp_path / "kpis.yaml"
    path.write_text(CONFIG)
    config = load_config(path)
    store = Store.open(tmp_path / "store", writer=True, timezone="UTC")
    store.append([Sample("deals", time.time() - 60, 2.0)])  # 2 of a floor of 10: off track
    try:
        app = KputuiApp(config, store, collector=Collector(config, store, alert_interval=0.05),
                        refresh_interval=0.05)
        bells = []
        app.bell = lambda: bells.append(1)
        async with app.run_test(size=(80, 24)) as pilot:
            deadline = time.monotonic() + 15
            alerts: list[str] = []
            while time.monotonic() < deadline and not alerts:
                await pilot.pause(0.05)
                alerts = [str(n.message) for n in app._notifications if n.title == "KPI alert"]
            assert len(alerts) == 1 and "Deals won" in alerts[0]
            for _ in range(10):
                await pilot.pause(0.05)
            assert len([n for n in app._notifications if n.title == "KPI alert"]) == 1
            assert bells == [1]
    finally:
        store.close()
