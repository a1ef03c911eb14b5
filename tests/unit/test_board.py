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
