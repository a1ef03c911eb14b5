"""File sources: CSV, JSON or JSON Lines with a time and a value column per series.

The file is read again only when its modification time or size changed, and only rows
not imported before (by this process) become samples, so a growing log costs little and
importing the same rows twice adds nothing (the store also ignores a series' second
sample at the same time). A row that does not parse is skipped and reported with its
line number; the good rows still land. An empty value cell is no value and is skipped
quietly. Reading and parsing run in a thread, so a large file never blocks the loop.
"""

from __future__ import annotations

import asyncio
import csv
import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from kputui.errors import SourceError
from kputui.series import Sample
from kputui.sources.base import PartialFailure, Source
from kputui.sources.values import ValueProblem, quote, size_text, to_number, to_time

__all__ = ["MAX_FILE", "FileSource", "read_rows"]

MAX_FILE = 200_000_000
"""Largest file read."""
SHOWN_PROBLEMS = 3
"""Skipped rows named in the message; the rest are counted."""

Row = tuple[str, Any]
"""Where a row is (like `line 14`) and the row (a mapping of column to cell)."""


def read_rows(data: bytes, fmt: str) -> Iterator[Row]:
    """The rows of a file's `data` in format csv, json or jsonl, each with where it is.

    A row that is not an object (JSON) is yielded as is; the caller reports it.
    """
    if fmt == "csv":
        reader = csv.reader(io.StringIO(data.decode("utf-8-sig", "replace"), newline=""))
        header: list[str] | None = None
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                yield f"line {reader.line_num}", SourceError(str(error))
                continue
            if not any(cell.strip() for cell in cells):
                continue
            if header is None:
                header = [cell.strip() for cell in cells]
            elif len(cells) != len(header):
                yield f"line {reader.line_num}", SourceError(f"expected {len(header)} columns, got {len(cells)}")
            else:
                yield f"line {reader.line_num}", dict(zip(header, cells))
    elif fmt == "jsonl":
        for number, line in enumerate(data.splitlines(), 1):
            if not line.strip():
                continue
            try:
                yield f"line {number}", orjson.loads(line)
            except orjson.JSONDecodeError:
                yield f"line {number}", SourceError("not valid JSON")
    else:
        try:
            document = orjson.loads(data)
        except orjson.JSONDecodeError as error:
            raise SourceError(f"not valid JSON: {str(error).split(':', 1)[0]}") from None
        if isinstance(document, dict):
            # {"rows": [...]} or {"data": [...]}: the one list inside.
            lists = [v for v in document.values() if isinstance(v, list)]
            if len(lists) != 1:
                raise SourceError("expected a list of objects (or an object holding one list)")
            document = lists[0]
        if not isinstance(document, list):
            raise SourceError("expected a list of objects")
        for index, item in enumerate(document):
            yield f"item {index}", item


class FileSource(Source):
    """Imports new rows of a file whenever it changes; see the module docstring."""

    def __init__(self, spec, **kwargs) -> None:
        super().__init__(spec, **kwargs)
        self.path = Path(spec.options["path"])
        self.format: str = spec.options.get("format") or "csv"
        self._stamp: tuple[int, int] | None = None
        self._seen: set[tuple[str, float]] = set()
        self._problem: str | None = None
        """The last read's skipped-row report, repeated until the file changes."""

    async def poll(self, now: float) -> list[Sample]:
        return await asyncio.to_thread(self._poll)

    def _poll(self) -> list[Sample]:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            raise SourceError(f"file not found: {self.path}") from None
        except OSError as error:
            raise SourceError(f"cannot read {self.path}: {error.strerror or error}") from None
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp == self._stamp:
            if self._problem:
                raise PartialFailure(self._problem, [])
            return []
        if stat.st_size > MAX_FILE:
            raise SourceError(f"{self.path.name} is larger than {size_text(MAX_FILE)}")
        try:
            with self.path.open("rb") as handle:
                data = handle.read(MAX_FILE + 1)
        except OSError as error:
            raise SourceError(f"cannot read {self.path}: {error.strerror or error}") from None
        samples, problems = self._parse(data)
        self._stamp = stamp
        self._problem = None
        if problems:
            shown = "; ".join(problems[:SHOWN_PROBLEMS])
            more = f" (and {len(problems) - SHOWN_PROBLEMS} more)" if len(problems) > SHOWN_PROBLEMS else ""
            rows = "row" if len(problems) == 1 else "rows"
            self._problem = f"{self.path.name}: {len(problems)} {rows} skipped: {shown}{more}"
            raise PartialFailure(self._problem, samples)
        return samples

    def _parse(self, data: bytes) -> tuple[list[Sample], list[str]]:
        """New samples in `data` and the problems of the rows skipped."""
        samples: list[Sample] = []
        problems: list[str] = []
        fresh: set[tuple[str, float]] = set()
        series = self.spec.series
        for where, row in read_rows(data, self.format):
            if isinstance(row, SourceError):
                problems.append(f"{where}: {row}")
                continue
            if not isinstance(row, dict):
                problems.append(f"{where}: expected an object, got {quote(row)}")
                continue
            for spec in series:
                try:
                    sample = self._sample(spec, row)
                except ValueProblem as problem:
                    label = f" (series {spec.name})" if len(series) > 1 else ""
                    problems.append(f"{where}{label}: {problem}")
                    continue
                if sample is None:
                    continue
                key = (sample.series, sample.time)
                if key in fresh:
                    problems.append(f"{where}: a second row for the same time (only the first counts)")
                    continue
                fresh.add(key)
                if key not in self._seen:
                    samples.append(sample)
        self._seen |= fresh
        return samples, problems

    def _sample(self, spec: Any, row: dict[str, Any]) -> Sample | None:
        options = spec.options
        time_column, value_column = options["time_column"], options["value_column"]
        for column in (time_column, value_column):
            if column not in row:
                raise ValueProblem(f"no column {quote(column)}")
        raw = row[value_column]
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            return None
        try:
            value = to_number(raw, text_ok=True)
        except ValueProblem as problem:
            raise ValueProblem(f"value {problem}") from None
        time = to_time(row[time_column], self.timezone, options.get("time_format"))
        return Sample(spec.name, time, value * spec.scale)
