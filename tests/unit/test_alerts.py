"""Alert rules: the pure state machine with a fake clock, its memory in a real store, and
the config's `alerts:` and `notifiers:` with located errors."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from kputui.alerts import AlertMemory, AlertRule, holds, step
from kputui.board import Board
from kputui.collector import Collector
from kputui.config import Config, load_config_text
from kputui.errors import ConfigError
from kputui.kpi.state import KpiState
from kputui.series import Sample
from kputui.store import Store

T0 = 1_780_000_000.0 - 1_780_000_000.0 % 86400 + 12 * 3600  # noon UTC, mid-day

CONFIG = """\
version: 1
settings: {timezone: UTC}
notifiers:
  team: {type: webhook, url: "http://127.0.0.1:9/hook", headers: {Authorization: "Bearer ${TOKEN}"}}
  ring: {type: bell}
sources:
  crm: {type: manual, series: {level: {kind: gauge}}}
kpis:
  - id: level
    name: Stock level
    formula: level
    period: day
    target: {value: 50, mode: stay_above}
    alerts:
      - {when: off_track, for: 10m, notify: [team, ring]}
"""


def load(text: str = CONFIG) -> Config:
    return load_config_text(text, "alerts.yaml", env={"TOKEN": "s3cr3t-t0ken-value"})


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_config_reads_alerts_and_notifiers() -> None:
    config = load()
    assert config.alerts == (AlertRule("level", 0, "off_track", None, 600.0, ("team", "ring")),)
    assert config.notifiers["team"].options["headers"]["Authorization"] == "Bearer s3cr3t-t0ken-value"
    assert config.notifiers["ring"].type == "bell"


def test_threshold_forms() -> None:
    text = CONFIG.replace("{when: off_track, for: 10m, notify: [team, ring]}",
                          "{when: {above: 100}}\n      - {below: 5, for: 0}\n      - {when: goal_reached, for: 90s}")
    rules = load(text).alerts
    assert [(r.when, r.threshold, r.hold) for r in rules] == [
        ("above", 100.0, 0.0), ("below", 5.0, 0.0), ("goal_reached", None, 90.0)]


@pytest.mark.parametrize(("alert", "where", "message"), [
    ("{when: off_track, notify: [teem]}", "15:36", 'kpis[0].alerts[0].notify[0]: unknown notifier "teem" (did you mean "team"?)'),
    ("{when: off_track, for: soon}", "15:32", "kpis[0].alerts[0].for: expected a duration"),
    ("{when: of_track}", "15:16", 'kpis[0].alerts[0].when: expected off_track, at_risk'),
    ("{when: {above: lots}}", "15:24", "kpis[0].alerts[0].when.above: expected a number"),
    ("{when: stale, above: 3}", "15:9", "kpis[0].alerts[0]: expected exactly one of when, above or below"),
    ("{when: error, every: 5m}", "15:23", 'kpis[0].alerts[0].every: unknown key "every"'),
])
def test_alert_errors_are_located(alert: str, where: str, message: str) -> None:
    text = CONFIG.replace("{when: off_track, for: 10m, notify: [team, ring]}", alert)
    with pytest.raises(ConfigError) as caught:
        load(text)
    shown = [str(issue) for issue in caught.value.issues]
    assert any(line.startswith(f"alerts.yaml:{where}: {message}") for line in shown), shown


@pytest.mark.parametrize(("notifier", "where", "message"), [
    ("{type: pager}", "4:16", "notifiers.team.type: expected bell, webhook or command"),
    ("{type: webhook}", "4:9", 'notifiers.team: missing required key "url"'),
    ("{type: webhook, url: ftp://x}", "4:30", "notifiers.team.url: expected an http:// or https:// URL"),
    ("{type: webhook, url: http://x, retries: many}", "4:49", "notifiers.team.retries: expected a whole number"),
    ("{type: command, command: notify-send}", "4:34", "notifiers.team.command: expected a list"),
    ("{type: bell, url: http://x}", "4:22", 'notifiers.team.url: unknown key "url"'),
])
def test_notifier_errors_are_located(notifier: str, where: str, message: str) -> None:
    text = CONFIG.replace('{type: webhook, url: "http://127.0.0.1:9/hook", headers: {Authorization: "Bearer ${TOKEN}"}}',
                          notifier)
    with pytest.raises(ConfigError) as caught:
        load(text)
    shown = [str(issue) for issue in caught.value.issues]
    assert len(shown) == 1 and shown[0].startswith(f"alerts.yaml:{where}: {message}"), shown


def test_unset_secret_is_an_error_naming_it() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config_text(CONFIG, "alerts.yaml", env={})
    assert any("environment variable TOKEN is not set" in str(i) for i in caught.value.issues)


# --- the pure state machine

def state_of(value: float | None, tmp_path: Path) -> KpiState:
    config = load()
    with Store.open(tmp_path / f"s{value}", writer=True) as store:
        if value is not None:
            store.append([Sample("level", T0 - 60, value)])
        board = Board(config, store, clock=lambda: T0)
        board.update()
        return board.states["level"]


def test_conditions(tmp_path: Path) -> None:
    low, high = state_of(10.0, tmp_path), state_of(80.0, tmp_path)
    assert low.status == "off_track" and high.status == "on_track"
    rule = AlertRule("level", 0, "off_track")
    assert holds(rule, low) and not holds(rule, high)
    assert holds(dataclasses.replace(rule, when="goal_reached"), high)
    assert not holds(dataclasses.replace(rule, when="goal_reached"), low)
    assert holds(AlertRule("level", 0, "above", 70.0), high) and not holds(AlertRule("level", 0, "above", 80.0), high)
    assert holds(AlertRule("level", 0, "below", 11.0), low)
    assert not holds(AlertRule("level", 0, "below", 11.0), state_of(None, tmp_path))
    assert holds(AlertRule("level", 0, "stale"), dataclasses.replace(low, status="stale"))


def test_step_fires_after_hold_once_and_resolves_once(tmp_path: Path) -> None:
    low, high = state_of(10.0, tmp_path), state_of(80.0, tmp_path)
    rule = AlertRule("level", 0, "off_track", hold=600.0, notify=("team",))
    memory: dict[str, AlertMemory] = {}
    seen = []
    for now, state in [(0, low), (300, low), (599, low), (600, low), (700, low), (5000, low),
                       (5001, high), (5002, high), (5003, low), (5004, high)]:
        memory, events = step([rule], {"level": state}, memory, T0 + now)
        seen += [(now, e.kind) for e in events]
    # The low at 5003 lasted 1 s, less than `for`: no second alert (no flapping).
    assert seen == [(600, "fired"), (5001, "resolved")]


def test_zero_hold_fires_on_first_sight(tmp_path: Path) -> None:
    rule = AlertRule("level", 0, "below", 20.0)
    memory, events = step([rule], {"level": state_of(10.0, tmp_path)}, {}, T0)
    assert [e.kind for e in events] == ["fired"]
    payload = events[0].payload()
    assert payload["id"] == "level" and payload["status"] == "off_track"
    assert payload["text"].startswith("ALERT Stock level: below 20")
    assert payload["alert"]["event"] == "fired"


# --- through the collector, with its memory in a real store, across a restart

def test_collector_alert_survives_restart(tmp_path: Path) -> None:
    config = load()
    folder = tmp_path / "store"
    clock = Clock(T0)
    store = Store.open(folder, writer=True, clock=clock)
    collector = Collector(config, store, clock=clock)
    store.append([Sample("level", T0, 80.0)])
    assert collector.evaluate_alerts() == []
    clock.now = T0 + 60
    store.append([Sample("level", T0 + 60, 10.0)])
    assert collector.evaluate_alerts() == []
    clock.now = T0 + 400
    assert collector.evaluate_alerts() == []
    store.close()  # a restart, 340 s into the 600 s the condition must hold

    store = Store.open(folder, writer=True, clock=clock)
    collector = Collector(config, store, clock=clock)
    assert store.alert_memory()[config.alerts[0].key].since == T0 + 60
    clock.now = T0 + 659
    assert collector.evaluate_alerts() == []
    clock.now = T0 + 660
    fired = collector.evaluate_alerts()
    assert [(e.kind, e.seq, e.notify) for e in fired] == [("fired", 1, ("team", "ring"))]
    for later in (700, 800, 2000):
        clock.now = T0 + later
        assert collector.evaluate_alerts() == []
    store.append([Sample("level", T0 + 2001, 90.0)])
    clock.now = T0 + 2001
    assert [(e.kind, e.seq) for e in collector.evaluate_alerts()] == [("resolved", 2)]
    clock.now = T0 + 2100
    assert collector.evaluate_alerts() == []
    store.close()

    with Store.open(folder, writer=False) as reader:  # what the UI reads
        events = reader.alert_events()
        assert [(e.kind, e.kpi_id, e.status) for e in events] == [("fired", "level", "off_track"),
                                                                  ("resolved", "level", "on_track")]
        assert reader.alert_events(after=1)[0].kind == "resolved"
        assert reader.alert_seq == 2
        assert not reader.alert_memory()[config.alerts[0].key].firing


def test_reader_sees_alert_events_from_the_journal(tmp_path: Path) -> None:
    config = load()
    clock = Clock(T0)
    with Store.open(tmp_path, writer=True, clock=clock) as store, Store.open(tmp_path, writer=False) as reader:
        store.append([Sample("level", T0, 10.0)])
        clock.now = T0 + 600
        collector = Collector(config, store, clock=clock)
        assert collector.evaluate_alerts() == []  # first sight starts the 10 minutes
        clock.now = T0 + 1200
        assert len(collector.evaluate_alerts()) == 1
        seq = reader.alert_seq
        reader.refresh()
        new = reader.alert_events(after=seq)
        assert [e.kind for e in new] == ["fired"] and new[0].text.startswith("ALERT Stock level")
        assert new[0].severity == "warning"


def test_state_machine_does_no_io() -> None:
    import subprocess
    import sys

    code = ("import sys, kputui.alerts; print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('httpx', 'tinydb', 'textual', 'asyncio') or m.startswith(('kputui.store', 'kputui.sources'))))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
