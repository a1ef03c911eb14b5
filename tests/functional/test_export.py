"""`kputui export`: KPI states from a real store, checked against values computed by hand."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from kputui.board import Board
from kputui.config import load_config_text
from kputui.series import Sample
from kputui.store import Store

BERLIN = ZoneInfo("Europe/Berlin")
# Thursday 2026-12-03 15:00 in Berlin; the week began Monday 2026-11-30 00:00 (CET, +01:00).
NOW = datetime(2026, 12, 3, 15, 0, tzinfo=BERLIN).timestamp()

CONFIG = """\
version: 1
settings: {timezone: Europe/Berlin, week_start: monday}
sources:
  crm:
    type: manual
    series:
      orders: {kind: event}
      visitors: {kind: event}
      followers: {kind: gauge}
kpis:
  - id: conversion
    name: Conversion
    formula: orders / visitors
    period: week
    format: {style: percent, decimals: 1}
    target: {value: 0.05, mode: stay_above}
  - id: orders_today
    name: Orders today
    formula: sum(orders)
    period: day
    format: {style: integer}
    target: 10
  - id: followers
    name: Followers
    formula: last(followers)
    period: month
    format: {style: integer}
"""


def at(day: int, hour: int, month: int = 12) -> float:
    return datetime(2026, month, day, hour, tzinfo=BERLIN).timestamp()


@pytest.fixture
def store(tmp_path: Path) -> Store:
    store = Store.open(tmp_path / "store", writer=True, timezone="Europe/Berlin")
    store.append(
        [
            # Last week (not in this week's window, but the comparison's).
            Sample("orders", at(26, 10, 11), 4.0),
            Sample("visitors", at(26, 10, 11), 100.0),
            # This week: Monday, Wednesday, and Thursday (today) before 15:00.
            Sample("orders", at(30, 9, 11), 3.0),
            Sample("visitors", at(30, 9, 11), 50.0),
            Sample("orders", at(2, 12), 2.0),
            Sample("visitors", at(2, 12), 70.0),
            Sample("orders", at(3, 8), 5.0),
            Sample("visitors", at(3, 8), 80.0),
            Sample("followers", at(1, 9), 1200.0),
            Sample("followers", at(3, 11), 1234.0),
        ]
    )
    yield store
    store.close()


def test_states_from_the_store_match_hand_computed_values(store: Store) -> None:
    config = load_config_text(CONFIG, "test.yaml")
    board = Board(config, store, clock=lambda: NOW)
    board.update(None)
    states = board.states

    conversion = states["conversion"]
    # This week: orders 3 + 2 + 5 = 10, visitors 50 + 70 + 80 = 200 -> 5 %.
    assert conversion.value == pytest.approx(10 / 200)
    assert conversion.formatted == "5.0%"
    # Last week to the same moment (Mon 23 Nov .. Thu 26 Nov 15:00): 4 / 100.
    assert conversion.previous == pytest.approx(0.04)
    # Exactly on the 5 % floor: met, but inside the default 10 % cushion above it.
    assert conversion.status == "at_risk"
    assert conversion.period_start == datetime(2026, 11, 30, tzinfo=BERLIN)

    today = states["orders_today"]
    assert today.value == 5.0  # only the 08:00 sample is today
    assert today.target == 10.0

    followers = states["followers"]
    assert followers.value == 1234.0
    assert followers.status == "no_target"


def test_export_command_prints_every_kpi_as_json(tmp_path: Path, store: Store) -> None:
    config_path = tmp_path / "kpis.yaml"
    config_path.write_text(CONFIG)
    store_path = tmp_path / "store"
    store.close()
    result = subprocess.run(
        [sys.executable, "-m", "kputui", "export", str(config_path), "--store", str(store_path), "--no-collect"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert [kpi["id"] for kpi in document["kpis"]] == ["conversion", "orders_today", "followers"]
    required = {"id", "name", "value", "formatted", "unit", "period_start", "period_end", "previous", "change",
                "change_pct", "target", "target_mode", "progress", "projected", "status", "updated_at", "sparkline"}
    for kpi in document["kpis"]:
        assert required <= set(kpi)
        assert datetime.fromisoformat(kpi["period_start"]).utcoffset() is not None
    datetime.fromisoformat(document["generated_at"])


def test_export_at_a_past_moment_gives_the_values_of_then(tmp_path: Path, store: Store) -> None:
    config_path = tmp_path / "kpis.yaml"
    config_path.write_text(CONFIG)
    store.close()
    at = datetime.fromtimestamp(NOW, BERLIN).isoformat()
    result = subprocess.run(
        [sys.executable, "-m", "kputui", "export", str(config_path), "--store", str(tmp_path / "store"), "--at", at],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    kpis = {kpi["id"]: kpi for kpi in json.loads(result.stdout)["kpis"]}
    assert kpis["conversion"]["value"] == pytest.approx(10 / 200)  # as worked out above
    assert kpis["orders_today"]["value"] == 5.0
    assert kpis["conversion"]["period_start"] == "2026-11-30T00:00:00+01:00"


def test_snapshot_writes_text_svg_and_html_with_every_kpi(tmp_path: Path, store: Store) -> None:
    config_path = tmp_path / "kpis.yaml"
    config_path.write_text(CONFIG)
    store.close()
    documents = {}
    for kind in ("txt", "svg", "html"):
        output = tmp_path / f"report.{kind}"
        result = subprocess.run(
            [sys.executable, "-m", "kputui", "snapshot", str(config_path), "--store", str(tmp_path / "store"),
             "--output", str(output), "--size", "120x40", "--no-collect"],
            capture_output=True, text=True, timeout=60,
        )
        assert result.returncode == 0, result.stderr
        documents[kind] = output.read_text()
    text = documents["txt"]
    exported = subprocess.run(
        [sys.executable, "-m", "kputui", "export", str(config_path), "--store", str(tmp_path / "store"),
         "--no-collect"],
        capture_output=True, text=True, timeout=60,
    )
    for kpi in json.loads(exported.stdout)["kpis"]:
        assert kpi["name"] in text
        assert kpi["formatted"] in text, kpi["id"]
    assert documents["svg"].lstrip().startswith("<svg") and "Followers" in documents["svg"]
    assert "<html" in documents["html"].lower() and "Followers" in documents["html"]


def test_snapshot_refuses_an_unknown_format(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "kputui", "snapshot", "--output", str(tmp_path / "report.pdf")],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 1 and ".svg, .html or .txt" in result.stderr
