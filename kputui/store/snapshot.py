"""The snapshot's layout (`store.json`, a TinyDB database), its schema version and
migrations, and the source status record it keeps.

Tables: `meta` (one document: schema, generation, which journal it folded, time zone,
horizons, chunk file names), `series` (one document per series: its raw window and the
`prev`/`last` samples) and `statuses` (one document per source).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from kputui.errors import StoreError
from kputui.store.history import History, SeriesState
from kputui.store.tiers import TIERS

__all__ = [
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "Snapshot",
    "SourceStatus",
    "dump_snapshot",
    "load_snapshot",
    "migrate",
]

SCHEMA_VERSION = 1
"""The layout of `store.json` and the chunk files this code writes."""

MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}
"""`MIGRATIONS[n]` turns a schema-`n` snapshot (TinyDB dict) into schema `n + 1`."""


@dataclass(frozen=True, slots=True)
class SourceStatus:
    """How a source fared lately; the collector sets it, the UI shows it."""

    source: str
    last_success: float | None
    last_error: str | None
    last_error_at: float | None
    consecutive_failures: int
    next_attempt: float | None
    failed_series: tuple[str, ...] | None = None
    """With a failure: the series that delivered nothing (None: the whole source failed)."""

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> SourceStatus:
        """A status from its stored form; raises KeyError/TypeError/ValueError if broken."""

        def number(key: str) -> float | None:
            value = doc.get(key)
            return None if value is None else float(value)

        error = doc.get("last_error")
        return cls(
            str(doc["source"]),
            number("last_success"),
            None if error is None else str(error),
            number("last_error_at"),
            int(doc.get("consecutive_failures") or 0),
            number("next_attempt"),
            None if doc.get("failed_series") is None else tuple(str(name) for name in doc["failed_series"]),
        )

    def to_doc(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Snapshot:
    """What `store.json` holds besides the history itself."""

    gen: int = 0
    folded: tuple[int, int] | None = None
    """The journal (generation, size) this snapshot includes."""
    timezone: str | None = None
    statuses: dict[str, SourceStatus] | None = None
    alerts: dict[str, Any] | None = None
    """The alerts' memory and recent events: `{"memory": {...}, "events": [...], "seq": n}`."""


def migrate(data: dict[str, Any], path: Path) -> dict[str, Any]:
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
            raise StoreError(f"{path}: no way to upgrade store schema {schema}")
        data = step(data)
        schema += 1
        data["meta"]["1"]["schema"] = schema
    return data


def load_snapshot(data: dict[str, Any], path: Path, history: History) -> Snapshot:
    """Fill the empty `history` from a TinyDB dict read from `path`.

    Raises StoreError for a newer schema, KeyError/TypeError/ValueError for a damaged one.
    """
    data = migrate(data, path)
    meta = data["meta"]["1"]
    history.set_horizons(meta.get("horizons", {}))
    for tier, keys in meta.get("chunks", {}).items():
        for key, name in keys.items():
            history.stored[(str(tier), str(key))] = str(name)
    for doc in data.get("series", {}).values():
        history.series[str(doc["name"])] = SeriesState.from_doc(doc)
    statuses = {}
    for doc in data.get("statuses", {}).values():
        status = SourceStatus.from_doc(doc)
        statuses[status.source] = status
    folded = meta.get("folded")
    return Snapshot(
        gen=int(meta.get("gen", 0)),
        folded=None if folded is None else (int(folded[0]), int(folded[1])),
        timezone=None if meta.get("timezone") is None else str(meta["timezone"]),
        statuses=statuses,
        alerts=_alerts_doc(data.get("alerts")),
    )


def _alerts_doc(table: Any) -> dict[str, Any] | None:
    """The one document of the `alerts` table, or None when there is none."""
    if not isinstance(table, dict) or not isinstance(table.get("1"), dict):
        return None
    return table["1"]


def dump_snapshot(
    history: History, statuses: dict[str, SourceStatus], gen: int, folded: tuple[int, int],
    alerts: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The TinyDB dict for `store.json` of generation `gen`."""
    chunks: dict[str, dict[str, str]] = {tier.name: {} for tier in TIERS}
    for (tier, key), name in sorted(history.stored.items()):
        chunks[tier][key] = name
    meta = {
        "schema": SCHEMA_VERSION,
        "gen": gen,
        "folded": list(folded),
        "timezone": history.calendar.timezone,
        "horizons": {k: (v if math.isfinite(v) else None) for k, v in history.horizons.items()},
        "chunks": chunks,
    }
    series = {
        str(i): state.to_doc(name)
        for i, (name, state) in enumerate(sorted(history.series.items()), start=1)
    }
    status_docs = {
        str(i): status.to_doc()
        for i, status in enumerate(sorted(statuses.values(), key=lambda s: s.source), start=1)
    }
    tables = {"meta": {"1": meta}, "series": series, "statuses": status_docs}
    if alerts:
        tables["alerts"] = {"1": alerts}
    return tables
