"""File sources: CSV, JSON and JSON Lines; changed files only; new rows only; broken rows."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from kputui.config import load_config_text
from kputui.errors import SourceError
from kputui.sources import PartialFailure, build_source

NOW = 1_780_000_000.0
JAN_1 = 1767225600.0
DAY = 86400.0


def file_source(path: Path, timezone: str = "UTC", **series: dict[str, Any]) -> Any:
    series = series or {"spend": {"time_column": "date", "value_column": "spend", "kind": "event"}}
    text = yaml.safe_dump({"version": 1, "sources": {"ads": {"type": "file", "path": str(path), "series": series}}},
                          sort_keys=False)
    return build_source(load_config_text(text, env={}).sources[0], timezone=timezone)


def touch_later(path: Path) -> None:
    """Make sure the change is seen even on a coarse-mtime file system."""
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


async def test_csv_rows_become_samples_and_are_imported_once(tmp_path: Path) -> None:
    path = tmp_path / "ads.csv"
    path.write_text("date,spend\n2026-01-01,10\n2026-01-02,12.5\n")
    source = file_source(path)
    first = await source.poll(NOW)
    assert [(s.time, s.value) for s in first] == [(JAN_1, 10.0), (JAN_1 + DAY, 12.5)]
    assert await source.poll(NOW) == []  # unchanged: not even read
    with path.open("a") as handle:
        handle.write("2026-01-03,7\n")
    touch_later(path)
    assert [(s.time, s.value) for s in await source.poll(NOW)] == [(JAN_1 + 2 * DAY, 7.0)]
    touch_later(path)  # same rows again: nothing new
    assert await source.poll(NOW) == []


async def test_dates_without_offset_are_local_and_scale_applies(tmp_path: Path) -> None:
    path = tmp_path / "ads.csv"
    path.write_text("day;cents\n01.01.2026;1050\n")
    source = file_source(path, timezone="Europe/Berlin", spend={
        "time_column": "day", "value_column": "cents", "time_format": "%d.%m.%Y", "kind": "event", "scale": 0.01})
    path.write_text("day,cents\n01.01.2026,1050\n")
    assert [(s.time, s.value) for s in await source.poll(NOW)] == [(JAN_1 - 3600, 10.5)]


async def test_broken_rows_are_skipped_with_line_numbers_and_stay_reported(tmp_path: Path) -> None:
    path = tmp_path / "ads.csv"
    path.write_text("date,spend\n2026-01-01,10\n2026-01-01,11\n2026-01-02,\n2026-01-03,1e999\n2026-01-04,5\n")
    source = file_source(path)
    with pytest.raises(PartialFailure) as caught:
        await source.poll(NOW)
    assert str(caught.value) == ("ads.csv: 2 rows skipped: line 3: a second row for the same time (only the first "
                                 "counts); line 5: value infinity is not a number")
    assert [s.value for s in caught.value.samples] == [10.0, 5.0]
    with pytest.raises(PartialFailure) as again:  # unchanged file: the report stays, no samples
        await source.poll(NOW)
    assert again.value.samples == [] and str(again.value) == str(caught.value)
    path.write_text("date,spend\n2026-01-01,10\n2026-01-04,5\n")
    touch_later(path)
    assert await source.poll(NOW) == []


async def test_many_broken_rows_are_counted(tmp_path: Path) -> None:
    path = tmp_path / "ads.csv"
    path.write_text("date,spend\n" + "".join(f"2026-01-{d:02d},x\n" for d in range(1, 11)))
    with pytest.raises(PartialFailure, match=r"^ads\.csv: 10 rows skipped: line 2: .*; line 4: value 'x' is not a "
                                             r"number \(and 7 more\)$"):
        await file_source(path).poll(NOW)


async def test_a_missing_column_is_named(tmp_path: Path) -> None:
    path = tmp_path / "ads.csv"
    path.write_text("date,cost\n2026-01-01,10\n")
    with pytest.raises(PartialFailure, match=r"^ads\.csv: 1 row skipped: line 2: no column 'spend'$"):
        await file_source(path).poll(NOW)


async def test_json_lines_and_json(tmp_path: Path) -> None:
    lines = tmp_path / "ads.jsonl"
    lines.write_text('{"date": "2026-01-01", "spend": 3}\n\n{broken\n{"date": 1767312000, "spend": "4"}\n[1]\n')
    with pytest.raises(PartialFailure) as caught:
        await file_source(lines).poll(NOW)
    assert str(caught.value) == "ads.jsonl: 2 rows skipped: line 3: not valid JSON; line 5: expected an object, got '[1]'"
    assert [(s.time, s.value) for s in caught.value.samples] == [(JAN_1, 3.0), (JAN_1 + DAY, 4.0)]

    document = tmp_path / "ads.json"
    document.write_text('{"rows": [{"date": "2026-01-01", "spend": 3}, {"date": "2026-01-02", "spend": true}]}')
    with pytest.raises(PartialFailure, match=r"^ads\.json: 1 row skipped: item 1: value true is a boolean"):
        await file_source(document).poll(NOW)


async def test_a_missing_or_unreadable_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="^file not found: .*nope.csv$"):
        await file_source(tmp_path / "nope.csv").poll(NOW)
    broken = tmp_path / "bad.json"
    broken.write_text("[{")
    with pytest.raises(SourceError, match="^not valid JSON"):
        await file_source(broken).poll(NOW)
