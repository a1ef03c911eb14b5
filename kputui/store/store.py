"""`Store`: the history store's public face, tying files, processes and history together.

Files in the store folder:

- `store.json`: the snapshot, a TinyDB database (tables `meta`, `series`, `statuses`)
  written atomically by `OrjsonStorage`; it names the generation `g` and the chunk files
- `chunks/<tier>-<key>.g<n>.json`: bucket chunks, TinyDB databases too, never rewritten in
  place (a changed chunk gets the new generation's name)
- `journal.g<g>.jsonl`: batches written since the snapshot of generation `g`
- `writer.lock`, `inbox.jsonl`, `inbox.lock`: see `lock` and `inbox`

A checkpoint writes the changed chunks under new names, then the snapshot of the next
generation (the commit point), then starts that generation's journal and deletes what
the old generation alone used. A crash at any point leaves a snapshot whose chunks and
journal are all present.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import orjson

from kputui.errors import StoreError
from kputui.series import Bucket, Sample, clean_value
from kputui.store.history import History, SeriesState, paused_gc
from kputui.store.inbox import Inbox
from kputui.store.journal import Journal, read_journal
from kputui.store.lock import WriterLock
from kputui.store.storage import OrjsonStorage, atomic_write
from kputui.store.tiers import TIERS, Calendar, Chunk, Tier

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "SourceStatus", "Store"]

SCHEMA_VERSION = 1
"""The layout of `store.json` and the chunk files this code writes."""

MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}
"""`MIGRATIONS[n]` turns a schema-`n` snapshot (TinyDB dict) into schema `n + 1`."""

_LOG_LENGTH = 512
_TIERS = {tier.name: tier for tier in TIERS}


@dataclass(frozen=True, slots=True)
class SourceStatus:
    """How a source fared lately; the collector sets it, the UI shows it."""

    source: str
    last_success: float | None
    last_error: str | None
    last_error_at: float | None
    consecutive_failures: int
    next_attempt: float | None

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> SourceStatus:
        return cls(
            str(doc["source"]),
            doc.get("last_success"),
            doc.get("last_error"),
            doc.get("last_error_at"),
            int(doc.get("consecutive_failures") or 0),
            doc.get("next_attempt"),
        )


class _Stale(Exception):
    """A chunk the snapshot named is gone: the writer checkpointed meanwhile."""


class Store:
    """The history of every series, one writer and any number of readers.

    Open with `Store.open`. All times are Unix seconds; see `History.window` for what a
    window returns and `tiers` for how long each resolution is kept.
    """

    def __init__(
        self,
        folder: Path,
        *,
        writer: bool,
        timezone: str,
        clock: Callable[[], float],
        checkpoint_bytes: int,
        checkpoint_every: float,
    ) -> None:
        self.folder = folder
        self.writer = writer
        self.clock = clock
        self.warnings: list[str] = []
        """Problems found while opening or reading, in words for the user."""
        self.checkpoint_bytes = checkpoint_bytes
        self.checkpoint_every = checkpoint_every
        self._timezone = timezone
        self._head = OrjsonStorage(folder / "store.json", access_mode="r+" if writer else "r")
        self._inbox = Inbox(folder)
        self._lock: WriterLock | None = None
        self._journal: Journal | None = None
        self._version = 0
        self._log: list[tuple[int, frozenset[str]]] = []
        self._statuses: dict[str, SourceStatus] = {}
        self._gen = 0
        self._offset = 0
        self._last_checkpoint = clock()
        self.history = History(Calendar(timezone), self._load_chunk)

    @classmethod
    def open(
        cls,
        path: Path | str,
        *,
        writer: bool,
        timezone: str = "UTC",
        clock: Callable[[], float] = time.time,
        checkpoint_bytes: int = 4 << 20,
        checkpoint_every: float = 300.0,
    ) -> Store:
        """Open (creating if needed) the store in folder `path`.

        `writer=True` takes the writer lock or raises `StoreLockedError`; a checkpoint
        happens when the journal passes `checkpoint_bytes` or `checkpoint_every` seconds
        (by `clock`) went by since the last one.
        """
        folder = Path(path).expanduser()
        try:
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "chunks").mkdir(exist_ok=True)
        except OSError as error:
            raise StoreError(f"cannot create the store folder {folder}: {error}") from error
        store = cls(
            folder,
            writer=writer,
            timezone=timezone,
            clock=clock,
            checkpoint_bytes=checkpoint_bytes,
            checkpoint_every=checkpoint_every,
        )
        if writer:
            store._lock = WriterLock.acquire(folder / "writer.lock", what=f"the store {folder}")
        try:
            store._load_snapshot()
            store._replay_journal()
            if writer:
                store._journal = Journal(store._journal_path(store._gen), keep=store._offset)
                store._remove_leftovers()
        except BaseException:
            store.close()
            raise
        return store

    # -- reading ------------------------------------------------------------------------

    @property
    def version(self) -> int:
        """Grows with every change readers can see (samples or statuses)."""
        return self._version

    @property
    def timezone(self) -> str:
        """The zone the store's days are aligned to."""
        return self.history.calendar.timezone

    def window(self, series: str, start: float, end: float) -> list[Bucket]:
        """`series` in `[start, end)`: raw samples (as one-sample buckets) where kept,
        coarser buckets before that; sorted by start, none overlapping."""
        for attempt in range(3):
            try:
                return self.history.window(series, start, end)
            except _Stale:
                if attempt == 2:
                    raise StoreError(f"the store {self.folder} keeps changing under this reader")
                self._reload()
        raise AssertionError("unreachable")

    def latest(self, series: str) -> Sample | None:
        """The newest sample of `series` that has a value."""
        return self.history.latest(series)

    def series_names(self) -> list[str]:
        """Every series the store has seen, sorted."""
        return sorted(self.history.series)

    def statuses(self) -> dict[str, SourceStatus]:
        """The last status of every source, by source name."""
        return dict(self._statuses)

    def changed_since(self, version: int) -> tuple[int, set[str]]:
        """The current version and the series changed after `version`."""
        if version >= self._version:
            return self._version, set()
        if not self._log or self._log[0][0] > version + 1:
            return self._version, set(self.history.series)
        names: set[str] = set()
        for at, changed in self._log:
            if at > version:
                names |= changed
        return self._version, names

    def refresh(self) -> set[str]:
        """Readers: take in what the writer wrote since; return the series that changed.

        Costs a `stat` of two files when nothing changed. The writer is always current.
        """
        if self.writer:
            return set()
        changed: set[str] = set()
        if self._head.changed():
            changed |= self._reload()
        changed |= self._replay_journal()
        return changed

    # -- writing ------------------------------------------------------------------------

    def append(self, samples: Iterable[Sample]) -> None:
        """Add samples durably (one fsync for the whole batch); writer only."""
        journal = self._writable()
        rows = _rows(samples)
        if not rows:
            return
        journal.append({"op": "a", "s": rows})
        self._offset = journal.size
        self._bump(self._apply_rows(rows))
        self._maybe_checkpoint()

    def push(self, samples: Iterable[Sample]) -> None:
        """Add samples from any process: directly in the writer, else through the inbox."""
        if self.writer:
            self.append(samples)
        else:
            self._inbox.push(samples)

    def drain_inbox(self) -> int:
        """Writer: append everything pushed through the inbox; return how many samples."""
        self._writable()
        return self._inbox.drain(self.append)

    def set_status(self, status: SourceStatus) -> None:
        """Record a source's status durably; writer only."""
        journal = self._writable()
        journal.append({"op": "status", "status": asdict(status)})
        self._offset = journal.size
        self._statuses[status.source] = status
        self._bump(set(), force=True)

    def checkpoint(self) -> None:
        """Fold the journal into the snapshot and drop what the tiers no longer keep."""
        journal = self._writable()
        history = self.history
        gone = history.prune(self.clock())
        gen = self._gen + 1
        obsolete: list[str] = []
        for key in gone:
            name = history.stored.pop(key, None)
            if name:
                obsolete.append(name)
        for (tier, key), chunk in sorted(history.chunks.items()):
            if not chunk.dirty:
                continue
            name = f"{tier}-{key}.g{gen}.json"
            atomic_write(self.folder / "chunks" / name, orjson.dumps(chunk.to_db(SCHEMA_VERSION)))
            old = history.stored.get((tier, key))
            if old:
                obsolete.append(old)
            history.stored[(tier, key)] = name
            chunk.dirty = False
        self._head.write(self._snapshot(gen, folded=(self._gen, journal.size)))
        old_journal = self._journal_path(self._gen)
        self._gen, self._offset = gen, 0
        self._journal = Journal(self._journal_path(gen), keep=0)
        journal.close()
        old_journal.unlink(missing_ok=True)
        for name in obsolete:
            (self.folder / "chunks" / name).unlink(missing_ok=True)
        self._last_checkpoint = self.clock()

    def close(self) -> None:
        """Checkpoint if the journal holds anything (writer), and let go of the files."""
        if self._journal is not None:
            try:
                if self._journal.size:
                    self.checkpoint()
            finally:
                self._journal.close()
                self._journal = None
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- internals ----------------------------------------------------------------------

    def _writable(self) -> Journal:
        if self._journal is None:
            raise StoreError(f"the store {self.folder} was opened for reading only or is closed")
        return self._journal

    def _journal_path(self, gen: int) -> Path:
        return self.folder / f"journal.g{gen}.jsonl"

    def _bump(self, changed: set[str], *, force: bool = False) -> None:
        if not changed and not force:
            return
        self._version += 1
        self._log.append((self._version, frozenset(changed)))
        if len(self._log) > _LOG_LENGTH:
            del self._log[: len(self._log) - _LOG_LENGTH]

    def _maybe_checkpoint(self) -> None:
        journal = self._journal
        if journal is None:
            return
        due = self.clock() - self._last_checkpoint >= self.checkpoint_every
        if journal.size >= self.checkpoint_bytes or (due and journal.size):
            self.checkpoint()

    def _apply_rows(self, rows: list[list[Any]]) -> set[str]:
        add, changed = self.history.add, set()
        for name, t, v in rows:
            if add(name, t, v):
                changed.add(name)
        return changed

    def _apply(self, record: dict[str, Any]) -> tuple[set[str], bool]:
        op = record.get("op")
        if op == "a":
            return self._apply_rows(_rows_from_json(record.get("s"))), False
        if op == "status":
            try:
                status = SourceStatus.from_doc(record["status"])
            except (KeyError, TypeError, ValueError):
                return set(), False
            self._statuses[status.source] = status
            return set(), True
        return set(), False

    def _replay_journal(self) -> set[str]:
        path = self._journal_path(self._gen)
        try:
            if os.stat(path).st_size <= self._offset:
                return set()
        except FileNotFoundError:
            return set()
        found = read_journal(path, self._offset)
        if found.bad_lines:
            self.warnings.append(
                f"{path}: skipped {found.bad_lines} damaged journal line(s)"
            )
        changed: set[str] = set()
        statuses = False
        for record in found.records:
            names, status = self._apply(record)
            changed |= names
            statuses |= status
        self._offset = found.end
        self._bump(changed, force=statuses)
        return changed

    def _load_chunk(self, tier: Tier, key: str) -> Chunk:
        name = self.history.stored[(tier.name, key)]
        path = self.folder / "chunks" / name
        try:
            with paused_gc():
                data = OrjsonStorage(path, access_mode="r").read() or {}
                return Chunk.from_db(tier, key, data)
        except FileNotFoundError:
            if not self.writer:
                raise _Stale(name) from None
            self.warnings.append(f"{path} is missing; that part of the history is empty")
        except (ValueError, KeyError, TypeError) as error:
            self.warnings.append(f"{path} cannot be read ({error}); that part of the history is empty")
        return Chunk(tier, key)

    def _reload(self) -> set[str]:
        """Readers: load the newer snapshot, keeping unchanged chunks already read."""
        before_gen, before_offset = self._gen, self._offset
        kept = {
            self.history.stored.get(key): chunk
            for key, chunk in self.history.chunks.items()
            if not chunk.dirty and key in self.history.stored
        }
        folded = self._load_snapshot()
        for key, name in self.history.stored.items():
            if name in kept:
                self.history.chunks[key] = kept[name]
        if folded == (before_gen, before_offset):
            return set()
        names = set(self.history.series)
        self._bump(names, force=True)
        return names

    def _load_snapshot(self) -> tuple[int, int] | None:
        """Read `store.json` into a fresh history; return which journal it folded."""
        history = History(Calendar(self._timezone), self._load_chunk)
        self.history = history
        self._statuses = {}
        self._gen, self._offset = 0, 0
        try:
            with paused_gc():
                data = self._head.read()
            if data is None:
                return None
            data = _migrate(data, self._head.path)
            meta = data["meta"]["1"]
            zone = str(meta.get("timezone") or self._timezone)
            if zone != self._timezone:
                self.warnings.append(
                    f"the store's days follow {zone}, not {self._timezone};"
                    f" daily figures keep following {zone}"
                )
                history = History(Calendar(zone), self._load_chunk)
                self.history = history
            history.set_horizons(meta.get("horizons", {}))
            for tier, keys in meta.get("chunks", {}).items():
                for key, name in keys.items():
                    history.stored[(str(tier), str(key))] = str(name)
            for doc in data.get("series", {}).values():
                history.series[str(doc["name"])] = SeriesState.from_doc(doc)
            for doc in data.get("statuses", {}).values():
                status = SourceStatus.from_doc(doc)
                self._statuses[status.source] = status
            self._gen = int(meta.get("gen", 0))
            folded = meta.get("folded")
            return None if folded is None else (int(folded[0]), int(folded[1]))
        except StoreError:
            raise
        except (ValueError, KeyError, TypeError, IndexError, AttributeError) as error:
            self._set_aside(error)
            return None

    def _set_aside(self, error: Exception) -> None:
        path = self._head.path
        self.history = History(Calendar(self._timezone), self._load_chunk)
        self._statuses = {}
        self._gen, self._offset = 0, 0
        if not self.writer:
            self.warnings.append(f"{path} cannot be read ({error}); showing an empty store")
            return
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(self.clock()))
        aside = path.with_name(f"{path.name}.corrupt-{stamp}")
        os.replace(path, aside)
        chunks = self.folder / "chunks"
        if any(chunks.iterdir()):
            os.replace(chunks, self.folder / f"chunks.corrupt-{stamp}")
            chunks.mkdir()
        for journal in self.folder.glob("journal.g*.jsonl"):
            os.replace(journal, journal.with_name(f"{journal.name}.corrupt-{stamp}"))
        self.warnings.append(
            f"{path} could not be read ({error}); it was moved to {aside.name}"
            " and kputui starts with an empty store"
        )

    def _snapshot(self, gen: int, folded: tuple[int, int]) -> dict[str, Any]:
        history = self.history
        chunks: dict[str, dict[str, str]] = {tier.name: {} for tier in TIERS}
        for (tier, key), name in sorted(history.stored.items()):
            chunks[tier][key] = name
        meta = {
            "schema": SCHEMA_VERSION,
            "gen": gen,
            "folded": list(folded),
            "timezone": self.timezone,
            "horizons": history.horizons_doc(),
            "chunks": chunks,
        }
        series = {
            str(i): state.to_doc(name)
            for i, (name, state) in enumerate(sorted(history.series.items()), start=1)
        }
        statuses = {
            str(i): asdict(status)
            for i, status in enumerate(sorted(self._statuses.values(), key=lambda s: s.source), 1)
        }
        return {"meta": {"1": meta}, "series": series, "statuses": statuses}

    def _remove_leftovers(self) -> None:
        """Writer, at open: delete files no snapshot refers to (an interrupted checkpoint's)."""
        used = set(self.history.stored.values())
        for path in (self.folder / "chunks").iterdir():
            if path.name not in used:
                path.unlink(missing_ok=True)
        current = self._journal_path(self._gen).name
        for path in self.folder.glob("journal.g*.jsonl"):
            if path.name != current:
                path.unlink(missing_ok=True)
        for path in self.folder.glob(".*.tmp"):
            path.unlink(missing_ok=True)


