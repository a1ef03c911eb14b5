"""A config file as read for editing, and the atomic, checked save of its new text."""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from kputui.config import MAX_BYTES, load_config_text
from kputui.config_edit._errors import ConfigChangedOnDisk, ConfigEditError

__all__ = ["ConfigDocument", "read_document", "save_document"]

_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class ConfigDocument:
    """A config file's text as read, with what is needed to tell whether it changed since."""

    path: Path
    text: str
    """The file's text (a UTF-8 byte order mark removed)."""
    mtime_ns: int
    size: int
    digest: str
    """SHA-256 of the bytes read, as hex."""


def read_document(path: Path) -> ConfigDocument:
    """Read the config file at `path` for editing.

    Raises:
        ConfigEditError: the file cannot be read, is too large or is not UTF-8.
    """
    path = Path(path).expanduser()
    try:
        with path.open("rb") as handle:
            info = os.fstat(handle.fileno())
            data = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise ConfigEditError(f"{path}: cannot read the file: {exc.strerror or exc}") from None
    if len(data) > MAX_BYTES:
        raise ConfigEditError(f"{path}: the file is larger than {MAX_BYTES} bytes")
    return _document(path, data, info)


def _document(path: Path, data: bytes, info: os.stat_result) -> ConfigDocument:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ConfigEditError(f"{path}: the file is not UTF-8 text") from None
    return ConfigDocument(path, text, info.st_mtime_ns, len(data), hashlib.sha256(data).hexdigest())


def save_document(doc: ConfigDocument, new_text: str, *,
                  env: Mapping[str, str] | None = None) -> ConfigDocument:
    """Validate `new_text` and write it over the file `doc` was read from.

    The write is atomic (a temporary file in the same folder, fsync, `os.replace`, fsync of
    the folder), keeps the file's permission bits, and leaves the previous content in
    `<name>.bak` beside it.

    Raises:
        ConfigError: `new_text` is not a valid config; nothing is written.
        ConfigChangedOnDisk: the file is not what `doc` read any more; nothing is written.
    """
    load_config_text(new_text, str(doc.path), env=env, base_dir=doc.path.parent)
    target = Path(os.path.realpath(doc.path))
    old = _unchanged_bytes(doc, target)
    mode = stat.S_IMODE(os.stat(target).st_mode)
    data = (_BOM if old.startswith(_BOM) else b"") + new_text.encode("utf-8")
    _write_atomic(target.with_name(target.name + ".bak"), old, mode)
    info = _write_atomic(target, data, mode)
    return _document(doc.path, data, info)


def _unchanged_bytes(doc: ConfigDocument, target: Path) -> bytes:
    """The file's bytes, provided they are still those `doc` was read from."""
    changed = ConfigChangedOnDisk(f"{doc.path} changed on disk since it was read; "
                                  "reload it before saving")
    try:
        info = os.stat(target)
        if info.st_size != doc.size:
            raise changed
        data = target.read_bytes()
    except FileNotFoundError:
        raise ConfigChangedOnDisk(f"{doc.path} was removed since it was read") from None
    except OSError as exc:
        raise ConfigEditError(f"{doc.path}: cannot read the file: {exc.strerror or exc}") from None
    if hashlib.sha256(data).hexdigest() != doc.digest:
        raise changed
    return data


def _write_atomic(path: Path, data: bytes, mode: int) -> os.stat_result:
    """Replace `path` with `data` so that a reader sees the old file or the new, never half."""
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fchmod(out.fileno(), mode)
            os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    _fsync_folder(path.parent)
    return os.stat(path)


def _fsync_folder(folder: Path) -> None:
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)
