"""The write-ahead journal: one JSON line per batch, fsynced once per batch.

A batch is acknowledged only after its line is on disk, so it survives `kill -9`. A
line is written with one `write()` call and ends with a newline: a last line without
its newline (or one that does not parse) was torn by a crash and is dropped.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Iterable
from typing import Any

import orjson

from kputui.series import Sample, clean_value
from kputui.store.storage import fsync_dir, write_all

__all__ = ["Journal", "JournalRead", "parse_rows", "read_journal", "sample_rows"]


@dataclass
class JournalRead:
    """What reading a journal from an offset found."""

    records: list[dict[str, Any]] = field(default_factory=list)
    end: int = 0
    """Offset just past the last complete line (where the next read starts)."""
    bad_lines: int = 0
    """Complete lines that did not parse (skipped)."""


def read_journal(path: Path, offset: int = 0) -> JournalRead:
    """Read the complete lines of `path` from `offset`; a missing file reads as empty."""
    result = JournalRead(end=offset)
    try:
        with open(path, "rb") as handle:
            handle.seek(offset)
            data = handle.read()
    except FileNotFoundError:
        return result
    complete = data.rfind(b"\n") + 1
    for line in data[:complete].splitlines():
        if not line.strip():
            continue
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError:
            result.bad_lines += 1
            continue
        if isinstance(record, dict):
            result.records.append(record)
        else:
            result.bad_lines += 1
    result.end = offset + complete
    return result


def sample_rows(samples: Iterable[Sample]) -> list[list[Any]]:
    """Samples as journal rows `[series, time, value]`: values cleaned (None, NaN and
    infinities become None), samples whose time is not a finite number left out."""
    rows = []
    for sample in samples:
        t = float(sample.time)
        if math.isfinite(t):
            rows.append([str(sample.series), t, clean_value(sample.value)])
    return rows


def parse_rows(rows: Any) -> list[list[Any]]:
    """Sample rows `[series, time, value]` read back from JSON, skipping malformed ones;
    values that are not finite numbers become None (no value)."""
    out = []
    for row in rows if isinstance(rows, list) else ():
        try:
            name, t, v = row
            t = float(t)
            v = None if v is None else float(v)
        except (TypeError, ValueError):
            continue
        if math.isfinite(t):
            out.append([str(name), t, v if v is None or math.isfinite(v) else None])
    return out


class Journal:
    """The writer's handle on a journal file: appends whole lines durably."""

    def __init__(self, path: Path, *, keep: int) -> None:
        """Open `path` for appending, cutting off anything after offset `keep` (a torn tail)."""
        self.path = path
        existed = path.exists()
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        if os.fstat(self._fd).st_size > keep:
            os.ftruncate(self._fd, keep)
            os.fsync(self._fd)
        if not existed:
            fsync_dir(path.parent)
        self.size = keep

    def append(self, record: dict[str, Any], *, sync: bool = True) -> None:
        """Write `record` as one line; durable on return unless `sync` is False.

        Without `sync` the line is in the kernel (it survives the process being killed)
        and becomes durable against a power loss at the next `sync()`.
        """
        line = orjson.dumps(record) + b"\n"
        write_all(self._fd, line)
        if sync:
            os.fdatasync(self._fd)
        self.size += len(line)

    def sync(self) -> None:
        """Make every line written so far durable; may run in another thread than `append`."""
        fd = self._fd
        if fd >= 0:
            try:
                os.fdatasync(fd)
            except OSError:
                pass  # closed by a checkpoint meanwhile, which made everything durable itself

    def close(self) -> None:
        """Close the file (everything appended is already durable)."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
