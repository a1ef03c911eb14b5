"""SQLite sources: a read-only query per series against a database file.

The database is opened read-only (`mode=ro`) with `query_only` on, in a thread, and a
query still running at the source's timeout is interrupted. A query returns either one
value (one row, one column: the value now) or `(time, value)` rows (time as epoch
seconds or ISO 8601 text); rows not seen before become samples.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote as url_quote

from kputui.errors import SourceError
from kputui.series import Sample
from kputui.sources.base import PartialFailure, Source
from kputui.sources.values import ValueProblem, quote, to_number, to_time

__all__ = ["MAX_ROWS", "SqliteSource"]

MAX_ROWS = 1_000_000
"""Rows one query may return."""


class SqliteSource(Source):
    """Runs every series' query each poll; see the module docstring."""

    def __init__(self, spec, **kwargs) -> None:
        super().__init__(spec, **kwargs)
        self.path = Path(spec.options["path"])
        self._seen: dict[str, set[float]] = {}

    async def poll(self, now: float) -> list[Sample]:
        deadline = time.monotonic() + self.spec.timeout
        samples, problems = await asyncio.to_thread(self._run, now, deadline)
        if problems:
            raise PartialFailure("; ".join(problems), samples)
        return samples

    def _connect(self, deadline: float) -> sqlite3.Connection:
        if not self.path.is_file():
            raise SourceError(f"database not found: {self.path}")
        uri = f"file:{url_quote(str(self.path.resolve()))}?mode=ro"
        try:
            connection = sqlite3.connect(uri, uri=True, timeout=max(0.0, deadline - time.monotonic()),
                                         check_same_thread=False)
            connection.execute("PRAGMA query_only = ON")
        except sqlite3.Error as error:
            raise SourceError(f"cannot open {self.path.name}: {error}") from None
        # Interrupt a query that runs past the deadline (checked every 10,000 VM steps).
        connection.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
        return connection

    def _run(self, now: float, deadline: float) -> tuple[list[Sample], list[str]]:
        connection = self._connect(deadline)
        samples: list[Sample] = []
        problems: list[str] = []
        try:
            for spec in self.spec.series:
                try:
                    samples += self._query(connection, spec, now)
                except ValueProblem as problem:
                    problems.append(f"series {spec.name}: {problem}")
                except sqlite3.Error as error:
                    text = "timed out" if "interrupt" in str(error).lower() else str(error)
                    problems.append(f"series {spec.name}: {text}")
        finally:
            connection.close()
        if problems and not samples and len(problems) == len(self.spec.series) == 1:
            raise SourceError(problems[0].split(": ", 1)[1])
        return samples, problems

    def _query(self, connection: sqlite3.Connection, spec: Any, now: float) -> list[Sample]:
        cursor = connection.execute(spec.options["query"])
        rows = cursor.fetchmany(MAX_ROWS + 1)
        if len(rows) > MAX_ROWS:
            raise ValueProblem(f"the query returned more than {MAX_ROWS} rows")
        if not rows:
            raise ValueProblem("the query returned no rows")
        width = len(rows[0])
        if width == 1:
            if len(rows) > 1:
                raise ValueProblem(f"the query returned {len(rows)} rows of one column: expected one value "
                                   "or (time, value) rows")
            try:
                return [Sample(spec.name, now, to_number(rows[0][0], text_ok=True) * spec.scale)]
            except ValueProblem as problem:
                raise ValueProblem(f"value {problem}") from None
        if width != 2:
            raise ValueProblem(f"the query returned {width} columns: expected one value or (time, value) rows")
        seen = self._seen.setdefault(spec.name, set())
        samples = []
        for number, (at, value) in enumerate(rows, 1):
            if value is None:
                continue
            try:
                moment = to_time(at, self.timezone)
                number_value = to_number(value, text_ok=True)
            except ValueProblem as problem:
                raise ValueProblem(f"row {number}: {problem}") from None
            if moment not in seen:
                seen.add(moment)
                samples.append(Sample(spec.name, moment, number_value * spec.scale))
        return samples
