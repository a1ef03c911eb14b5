"""The board: evaluates KPIs from the store, only what needs it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kputui.board import Board
from kputui.config import load_config_text
from kputui.series import Sample
from kputui.store import SourceStatus, Store

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


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A writer store with one sample of a and of b a minute before NOW."""
    store = Store.open(tmp_path / "store", writer=True)
    store.append([Sample("a", NOW - 60, 2.0), Sample("b", NOW - 60, 4.0)])
    yield store
    store.close()


def test_only_new_data_is_re_evaluated_and_only_limits_the_work(store: Store) -> None:
    config = load_config_text(CONFIG)
    clock = [NOW]
    board = Board(config, store, clock=lambda: clock[0])
    assert board.update(None, only=["ka"]) == ["ka"]
    assert set(board.states) == {"ka"}
    assert sorted(board.update(None)) == ["kab", "kb"]  # ka's state did not change
    store.append([Sample("b", NOW - 30, 4.0)])
    clock[0] += 1
    assert sorted(board.update(["b"])) == ["kab", "kb"]  # nothing read by ka changed
    assert board.states["kab"].value == 0.25


def test_a_source_succeeding_again_does_not_re_evaluate_everything(store: Store) -> None:
    config = load_config_text(CONFIG)
    board = Board(config, store, clock=lambda: NOW)
    board.update(None)
    evaluated: list[str] = []
    evaluate = board.evaluate_kpi
    board.evaluate_kpi = lambda spec, now, *rest: evaluated.append(spec.id) or evaluate(spec, now, *rest)
    store.set_status(SourceStatus("crm", NOW, None, None, 0, NOW + 60))
    board.update([])
    assert evaluated == []
    store.set_status(SourceStatus("crm", NOW, "HTTP 500", NOW, 1, NOW + 60))
    board.update([])
    assert sorted(evaluated) == ["ka", "kab", "kb"]  # a failure shows on every KPI of the source
    assert board.states["ka"].status == "error"


def test_a_partial_failure_marks_only_the_kpis_of_the_series_that_failed(store: Store) -> None:
    config = load_config_text(CONFIG)
    store.set_status(SourceStatus("crm", NOW, "series b: path x matched nothing", NOW, 1, NOW + 60, ("b",)))
    board = Board(config, store, clock=lambda: NOW)
    board.update(None)
    assert board.states["ka"].status != "error"
    assert board.states["kb"].status == "error" and "series b" in board.states["kb"].reason
    assert board.states["kab"].status == "error"  # it reads b too
    store.set_status(SourceStatus("crm", None, "connection refused", NOW, 2, NOW + 60))  # all of it
    board.update([])
    assert all(state.status == "error" for state in board.states.values())


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


MIXED = """\
version: 1
settings: {timezone: Europe/Berlin}
sources:
  crm: {type: manual, series: {a: {kind: event}, g: {kind: gauge}, c: {kind: gauge}}}
kpis:
  - {id: day, formula: a, period: day}
  - {id: hour, formula: 'sum(a) / count(a)', period: 'rolling:1h'}
  - {id: gauge, formula: 'max(g) - min(g)', period: 'rolling:24h'}
  - {id: last, formula: 'last(g)', period: week}
  - {id: counter, formula: 'increase(c)', period: 'rolling:2h'}
"""


def test_kept_indexes_give_the_states_a_fresh_board_would(tmp_path: Path) -> None:
    """Samples in order, out of order, late (before the raw horizon), duplicates,
    checkpoints that prune, and a reader replaying it all: after each step, a board that
    keeps its series indexes must agree with one that reads everything afresh."""
    import random

    config = load_config_text(MIXED)
    clock = [NOW]
    writer = Store.open(tmp_path / "store", writer=True, timezone="Europe/Berlin", clock=lambda: clock[0],
                        checkpoint_every=1e9)
    reader = Store.open(tmp_path / "store", writer=False, timezone="Europe/Berlin")
    try:
        rng = random.Random(7)
        writer.append([Sample(n, NOW - 86400 * 3 + 600 * i, float(i % 50)) for i in range(430) for n in "agc"])
        boards = [Board(config, store, clock=lambda: clock[0]) for store in (writer, reader)]
        counter = 0.0
        for step in range(160):
            kind = rng.random()
            now = clock[0]
            if kind < 0.6:  # new samples, a second or more apart
                clock[0] += rng.choice([1, 1, 1, 7, 60])
                counter += rng.random() * 5
                writer.append([Sample("a", clock[0], rng.random()), Sample("g", clock[0], rng.gauss(10, 3)),
                               Sample("c", clock[0], counter if rng.random() > 0.05 else 0.0)])
            elif kind < 0.75:  # out of order inside the raw window, or a duplicate time
                writer.append([Sample("a", now - rng.randint(0, 600), rng.random())])
            elif kind < 0.85:  # late: before the raw horizon, into the tiers
                writer.append([Sample("g", now - 86400 * rng.uniform(0.2, 2.5), rng.random())])
            elif kind < 0.92:
                clock[0] += rng.choice([300, 3600, 2 * 3600])
                writer.checkpoint()  # horizons move, old raw samples become buckets only
            else:
                clock[0] += rng.randint(1, 30)  # time passes, nothing new
            changed = reader.refresh()
            for board, store in zip(boards, (writer, reader)):
                board.update(None if step % 5 == 0 else (changed or {"a", "g", "c"}), only=None)
                fresh = Board(config, store, clock=lambda: clock[0])
                fresh.update(None)
                for kpi_id, state in fresh.states.items():
                    assert board.states[kpi_id] == state, (step, kpi_id, store.writer)
        assert boards[0]._kept and all(k.index for k in boards[0]._kept.values())
    finally:
        reader.close()
        writer.close()
