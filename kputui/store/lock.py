"""The writer lock: an flock on a file beside the store, holding the writer's pid.

The kernel releases an flock when its process dies, so a crashed collector never leaves
a stale lock behind; the pid in the file only serves the message a second writer gets.
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

from kputui.errors import StoreLockedError

__all__ = ["WriterLock"]

_PID_WAIT = 1.0
"""How long a refused writer waits for the holder to have written its pid."""


class WriterLock:
    """An exclusive, non-blocking lock that names its holder."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd = fd

    @classmethod
    def acquire(cls, path: Path, *, what: str) -> WriterLock:
        """Take the lock or raise `StoreLockedError` naming the process that holds it."""
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = _read_pid(fd)
            os.close(fd)
            holder = f"process {pid}" if pid else "another process"
            raise StoreLockedError(
                f"{what} is being written by {holder} (another kputui or `kputui collect`);"
                " this one can only read it",
                pid=pid,
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        os.fsync(fd)
        return cls(path, fd)

    def release(self) -> None:
        """Let another process become the writer."""
        if self._fd >= 0:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = -1


def _read_pid(fd: int) -> int | None:
    """The holder's pid; waits briefly, since the holder writes it just after locking."""
    deadline = time.monotonic() + _PID_WAIT
    while True:
        text = os.pread(fd, 32, 0).decode(errors="replace").strip()
        if text.isdigit():
            return int(text)
        if time.monotonic() > deadline:
            return None
        time.sleep(0.005)
