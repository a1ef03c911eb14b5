"""The inbox: how processes that are not the writer hand samples to it.

An append-only JSON-lines file guarded by its own flock (never the writer lock), so a
`kputui push` works whether or not a collector runs. The writer drains it: under the
lock it reads every complete line, makes the samples durable in the store, then empties
the file. Should the writer die between the two steps, the next drain appends the same
samples again, which the store ignores as duplicates (same series, same time): nothing
is lost or counted twice.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import orjson

from kputui.series import Sample
from kputui.store.journal import parse_rows, read_journal, sample_rows
from kputui.store.storage import write_all

__all__ = ["Inbox"]


class Inbox:
    """The inbox file and its lock in a store folder."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / "inbox.jsonl"
        self.lock_path = folder / "inbox.lock"

    @contextmanager
    def _locked(self) -> Iterator[None]:
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def push(self, samples: Iterable[Sample]) -> int:
        """Append `samples` durably as one line; return how many were pushed."""
        rows = sample_rows(samples)
        if not rows:
            return 0
        line = orjson.dumps({"s": rows}) + b"\n"
        with self._locked():
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                write_all(fd, line)
                os.fsync(fd)
            finally:
                os.close(fd)
        return len(rows)

    def pending(self) -> bool:
        """Whether the inbox may hold samples (a stat, no lock)."""
        try:
            return os.stat(self.path).st_size > 0
        except FileNotFoundError:
            return False

    def drain(self, consume: Callable[[list[Sample]], None]) -> int:
        """Hand every pushed sample to `consume` (which must make them durable), then empty
        the inbox; return how many samples were drained."""
        if not self.pending():
            return 0
        with self._locked():
            found = read_journal(self.path)
            samples = [
                Sample(name, t, v) for record in found.records for name, t, v in parse_rows(record.get("s"))
            ]
            if samples:
                consume(samples)
            fd = os.open(self.path, os.O_WRONLY)
            try:
                os.ftruncate(fd, 0)
                os.fsync(fd)
            finally:
                os.close(fd)
        return len(samples)
