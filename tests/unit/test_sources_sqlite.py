"""SQLite sources: read-only, one value or (time, value) rows, interrupted at the timeout."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from kputui.config import load_config_text
from kputui.errors import SourceError
from kputui.sources import PartialFailure, build_source

NOW = 1_780_000_000.0


@pytest.fixture
def database(tmp_path: Path) -> Path:
    path = tmp_path / "shop.db"
    with sqlite3.connect(path) as db:
        db.execute("create table orders (at text, amount real)")
        db.executemany("insert into orders values (?, ?)",
                       [("2026-01-01T10:00:00Z", 10), ("2026-01-01T11:00:00Z", 5.5), ("2026-01-02T09:00:00Z", 2)])
    db.close()
    return path


def sqlite_source(path: Path, timeout: str = "5s", **queries: str) -> Any:
    text = yaml.safe_dump({"version": 1, "sources": {"db": {"type": "sqlite", "path": str(path), "timeout": timeout,
                           "series": {n: {"query": q, "kind": "event"} for n, q in queries.items()}}}},
                          sort_keys=False)
    return build_source(load_config_text(text, env={}).sources[0])


async def test_one_value_and_time_value_rows(database: Path) -> None:
    source = sqlite_source(database, total="select sum(amount) from orders",
                           orders="select at, amount from orders order by at")
    samples = await source.poll(NOW)
    assert [(s.series, s.value) for s in samples] == [("total", 17.5), ("orders", 10.0), ("orders", 5.5),
                                                      ("orders", 2.0)]
    assert samples[0].time == NOW
    again = await source.poll(NOW + 60)
    assert [(s.series, s.value) for s in again] == [("total", 17.5)]  # rows already delivered are not repeated


async def test_the_database_is_opened_read_only(database: Path) -> None:
    source = sqlite_source(database, gone="delete from orders returning 1")
    with pytest.raises(SourceError, match="readonly|read-only"):
        await source.poll(NOW)
    with sqlite3.connect(database) as db:
        assert db.execute("select count(*) from orders").fetchone() == (3,)


async def test_bad_results_fail_their_series(database: Path) -> None:
    source = sqlite_source(database, fine="select 1", none="select amount from orders where 0",
                           many="select amount from orders", wide="select 1, 2, 3",
                           text="select 'abc'", badtime="select 'soon', 1", broken="selec")
    with pytest.raises(PartialFailure) as caught:
        await source.poll(NOW)
    assert [s.value for s in caught.value.samples] == [1.0]
    assert str(caught.value).split("; ") == [
        "series none: the query returned no rows",
        "series many: the query returned 3 rows of one column: expected one value or (time, value) rows",
        "series wide: the query returned 3 columns: expected one value or (time, value) rows",
        "series text: value 'abc' is not a number",
        "series badtime: row 1: time 'soon' is not ISO 8601 or epoch seconds",
        'series broken: near "selec": syntax error',
    ]


async def test_a_missing_database_is_not_created(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="^database not found: .*missing.db$"):
        await sqlite_source(tmp_path / "missing.db", v="select 1").poll(NOW)
    assert not (tmp_path / "missing.db").exists()


async def test_a_slow_query_is_interrupted_at_the_timeout(database: Path) -> None:
    slow = ("with recursive n(i) as (select 1 union all select i + 1 from n where i < 1000000000) "
            "select count(*) from n")
    started = time.monotonic()
    with pytest.raises(SourceError, match="^timed out$"):
        await sqlite_source(database, timeout="0.3s", slow=slow).poll(NOW)
    assert time.monotonic() - started < 3
