"""`Store`: the history store's public face, tying files, processes and history together.

Files in the store folder:

- `store.json`: the snapshot, a TinyDB database written atomically (see `snapshot`); it
  names its generation `g` and the chunk files it uses
- `chunks/<tier>-<key>.g<n>.json`: bucket chunks, TinyDB databases too, never rewritten in
  place (a changed chunk is written under the new generation's name)
- `journal.g<g>.jsonl`: the batches written since the snapshot of generation `g`
- `writer.lock`, `inbox.jsonl`, `inbox.lock`: see `lock` and `inbox`

A checkpoint writes the changed chunks under new names, then the next generation's
snapshot (the commit point), then starts that generation's journal and deletes what only
the old generation used. A crash at any point leaves a snapshot whose chunks and journal
are all there; whatever a crash left unreferenced is deleted when the writer next opens.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from kputui.alerts import AlertEvent, AlertMemory
from kputui.errors import StoreError
from kputui.series import Bucket, Sample
from kputui.store.history import History, paused_gc
from kputui.store.inbox import Inbox
from kputui.store.journal import Journal, parse_rows, read_journal, sample_rows
from kputui.store.lock import WriterLock
from kputui.store.snapshot import (
    SCHEMA_VERSION,
    SourceStatus,
    dump_snapshot,
    load_snapshot,
)
from kputui.store.folder import StoreFolder
from kputui.store.storage import OrjsonStorage
from kputui.store.tiers import Calendar, Chunk, Tier
from kputui.store.versions import ChangeLog

__all__ = ["Store"]

_ATTEMPTS = 3
MAX_ALERT_EVENTS = 200
"""Alert events kept for viewers to show (the newest)."""
"""How often a reader retries when the writer checkpoints under it."""


class _Stale(Exception):
    """A chunk the snapshot named is gone: the writer checkpointed meanwhile."""


class Store:
    """The history of every series, with one writer and any number of readers.

    Open with `Store.open`. Times are Unix seconds. `window` returns raw samples where
    they are kept and exact buckets before that (see `tiers` for the resolutions and
    how long each is kept, `history` for the rules that keep every tier exact).
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
        self.files = StoreFolder(folder)
        self.writer = writer
        """Whether this process holds the writer lock."""
        self.clock = clock
        self.warnings: list[str] = []
        """Problems met while opening or reading, in words for the user."""
        self.checkpoint_bytes = checkpoint_bytes
        self.checkpoint_every = checkpoint_every
        self.history = History(Calendar(timezone), self._load_chunk)
        self._timezone = timezone
        self._head = OrjsonStorage(self.files.head, access_mode="r+" if writer else "r")
        self._inbox = Inbox(folder)
        self._lock: WriterLock | None = None
        self._journal: Journal | None = None
        self._changes = ChangeLog()
        self._statuses: dict[str, SourceStatus] = {}
        self._alert_memory: dict[str, dict[str, Any]] = {}
        self._alert_events: list[dict[str, Any]] = []
        self._alert_seq = 0
        self._gen = 0
        self._offset = 0
        self._last_checkpoint = clock()

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

        `writer=True` takes the writer lock or raises `StoreLockedError`. `timezone`
        aligns daily buckets to local days (a store keeps the zone it was created
        with). The writer checkpoints when the journal passes `checkpoint_bytes` or
        `checkpoint_every` seconds (by `clock`) have gone by.
        """
        folder = Path(path).expanduser()
        try:
            StoreFolder(folder).create()
        except OSError as error:
            raise StoreError(f"cannot create the store folder {folder}: {error}") from error
        try:
            Calendar(timezone)
        except (ValueError, KeyError) as error:
            raise StoreError(f"unknown time zone {timezone!r}") from error
        store = cls(
            folder,
            writer=writer,
            timezone=timezone,
            clock=clock,
            checkpoint_bytes=checkpoint_bytes,
            checkpoint_every=checkpoint_every,
        )
        if writer:
            store._lock = WriterLock.acquire(store.files.lock, what=f"the store {folder}")
        try:
            store._load_snapshot()
            store._replay_journal()
            if writer:
                store._journal = Journal(store.files.journal(store._gen), keep=store._offset)
                store.files.remove_leftovers(set(store.history.stored.values()), store._gen)
        except BaseException:
            store.close()
            raise
        return store

    # -- reading ------------------------------------------------------------------------

    @property
    def version(self) -> int:
        """Grows with every change readers can see (samples or statuses)."""
        return self._changes.version

    @property
    def timezone(self) -> str:
        """The zone the store's days follow."""
        return self.history.calendar.timezone

    def window(self, series: str, start: float, end: float) -> list[Bucket]:
        """`series` in `[start, end)`, sorted by start, no two overlapping: raw samples
        (as one-sample buckets) where they are kept, the finest buckets before that. A
        bucket is in the window when its start is; windows on local-day boundaries (and
        on hour or 5-minute boundaries where those tiers reach) are exact."""
        for _ in range(_ATTEMPTS):
            try:
                return self.history.window(series, start, end)
            except _Stale:
                self.refresh()
        raise StoreError(f"the store {self.folder} keeps changing under this reader")

    def revision(self, series: str) -> tuple | None:
        """Changes whenever a window of `series` read before may have changed other than
        by raw samples appended at the end, which `raw_after` returns (None: no such
        series). A reader reloading the snapshot gets new revisions for every series."""
        return self.history.revision(series)

    def raw_position(self, series: str, end: float) -> int | None:
        """A cursor to the raw samples of `series` at or after `end`, for `raw_after`
        (None when `end` is before the raw samples kept: such a window cannot grow)."""
        return self.history.raw_position(series, end)

    def raw_after(self, series: str, position: int, end: float) -> tuple[list[Bucket], int]:
        """The raw samples of `series` from cursor `position` up to `end`, and the next
        cursor: what a window read earlier is missing while the revision is unchanged."""
        return self.history.raw_after(series, position, end)

    def latest(self, series: str) -> Sample | None:
        """The newest sample of `series` that has a value."""
        return self.history.latest(series)

    def series_names(self) -> list[str]:
        """Every series the store holds, sorted."""
        return sorted(self.history.series)

    def statuses(self) -> dict[str, SourceStatus]:
        """The last status of every source, by source name."""
        return dict(self._statuses)

    def alert_memory(self) -> dict[str, AlertMemory]:
        """What the collector remembers of each alert rule, by rule key."""
        memory = {}
        for key, doc in self._alert_memory.items():
            try:
                memory[key] = AlertMemory.from_doc(doc)
            except (TypeError, ValueError, AttributeError):
                continue
        return memory

    @property
    def alert_seq(self) -> int:
        """The sequence number of the newest alert event (0: none yet)."""
        return self._alert_seq

    def alert_events(self, after: int = 0) -> list[AlertEvent]:
        """Alert events with a sequence number above `after`, oldest first (the newest
        `MAX_ALERT_EVENTS` are kept). Readers see them after `refresh`."""
        events = []
        for doc in self._alert_events:
            if int(doc.get("seq") or 0) > after:
                try:
                    events.append(AlertEvent.from_doc(doc))
                except (KeyError, TypeError, ValueError):
                    continue
        return events

    def changed_since(self, version: int) -> tuple[int, set[str]]:
        """The current version and the series changed after `version` (statuses are
        not series: a status change bumps the version with no names)."""
        names = self._changes.since(version)
        return self._changes.version, set(self.history.series) if names is None else names

    def refresh(self) -> set[str]:
        """Readers: take in what the writer wrote since; return the series that changed.

        Costs a `stat` of two files when nothing changed. The writer is always current.
        """
        if self.writer:
            return set()
        changed: set[str] = set()
        for _ in range(_ATTEMPTS):
            try:
                if self._head.changed():
                    changed |= self._reload()
                changed |= self._replay_journal()
                return changed
            except _Stale:
                changed |= self._reload()
        raise StoreError(f"the store {self.folder} keeps changing under this reader")

    # -- writing ------------------------------------------------------------------------

    def append(self, samples: Iterable[Sample], *, sync: bool = True) -> None:
        """Add samples, durable when this returns (one fsync per batch); writer only.

        Values that are None, NaN or infinite are kept as "no value"; a sample at the
        same time as one already stored is ignored; order does not matter.
        """
        journal = self._writable()
        rows = sample_rows(samples)
        if not rows:
            return
        journal.append({"op": "a", "s": rows}, sync=sync)
        self._offset = journal.size
        self._changes.bump(self._apply_rows(rows))
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
        self.set_statuses([status])

    def set_statuses(self, statuses: Iterable[SourceStatus], *, sync: bool = True) -> None:
        """Record several sources' statuses durably in one journal line (one sync); writer only."""
        statuses = list(statuses)
        if not statuses:
            return
        journal = self._writable()
        journal.append({"op": "statuses", "statuses": [status.to_doc() for status in statuses]}, sync=sync)
        self._offset = journal.size
        for status in statuses:
            self._statuses[status.source] = status
        self._changes.bump(set(), force=True)

    def record_alerts(self, memory: dict[str, AlertMemory], events: Iterable[AlertEvent]) -> list[AlertEvent]:
        """Durably replace the alerts' memory and add `events` (one journal line); writer
        only. Returns the events with their sequence numbers."""
        journal = self._writable()
        numbered = [dataclasses.replace(event, seq=self._alert_seq + i) for i, event in enumerate(events, start=1)]
        docs = {key: item.to_doc() for key, item in memory.items()}
        journal.append({"op": "alerts", "memory": docs, "events": [e.to_doc() for e in numbered]})
        self._offset = journal.size
        self._apply_alerts(docs, [e.to_doc() for e in numbered])
        self._changes.bump(set(), force=True)
        return numbered

    def sync(self) -> None:
        """Writer: make what `append(..., sync=False)` wrote durable (safe from a worker thread)."""
        journal = self._journal
        if journal is not None:
            journal.sync()

    def checkpoint(self) -> None:
        """Fold the journal into the snapshot and drop what the tiers no longer keep."""
        journal = self._writable()
        history = self.history
        gen = self._gen + 1
        obsolete = [
            name for key in history.prune(self.clock()) if (name := history.stored.pop(key, None))
        ]
        for (tier, key), chunk in sorted(history.chunks.items()):
            if not chunk.dirty:
                continue
            name = self.files.chunk_name(chunk.tier, key, gen)
            self.files.write_chunk(name, chunk, SCHEMA_VERSION)
            if old := history.stored.get((tier, key)):
                obsolete.append(old)
            history.stored[(tier, key)] = name
            chunk.dirty = False
        alerts = None
        if self._alert_memory or self._alert_events or self._alert_seq:
            alerts = {"memory": self._alert_memory, "events": self._alert_events, "seq": self._alert_seq}
        self._head.write(dump_snapshot(history, self._statuses, gen, (self._gen, journal.size), alerts))
        old_journal = self.files.journal(self._gen)
        self._gen, self._offset = gen, 0
        self._journal = Journal(self.files.journal(gen), keep=0)
        journal.close()
        old_journal.unlink(missing_ok=True)
        self.files.delete_chunks(obsolete)
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
            raise StoreError(f"the store {self.folder} is open for reading only, or closed")
        return self._journal

    def _warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)

    def _maybe_checkpoint(self) -> None:
        journal = self._journal
        if journal is None or not journal.size:
            return
        due = self.clock() - self._last_checkpoint >= self.checkpoint_every
        if due or journal.size >= self.checkpoint_bytes:
            self.checkpoint()

    def _apply_rows(self, rows: list[list[Any]]) -> set[str]:
        add, changed = self.history.add, set()
        for name, t, v in rows:
            if add(name, t, v):
                changed.add(name)
        return changed

    def _apply(self, record: dict[str, Any]) -> tuple[set[str], bool]:
        """Apply one journal record; return the changed series and whether a status did."""
        op = record.get("op")
        if op == "a":
            return self._apply_rows(parse_rows(record.get("s"))), False
        if op in ("status", "statuses"):
            docs = [record.get("status")] if op == "status" else record.get("statuses")
            changed = False
            for doc in docs if isinstance(docs, list) else ():
                try:
                    status = SourceStatus.from_doc(doc)
                except (KeyError, TypeError, ValueError):
                    continue
                self._statuses[status.source] = status
                changed = True
            return set(), changed
        if op == "alerts":
            memory, events = record.get("memory"), record.get("events")
            self._apply_alerts(memory if isinstance(memory, dict) else {},
                               [e for e in events if isinstance(e, dict)] if isinstance(events, list) else [])
            return set(), True
        return set(), False

    def _apply_alerts(self, memory: dict[str, Any], events: list[dict[str, Any]]) -> None:
        self._alert_memory = {str(k): v for k, v in memory.items() if isinstance(v, dict)}
        for doc in events:
            seq = doc.get("seq")
            if isinstance(seq, int) and seq > self._alert_seq:
                self._alert_seq = seq
                self._alert_events.append(doc)
        del self._alert_events[:-MAX_ALERT_EVENTS]

    def _replay_journal(self) -> set[str]:
        """Apply the journal from where this process stopped reading it."""
        path = self.files.journal(self._gen)
        try:
            if os.stat(path).st_size <= self._offset:
                return set()
        except FileNotFoundError:
            return set()
        found = read_journal(path, self._offset)
        if found.bad_lines:
            self._warn(f"{path}: skipped {found.bad_lines} damaged journal line(s)")
        changed: set[str] = set()
        statuses = False
        for record in found.records:
            try:
                names, status = self._apply(record)
            except (ArithmeticError, ValueError, TypeError, OSError) as error:
                self._warn(f"{path}: skipped a batch that could not be applied ({error})")
                continue
            changed |= names
            statuses |= status
        self._offset = found.end
        self._changes.bump(changed, force=statuses)
        return changed

    def _load_chunk(self, tier: Tier, key: str) -> Chunk:
        name = self.history.stored[(tier.name, key)]
        path = self.files.chunks / name
        try:
            return self.files.read_chunk(tier, key, name)
        except FileNotFoundError:
            if not self.writer:
                raise _Stale(name) from None
            self._warn(f"{path} is missing; that part of the history is empty")
        except (ValueError, KeyError, TypeError) as error:
            if not self.writer:
                self._warn(f"{path} cannot be read ({error}); that part of the history is empty")
                return Chunk(tier, key)
            aside = self.files.chunk_aside(name, self._stamp())
            self._warn(f"{path} could not be read ({error}); it was moved to {aside}")
        chunk = Chunk(tier, key)
        chunk.dirty = True  # the next checkpoint replaces the lost file
        return chunk

    def _stamp(self) -> str:
        return time.strftime("%Y%m%dT%H%M%S", time.gmtime(self.clock()))

    def _reload(self) -> set[str]:
        """Readers: load the newer snapshot, keeping the unchanged chunks already read."""
        before = (self._gen, self._offset)
        old = self.history
        kept = {
            old.stored[key]: chunk
            for key, chunk in old.chunks.items()
            if not chunk.dirty and key in old.stored
        }
        folded = self._load_snapshot()
        for key, name in self.history.stored.items():
            if name in kept:
                self.history.chunks[key] = kept[name]
        if folded == before:
            return set()  # the snapshot holds just what this reader had already
        names = set(self.history.series) | set(old.series)
        self._changes.bump(names, force=True)
        return names

    def _load_snapshot(self) -> tuple[int, int] | None:
        """Read `store.json` into a fresh history; return which journal it folded."""
        self.history = History(Calendar(self._timezone), self._load_chunk)
        self._statuses = {}
        self._alert_memory, self._alert_events, self._alert_seq = {}, [], 0
        self._gen, self._offset = 0, 0
        try:
            with paused_gc():
                data = self._head.read()
            if data is None:
                return None
            zone = data["meta"]["1"].get("timezone") or self._timezone
            if zone != self._timezone:
                self._warn(
                    f"the store's days follow {zone}, not {self._timezone}:"
                    f" daily figures keep following {zone}"
                )
                self.history = History(Calendar(zone), self._load_chunk)
            snapshot = load_snapshot(data, self._head.path, self.history)
        except StoreError:
            raise
        except (ValueError, KeyError, TypeError, IndexError, AttributeError) as error:
            self._set_aside(error)
            return None
        self._statuses = snapshot.statuses or {}
        if snapshot.alerts:
            self._apply_alerts(snapshot.alerts.get("memory") or {}, list(snapshot.alerts.get("events") or []))
            seq = snapshot.alerts.get("seq")
            self._alert_seq = max(self._alert_seq, seq if isinstance(seq, int) else 0)
        self._gen = snapshot.gen
        return snapshot.folded

    def _set_aside(self, error: Exception) -> None:
        """An unreadable snapshot: start empty; the writer moves the old files aside."""
        path = self._head.path
        self.history = History(Calendar(self._timezone), self._load_chunk)
        self._statuses = {}
        self._gen, self._offset = 0, 0
        if not self.writer:
            self._warn(f"{path} cannot be read ({error}); showing an empty store")
            return
        aside = self.files.everything_aside(self._stamp())
        self._warn(
            f"{path} could not be read ({error}); it was moved to {aside}"
            " and kputui goes on with an empty store"
        )

