"""The command line as a user meets it: exit codes, located errors, no tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

BROKEN = """\
version: 1
sources:
  crm:
    type: manual
    series:
      orders: {kind: event}
      orders_sum: {kind: evnt}
kpis:
  - id: orders
    formula: sum(orders) / visitors
    period: week
  - id: orders
    formula: orders
    period: fortnight
dashboards:
  - name: Main
    kpis: [orders, nope]
"""

MANUAL = """\
version: 1
settings: {timezone: UTC}
sources:
  crm:
    type: manual
    series:
      deals_won: {kind: event}
kpis:
  - id: deals
    name: Deals won
    formula: sum(deals_won)
    period: year
"""


def kputui(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "XDG_CONFIG_HOME": str(cwd or ROOT), "XDG_DATA_HOME": str((cwd or ROOT) / ".data")}
    return subprocess.run(
        [sys.executable, "-m", "kputui", *args], capture_output=True, text=True, timeout=120, cwd=cwd, env=env
    )


def test_check_accepts_the_bundled_demo() -> None:
    result = kputui("check", str(ROOT / "sample_config.yaml"))
    assert result.returncode == 0, result.stderr
    assert "12 KPIs" in result.stdout


def test_check_reports_every_error_located_and_exits_1(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(BROKEN)
    result = kputui("check", str(path))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    expected = [
        f"{path}:7:26: sources.crm.series.orders_sum.kind:",  # kind: evnt
        f"{path}:10:28: kpis[0].formula:",  # visitors is unknown, column of the name
        f"{path}:12:9: kpis[1].id:",  # the second `orders`
        f"{path}:14:13: kpis[1].period:",  # fortnight
        f"{path}:17:20: dashboards[0].kpis[1]:",  # nope
    ]
    for prefix in expected:
        assert any(line.startswith(prefix) for line in lines), (prefix, lines)
    assert lines[-1] == "kputui: 5 errors in the config"


def test_check_of_a_missing_file_is_a_user_error(tmp_path: Path) -> None:
    result = kputui("check", str(tmp_path / "absent.yaml"))
    assert result.returncode == 1
    assert "absent.yaml" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("command", ["", "check", "collect", "export", "push", "serve", "snapshot"])
def test_every_command_has_help(command: str) -> None:
    result = kputui(*([command] if command else []), "--help")
    assert result.returncode == 0
    assert "--store" in result.stdout


def test_push_records_a_manual_value_that_export_then_shows(tmp_path: Path) -> None:
    config = tmp_path / "crm.yaml"
    config.write_text(MANUAL)
    store = str(tmp_path / "store")
    pushed = kputui("push", "deals_won", "3", "--at", "2026-02-01T10:00:00+00:00", str(config), "--store", store)
    assert pushed.returncode == 0, pushed.stderr
    kputui("push", "deals_won", "4.5", str(config), "--store", store)
    result = kputui("export", str(config), "--store", store)
    assert result.returncode == 0, result.stderr
    (deals,) = json.loads(result.stdout)["kpis"]
    assert deals["value"] == 7.5


def test_push_refuses_unknown_series_and_bad_values(tmp_path: Path) -> None:
    config = tmp_path / "crm.yaml"
    config.write_text(MANUAL)
    store = str(tmp_path / "store")
    unknown = kputui("push", "revenue", "3", str(config), "--store", store)
    assert unknown.returncode == 1 and "manual series: deals_won" in unknown.stderr
    for bad in ("ten", "nan", "inf"):
        result = kputui("push", "deals_won", bad, str(config), "--store", store)
        assert result.returncode == 1 and "finite number" in result.stderr, bad


def test_export_refuses_an_unknown_kpi(tmp_path: Path) -> None:
    config = tmp_path / "crm.yaml"
    config.write_text(MANUAL)
    result = kputui("export", str(config), "--kpi", "nope", "--store", str(tmp_path / "store"))
    assert result.returncode == 1 and "unknown KPI id: nope" in result.stderr


def test_export_of_the_demo_gives_every_kpi_a_value_and_status(tmp_path: Path) -> None:
    result = kputui("export", str(ROOT / "sample_config.yaml"), "--store", str(tmp_path / "store"))
    assert result.returncode == 0, result.stderr
    kpis = json.loads(result.stdout)["kpis"]
    assert len(kpis) == 12
    for kpi in kpis:
        assert isinstance(kpi["value"], float), kpi["id"]
        assert kpi["status"] in {"on_track", "at_risk", "off_track", "no_target"}, (kpi["id"], kpi["status"])


def test_export_csv_has_a_header_and_a_row_per_kpi(tmp_path: Path) -> None:
    result = kputui("export", str(ROOT / "sample_config.yaml"), "--format", "csv", "--store", str(tmp_path / "s"))
    assert result.returncode == 0, result.stderr
    rows = result.stdout.strip().splitlines()
    assert rows[0].startswith("id,name,")
    assert len(rows) == 13


def test_no_config_anywhere_falls_back_to_the_demo(tmp_path: Path) -> None:
    result = kputui("check", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "sample_config.yaml" in result.stdout


def test_a_kputui_yaml_in_the_current_folder_wins(tmp_path: Path) -> None:
    (tmp_path / "kputui.yaml").write_text(MANUAL)
    result = kputui("check", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "kputui.yaml: ok: 1 sources" in result.stdout


def test_collect_serves_metrics_and_stops_on_sigterm(tmp_path: Path) -> None:
    import signal
    import socket
    import time

    import httpx

    config = tmp_path / "crm.yaml"
    config.write_text(MANUAL)
    store = str(tmp_path / "store")
    assert kputui("push", "deals_won", "3", str(config), "--store", store).returncode == 0
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "kputui", "collect", str(config), "--store", store,
         "--metrics-listen", f"127.0.0.1:{port}"],
        stderr=subprocess.PIPE, text=True, env=env,
    )
    try:
        deadline = time.monotonic() + 30
        body = ""
        while time.monotonic() < deadline:
            try:
                body = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text
            except httpx.HTTPError:
                time.sleep(0.1)
                continue
            if 'kputui_kpi_value{kpi="deals"' in body:
                break
            time.sleep(0.1)
        assert 'kputui_series_value{series="deals_won"' in body
        line = next(line for line in body.splitlines() if line.startswith('kputui_kpi_value{kpi="deals"'))
        assert float(line.rsplit(" ", 1)[1]) == 3.0
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    assert f"serving Prometheus metrics at http://127.0.0.1:{port}" in stderr


def test_metrics_listen_is_checked_before_anything_runs(tmp_path: Path) -> None:
    config = tmp_path / "crm.yaml"
    config.write_text(MANUAL)
    result = kputui("collect", str(config), "--store", str(tmp_path / "s"), "--metrics-listen", "::1:9464")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    result = kputui("collect", str(config), "--once", "--metrics-listen", "127.0.0.1:9464")
    assert result.returncode == 1 and "--once" in result.stderr
