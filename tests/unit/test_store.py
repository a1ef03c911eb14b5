"""The history store in one process: API, bad data, recovery, schema, time zones."""

from __future__ import annotations

import math
import os
from pathlib import Path

import orjson
import pytest
from tinydb import TinyDB, where

from kputui.errors import StoreError, StoreLockedError
from kputui.series import Bucket, Sample
from kputui.store import OrjsonStorage, SourceStatus, Store
from kputui.store import snapshot as store_module
from kputui.store.tiers import TIERS, counter_increase

NOW = 1_764_000_000.0  # 2025-11-24 16:00 UTC


class Clock:
    """A settable clock."""

    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def open_writer(path: Path, clock: Clock | None = None, **kwargs: object) -> Store:
    return Store.open(path, writer=True, clock=clock or Clock(), **kwargs)  # type: ignore[arg-type]


def values(buckets: list[Bucket]) -> list[float]:
    return [b.sum for b in buckets]


def test_append_window_latest(tmp_path: Path) -> None:
    store = open_writer(tmp_path / "s")
    store.append(Sample("orders", NOW - 60 + i * 10, float(i)) for i in range(6))
    window = store.window("orders", NOW - 60, NOW)
    assert [b.start for b in window] == [NOW - 60 + i * 10 for i in range(6)]
    assert values(window) == [0, 1, 2, 3, 4, 5]
    assert store.window("orders", NOW - 30, NOW - 10) == [
        Bucket.of_sample(NOW - 30, 3.0),
        Bucket.of_sample(NOW - 20, 4.0),
    ]
    assert store.latest("orders") == Sample("orders", NOW - 10, 5.0)
    assert store.latest("nothing") is None
    assert store.series_names() == ["orders"]
    store.close()


def test_nan_and_infinities_are_no_value(tmp_path: Path) -> None:
    store = open_writer(tmp_path / "s")
    store.append(
        [
            Sample("x", NOW - 3, 1.0),
            Sample("x", NOW - 2, math.nan),
            Sample("x", NOW - 1, math.inf),
            Sample("x", NOW, -math.inf),
            Sample("y", NOW, None),
        ]
    )
    assert store.window("x", 0, NOW + 1) == [Bucket.of_sample(NOW - 3, 1.0)]
    assert store.latest("x") == Sample("x", NOW - 3, 1.0)
    assert store.latest("y") is None
    store.close()
    text = (tmp_path / "s" / "store.json").read_bytes()
    assert b"NaN" not in text and b"Infinity" not in text
    orjson.loads(text)
    reopened = Store.open(tmp_path / "s", writer=False)
    assert reopened.window("x", 0, NOW + 1) == [Bucket.of_sample(NOW - 3, 1.0)]
    assert reopened.series_names() == ["x", "y"]


def test_duplicates_are_idempotent(tmp_path: Path) -> None:
    clock = Clock()
    store = open_writer(tmp_path / "s", clock)
    batch = [Sample("x", NOW - 100 + i, float(i)) for i in range(50)]
    store.append(batch)
    version = store.version
    store.append(batch)
    store.append([Sample("x", NOW - 100, 99.0)])  # same time, other value: first one wins
    assert store.version == version
    assert sum(values(store.window("x", 0, NOW))) == sum(range(50))
    # Re-importing history older than the raw window is ignored as well.
    clock.now += 5 * 3600
    store.checkpoint()
    assert store.history.horizons["raw"] > NOW
    store.append(batch)
    [bucket] = store.window("x", NOW - 3600, NOW)
    assert (bucket.count, bucket.sum) == (50, sum(range(50)))
    store.close()


def test_no_value_then_value_at_same_time(tmp_path: Path) -> None:
    store = open_writer(tmp_path / "s")
    store.append([Sample("x", NOW, None)])
    store.append([Sample("x", NOW, 4.0)])
    assert store.window("x", 0, NOW + 1) == [Bucket.of_sample(NOW, 4.0)]


