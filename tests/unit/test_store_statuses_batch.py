"""Statuses written together land in one journal line and survive a reopen."""

from __future__ import annotations

from pathlib import Path

from kputui.store import SourceStatus, Store


def test_set_statuses_writes_one_line_and_reopens(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "s", writer=True)
    statuses = [SourceStatus(f"src{i}", 100.0 + i, None, None, 0, 160.0) for i in range(50)]
    journal = next((tmp_path / "s").glob("journal.*.jsonl"))
    lines_before = journal.read_text().count("\n")
    store.set_statuses(statuses)
    assert journal.read_text().count("\n") == lines_before + 1
    store.set_status(SourceStatus("src3", 200.0, "boom", 201.0, 1, 260.0))
    reader = Store.open(tmp_path / "s", writer=False)
    try:
        seen = reader.statuses()
        assert len(seen) == 50
        assert seen["src7"] == statuses[7]
        assert seen["src3"].last_error == "boom" and seen["src3"].consecutive_failures == 1
    finally:
        reader.close()
        store.close()
    again = Store.open(tmp_path / "s", writer=False)
    try:
        assert again.statuses()["src49"] == statuses[49]
    finally:
        again.close()
