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


def test_unsynced_appends_are_readable_at_once_and_durable_after_sync(tmp_path: Path) -> None:
    from kputui.series import Sample

    store = Store.open(tmp_path / "s", writer=True)
    try:
        store.append([Sample("orders", 1000.0, 3.0)], sync=False)
        assert store.latest("orders") == Sample("orders", 1000.0, 3.0)
        reader = Store.open(tmp_path / "s", writer=False)  # the line is in the file already
        try:
            assert reader.latest("orders") == Sample("orders", 1000.0, 3.0)
        finally:
            reader.close()
        store.sync()
    finally:
        store.close()
    store.sync()  # closed: nothing to do, no error