def test_out_of_order_buckets_are_exact(tmp_path: Path) -> None:
    clock = Clock()
    store = open_writer(tmp_path / "s", clock)
    day = store.history.calendar.day(NOW - 7200)
    times = [day.start + 3600 + i * 30 for i in range(120)]
    counter = [float(i * 3 % 50) for i in range(120)]  # wraps: resets included
    order = sorted(range(120), key=lambda i: (i * 37) % 120)
    for i in order:
        store.append([Sample("c", times[i], counter[i])])
    clock.now = day.start + 42 * 86400  # past the hourly tier: only the daily one is left
    store.checkpoint()
    [bucket] = store.window("c", day.start, day.end)
    expected_inc = sum(counter_increase(a, b) for a, b in zip(counter, counter[1:]))
    assert bucket == Bucket(
        day.start, day.end, 120, sum(counter), min(counter), max(counter),
        counter[0], counter[-1], expected_inc,
    )


def test_late_samples_below_raw_window(tmp_path: Path) -> None:
    clock = Clock()
    store = open_writer(tmp_path / "s", clock)
    start = store.history.calendar.day(NOW).start + 8 * 3600
    store.append([Sample("x", start + 10, 1.0)])
    clock.now = start + 86400
    store.checkpoint()
    store.append([Sample("x", start + 20, 2.0)])  # later than the bucket's last: accepted
    store.append([Sample("x", start + 5, 7.0)])  # earlier: cannot be placed exactly
    assert store.history.dropped == 1
    [bucket] = store.window("x", start, start + 3600)
    assert (bucket.count, bucket.sum, bucket.first, bucket.last) == (2, 3.0, 1.0, 2.0)


def test_reader_refresh_and_changed_since(tmp_path: Path) -> None:
    writer = open_writer(tmp_path / "s")
    writer.append([Sample("a", NOW, 1.0)])
    reader = Store.open(tmp_path / "s", writer=False)
    assert reader.window("a", 0, NOW + 1) == [Bucket.of_sample(NOW, 1.0)]
    assert reader.refresh() == set()
    v0 = reader.version
    writer.append([Sample("b", NOW, 2.0)])
    writer.append([Sample("a", NOW + 1, 3.0)])
    assert reader.refresh() == {"a", "b"}
    assert reader.latest("a") == Sample("a", NOW + 1, 3.0)
    version, changed = reader.changed_since(v0)
    assert version == reader.version and changed == {"a", "b"}
    assert reader.changed_since(version) == (version, set())
    writer.checkpoint()  # folds exactly what the reader already saw
    assert reader.refresh() == set()
    writer.append([Sample("a", NOW + 2, 4.0)])
    assert reader.refresh() == {"a"}
    assert len(reader.window("a", 0, NOW + 10)) == 3
    with pytest.raises(StoreError):
        reader.append([Sample("a", NOW, 1.0)])


def test_statuses_persist(tmp_path: Path) -> None:
    store = open_writer(tmp_path / "s")
    status = SourceStatus("shop", NOW, "timeout after 10s", NOW + 5, 2, NOW + 60)
    store.set_status(status)
    reader = Store.open(tmp_path / "s", writer=False)
    assert reader.statuses() == {"shop": status}
    store.close()
    assert Store.open(tmp_path / "s", writer=False).statuses() == {"shop": status}
    with TinyDB(tmp_path / "s" / "store.json", storage=OrjsonStorage, access_mode="r") as db:
        assert db.table("statuses").get(where("source") == "shop")["consecutive_failures"] == 2


def test_second_writer_in_same_process_is_refused(tmp_path: Path) -> None:
    store = open_writer(tmp_path / "s")
    with pytest.raises(StoreLockedError) as caught:
        open_writer(tmp_path / "s")
    assert caught.value.pid == os.getpid()
    assert str(os.getpid()) in str(caught.value)
    store.close()
    open_writer(tmp_path / "s").close()


def test_corrupt_snapshot_is_moved_aside(tmp_path: Path) -> None:
    store = open_writer(tmp_path / "s")
    store.append([Sample("a", NOW, 1.0)])
    store.close()
    (tmp_path / "s" / "store.json").write_bytes(b'{"meta": {"1": {"sche')
    reader = Store.open(tmp_path / "s", writer=False)
    assert reader.series_names() == [] and "cannot be read" in reader.warnings[0]
    store = open_writer(tmp_path / "s")
    assert store.series_names() == []
    assert "moved to store.json.corrupt-" in store.warnings[0]
    assert [p.name for p in (tmp_path / "s").glob("store.json.corrupt-*")]
    store.append([Sample("a", NOW, 2.0)])
    store.close()
    assert Store.open(tmp_path / "s", writer=False).latest("a") == Sample("a", NOW, 2.0)


