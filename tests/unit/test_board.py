"""The board: evaluates KPIs from the store, only what needs it."""

from __future__ import annotations

from pathlib import Path

from kputui.board import Board
from kputui.config import load_config_text
from kputui.series import Sample
from kputui.store import Store

CONFIG = """\
version: 1
settings: {timezone: UTC}
sources:
  crm: {type: manual, series: {a: {kind: event}, b: {kind: event}}}
kpis:
  - {id: ka, formula: a, period: day}
  - {id: kb, formula: b, period: day}
  - {id: kab, formula: a / b, period: day}
"""
NOW = 1_790_000_000.0


def test_only_new_data_is_re_evaluated_and_only_limits_the_work(tmp_path: Path) -> None:
    config = load_config_text(CONFIG)
    store = Store.open(tmp_path / "store", writer=True)
    try:
        store.append([Sample("a", NOW - 60, 2.0), Sample("b", NOW - 60, 4.0)])
        clock = [NOW]
        board = Board(config, store, clock=lambda: clock[0])
        assert board.update(None, only=["ka"]) == ["ka"]
        assert set(board.states) == {"ka"}
        assert sorted(board.update(None)) == ["kab", "kb"]  # ka's state did not change
        store.append([Sample("b", NOW - 30, 4.0)])
        clock[0] += 1
        assert sorted(board.update(["b"])) == ["kab", "kb"]  # nothing read by ka changed
        assert board.states["kab"].value == 0.25
    finally:
        store.close()


def test_a_source_succeeding_again_does_not_re_evaluate_everything(tmp_path: Path) -> None:
    from kputui.store import SourceStatus

    config = load_config_text(CONFIG)
    store = Store.open(tmp_path / "store", writer=True)
    try:
        store.append([Sample("a", NOW - 60, 2.0), Sample("b", NOW - 60, 4.0)])
        board = Board(config, store, clock=lambda: NOW)
        board.update(None)
        evaluated: list[str] = []
        evaluate = board.evaluate_kpi
        board.evaluate_kpi = lambda spec, now, indexes=None: evaluated.append(spec.id) or evaluate(spec, now, indexes)
        store.set_status(SourceStatus("crm", NOW, None, None, 0, NOW + 60))
        board.update([])
        assert evaluated == []
        store.set_status(SourceStatus("crm", NOW, "HTTP 500", NOW, 1, NOW + 60))
        board.update([])
        assert sorted(evaluated) == ["ka", "kab", "kb"]  # a failure shows on every KPI of the source
        assert board.states["ka"].status == "error"
    finally:
        store.close()


def test_a_partial_failure_marks_only_the_kpis_of_the_series_that_failed(tmp_path: Path) -> None:
    from kputui.store import SourceStatus

    config = load_config_text(CONFIG)
    store = Store.open(tmp_path / "store", writer=True)
    try:
        store.append([Sample("a", NOW - 60, 2.0), Sample("b", NOW - 60, 4.0)])
        store.set_status(SourceStatus("crm", NOW, "series b: path x matched nothing", NOW, 1, NOW + 60, ("b",)))
        board = Board(config, store, clock=lambda: NOW)
        board.update(None)
        assert board.states["ka"].status != "error"
        assert board.states["kb"].status == "error" and "series b" in board.states["kb"].reason
        assert board.states["kab"].status == "error"  # it reads b too
        store.set_status(SourceStatus("crm", None, "connection refused", NOW, 2, NOW + 60))  # all of it
        board.update([])
        assert all(state.status == "error" for state in board.states.values())
    finally:
        store.close()


async def test_the_collector_names_the_series_a_partial_failure_left_out(tmp_path: Path) -> None:
    import sys

    from kputui.collector import Collector

    script = tmp_path / "tool.py"
    script.write_text('print(\'{"a": 3}\')\n')
    text = (
        "version: 1\n"
        "settings: {timezone: UTC}\n"
        "sources:\n"
        "  tool:\n"
        "    type: command\n"
        f"    command: ['{sys.executable}', '{script}']\n"
        "    series:\n"
        "      a: {path: a, kind: gauge}\n"
        "      b: {path: b, kind: gauge}\n"
        "kpis:\n"
        "  - {id: ka, formula: a, period: day}\n"
    )
    config = load_config_text(text)
    store = Store.open(tmp_path / "store", writer=True)
    try:
        await Collector(config, store).run_once()
        status = store.statuses()["tool"]
        assert status.consecutive_failures == 1 and "series b" in (status.last_error or "")
        assert status.failed_series == ("b",)
        assert store.latest("a").value == 3.0
    finally:
        store.close()
    reopened = Store.open(tmp_path / "store", writer=False)
    try:
        assert reopened.statuses()["tool"].failed_series == ("b",)  # kept through the journal
    finally:
        reopened.close()