def _migrate(data: dict[str, Any], path: Path) -> dict[str, Any]:
    """Bring a snapshot to `SCHEMA_VERSION`, or refuse one written by a newer kputui."""
    schema = int(data["meta"]["1"].get("schema", 0))
    if schema > SCHEMA_VERSION:
        raise StoreError(
            f"{path} was written by a newer kputui (store schema {schema}; this one reads"
            f" up to {SCHEMA_VERSION}); upgrade kputui"
        )
    while schema < SCHEMA_VERSION:
        step = MIGRATIONS.get(schema)
        if step is None:
            raise ValueError(f"no migration from store schema {schema}")
        data = step(data)
        schema += 1
        data["meta"]["1"]["schema"] = schema
    return data


def _rows(samples: Iterable[Sample]) -> list[list[Any]]:
    """Samples as journal rows; times that are not finite are left out."""
    rows = []
    for sample in samples:
        t = float(sample.time)
        if math.isfinite(t):
            rows.append([str(sample.series), t, clean_value(sample.value)])
    return rows


def _rows_from_json(rows: Any) -> list[list[Any]]:
    out = []
    for row in rows if isinstance(rows, list) else ():
        try:
            name, t, v = row
            t = float(t)
            if math.isfinite(t):
                out.append([str(name), t, None if v is None else clean_value(float(v))])
        except (TypeError, ValueError):
            continue
    return out