def test_torn_journal_line_is_dropped(tmp_path: Path) -> None:
    store = open_writer(tmp_path / "s")
    store.append([Sample("a", NOW, 1.0)])
    store._journal.close()  # simulate a crash: no checkpoint, lock released below
    store._lock.release()
    journal = tmp_path / "s" / "journal.g0.jsonl"
    with open(journal, "ab") as handle:
        handle.write(b'{"op":"a","s":[["a",17640')
    reader = Store.open(tmp_path / "s", writer=False)
    assert reader.window("a", 0, NOW + 1) == [Bucket.of_sample(NOW, 1.0)]
    store = open_writer(tmp_path / "s")
    assert journal.read_bytes().endswith(b"]]}\n")
    store.append([Sample("a", NOW + 1, 2.0)])
    store.close()
    assert len(Store.open(tmp_path / "s", writer=False).window("a", 0, NOW + 2)) == 2


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    open_writer(tmp_path / "s").close()
    path = tmp_path / "s" / "store.json"
    store = open_writer(tmp_path / "s")
    store.append([Sample("a", NOW, 1.0)])
    store.close()
    data = orjson.loads(path.read_bytes())
    data["meta"]["1"]["schema"] = 99
    path.write_bytes(orjson.dumps(data))
    with pytest.raises(StoreError, match="newer kputui"):
        Store.open(tmp_path / "s", writer=False)


def test_migration_hook_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = open_writer(tmp_path / "s")
    store.append([Sample("a", NOW, 1.0)])
    store.close()

    def rename(data: dict) -> dict:
        for doc in data["series"].values():
            doc["name"] = doc["name"].upper()
        return data

    monkeypatch.setattr(store_module, "SCHEMA_VERSION", 2)
    monkeypatch.setitem(store_module.MIGRATIONS, 1, rename)
    store = open_writer(tmp_path / "s")
    assert store.series_names() == ["A"]
    store.append([Sample("A", NOW + 1, 1.0)])
    store.close()
    data = orjson.loads((tmp_path / "s" / "store.json").read_bytes())
    assert data["meta"]["1"]["schema"] == 2


