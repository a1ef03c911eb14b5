"""An atomic, orjson-backed TinyDB storage that re-reads its file only when it changed.

TinyDB's `JSONStorage` rewrites its file in place, so a crash can leave a torn file and a
reader in another process can see half of one. `OrjsonStorage` writes a temporary file in
the same folder, fsyncs it, renames it over the old one and fsyncs the folder: every
reader sees either the old file or the new one, whole.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import orjson
from tinydb.storages import Storage

__all__ = ["OrjsonStorage", "atomic_write", "fsync_dir"]

Stamp = tuple[int, int, int]
"""What identifies one version of a file: inode, size, modification time (ns)."""


def fsync_dir(folder: Path) -> None:
    """Make a rename or a new file in `folder` durable."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_all(fd: int, data: bytes) -> None:
    """Write every byte of `data` to `fd` (a single os.write may write only part)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def atomic_write(path: Path, data: bytes) -> None:
    """Replace `path` with `data` so that no reader or crash ever sees a partial file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        write_all(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    fsync_dir(path.parent)


def stamp_of(stat: os.stat_result) -> Stamp:
    """The identity of the file version `stat` describes."""
    return (stat.st_ino, stat.st_size, stat.st_mtime_ns)


class OrjsonStorage(Storage):
    """A TinyDB storage: orjson on disk, atomic writes, cheap change detection.

    `read()` returns a fresh dict each time (TinyDB mutates what it reads) but only
    touches the disk when the file's inode, size or mtime changed since the last look.
    NaN and infinities are written as `null`, never as text that breaks the file.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        create_dirs: bool = False,
        access_mode: str = "r+",
        **_kwargs: Any,
    ) -> None:
        super().__init__()
        self.path = Path(path)
        self._writable = any(ch in access_mode for ch in "+wa")
        if create_dirs:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._stamp: Stamp | None = None
        self._raw: bytes = b""

    @property
    def stamp(self) -> Stamp | None:
        """The version of the file last read or written (None: no file)."""
        return self._stamp

    def changed(self) -> bool:
        """Whether the file on disk differs from the version last read or written."""
        try:
            return stamp_of(os.stat(self.path)) != self._stamp
        except FileNotFoundError:
            return self._stamp is not None

    def read_bytes(self) -> bytes:
        """The file's bytes (empty when missing), from disk only if it changed."""
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            self._stamp, self._raw = None, b""
            return b""
        try:
            stamp = stamp_of(os.fstat(fd))
            if stamp != self._stamp:
                chunks = []
                while block := os.read(fd, 1 << 20):
                    chunks.append(block)
                self._stamp, self._raw = stamp, b"".join(chunks)
        finally:
            os.close(fd)
        return self._raw

    def read(self) -> dict[str, dict[str, Any]] | None:
        """The whole database, or None when the file is missing or empty.

        Raises `orjson.JSONDecodeError` (a `ValueError`) when the file is not JSON.
        """
        raw = self.read_bytes()
        if not raw:
            return None
        data = orjson.loads(raw)
        if not isinstance(data, dict):
            raise ValueError(f"{self.path}: expected a JSON object at the top level")
        return data

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        """Replace the file with `data`, atomically and durably."""
        if not self._writable:
            raise OSError(f"Cannot write to the database {self.path}: opened read-only")
        raw = orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS)
        atomic_write(self.path, raw)
        self._stamp, self._raw = stamp_of(os.stat(self.path)), raw

    def close(self) -> None:
        """Nothing to release: the file is only open while it is read or written."""