def test_daily_buckets_follow_local_days(tmp_path: Path) -> None:
    """Berlin's 2025-03-30 has 23 hours; its daily bucket is exactly that day."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    zone = ZoneInfo("Europe/Berlin")
    day_start = datetime(2025, 3, 30, tzinfo=zone).timestamp()
    day_end = datetime(2025, 3, 31, tzinfo=zone).timestamp()
    assert day_end - day_start == 23 * 3600
    clock = Clock(day_end + 60 * 86400)
    store = open_writer(tmp_path / "s", clock, timezone="Europe/Berlin")
    store.append(Sample("e", day_start - 1 + i * 600, 1.0) for i in range(200))
    store.checkpoint()
    buckets = store.window("e", day_start, day_end)
    assert [(b.start, b.end) for b in buckets] == [(day_start, day_end)]
    assert buckets[0].count == sum(1 for i in range(200) if day_start <= day_start - 1 + i * 600 < day_end)
    hourly = [t for t in TIERS if t.name == "h1"][0]
    assert store.history.calendar.bucket_end(hourly, day_start + 22 * 3600) == day_end


def test_times_out_of_range_are_dropped(tmp_path: Path) -> None:
    store = open_writer(tmp_path / "s")
    store.append([Sample("a", math.nan, 1.0), Sample("a", -5.0, 1.0), Sample("a", 1e20, 1.0)])
    assert store.window("a", -1e30, 1e30) == []


def test_push_in_writer_appends_directly(tmp_path: Path) -> None:
    store = open_writer(tmp_path / "s")
    store.push([Sample("m", NOW, 3.0)])
    assert store.latest("m") == Sample("m", NOW, 3.0)
    reader = Store.open(tmp_path / "s", writer=False)
    reader.push([Sample("m", NOW + 1, 4.0)])
    assert store.latest("m") == Sample("m", NOW, 3.0)
    assert store.drain_inbox() == 1
    assert store.drain_inbox() == 0
    assert store.latest("m") == Sample("m", NOW + 1, 4.0)
    assert reader.refresh() == {"m"}


def test_reader_survives_checkpoints_that_delete_its_chunks(tmp_path: Path) -> None:
    clock = Clock()
    writer = open_writer(tmp_path / "s", clock)
    writer.append([Sample("a", NOW - 86400 * 2, 1.0), Sample("a", NOW, 2.0)])
    writer.checkpoint()
    reader = Store.open(tmp_path / "s", writer=False)
    # The writer changes the old day's chunks twice: the files the reader knows are gone.
    writer.append([Sample("a", NOW - 86400 * 2 + 10, 3.0)])
    writer.checkpoint()
    writer.append([Sample("a", NOW - 86400 * 2 + 20, 4.0)])
    writer.checkpoint()
    clock.now += 86400 * 50
    writer.checkpoint()
    chunk_files = {p.name for p in (tmp_path / "s" / "chunks").iterdir()}
    assert not set(reader.history.stored.values()) & chunk_files
    [day] = reader.window("a", NOW - 86400 * 3, NOW - 86400)
    assert (day.count, day.sum) == (3, 8.0)


def test_corrupt_chunk_is_moved_aside(tmp_path: Path) -> None:
    later = Clock(NOW + 86400 * 60)
    store = open_writer(tmp_path / "s", later)
    store.append([Sample("a", NOW - 86400 * 2, 1.0), Sample("a", later.now, 2.0)])
    store.close()  # the checkpoint leaves the old sample in the daily tier only
    chunks = tmp_path / "s" / "chunks"
    assert len(store.window("a", 0, NOW)) == 1
    [victim] = chunks.glob("d1-2025-11.*")
    victim.write_bytes(b"not json")
    reader = Store.open(tmp_path / "s", writer=False)
    assert reader.window("a", 0, NOW) == []
    assert any("cannot be read" in w for w in reader.warnings)
    store = open_writer(tmp_path / "s", later)
    assert store.window("a", 0, NOW) == []
    assert any("moved to" in w for w in store.warnings)
    assert list(chunks.glob("*.corrupt-*"))
    store.append([Sample("a", later.now + 1, 5.0)])
    store.close()
    reader = Store.open(tmp_path / "s", writer=False)
    assert reader.window("a", 0, NOW) == [] and not reader.warnings


def test_inbox_skips_malformed_lines(tmp_path: Path) -> None:
    store = open_writer(tmp_path / "s")
    inbox = tmp_path / "s" / "inbox.jsonl"
    inbox.write_bytes(
        b'{"s": [["a", 1764000000.0, 1.0], ["a", "soon", 2.0], ["a"], ["a", 1764000001.0, "x"]]}\n'
        b'garbage\n{"s": [["b", 1764000000.0, NaN]]}\n{"s": [["c", 1764000000.0, 3.0]]}\n'
        b'{"s": [["torn", 17'
    )
    assert store.drain_inbox() == 2
    assert store.series_names() == ["a", "c"]
    assert inbox.stat().st_size == 0


def test_changed_since_far_back_means_everything(tmp_path: Path) -> None:
    store = open_writer(tmp_path / "s")
    for i in range(600):
        store.append([Sample(f"s{i % 3}", NOW + i, 1.0)])
    version, names = store.changed_since(0)
    assert version == 600 and names == {"s0", "s1", "s2"}
    assert store.changed_since(599) == (600, {"s2"})


def test_reader_forgets_chunks_it_no_longer_uses(tmp_path: Path) -> None:
    clock = Clock()
    store = open_writer(tmp_path / "s", clock)
    store.append(Sample("a", NOW - 86400 * d, 1.0) for d in range(100))
    store.close()
    reader = Store.open(tmp_path / "s", writer=False)
    for d in range(100):
        day = reader.history.calendar.day(NOW - 86400 * d)
        assert len(reader.window("a", day.start, day.end)) == 1
    assert len(reader.history.chunks) <= 64
    assert sum(b.count for b in reader.window("a", 0, NOW + 1)) == 100


def test_unknown_time_zone_is_a_store_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="Mars/Olympus"):
        Store.open(tmp_path / "s", writer=True, timezone="Mars/Olympus")
    open_writer(tmp_path / "s").close()  # and the lock was not left taken


def test_store_keeps_the_zone_it_was_created_with(tmp_path: Path) -> None:
    with open_writer(tmp_path / "s", timezone="Europe/Berlin") as first:
        first.append([Sample("a", NOW, 1.0)])
    store = open_writer(tmp_path / "s", timezone="UTC")
    assert store.timezone == "Europe/Berlin"
    assert any("Europe/Berlin" in w for w in store.warnings)
