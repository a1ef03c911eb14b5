"""The files of one store folder: where each lives, and the operations on them that
recovery needs (moving damaged files aside, deleting what no snapshot refers to)."""

from __future__ import annotations

import os
from pathlib import Path

import orjson

from kputui.store.history import paused_gc
from kputui.store.storage import OrjsonStorage, atomic_write
from kputui.store.tiers import Chunk, Tier

__all__ = ["StoreFolder"]


class StoreFolder:
    """Paths and file operations of a store folder (layout described in `store`)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.chunks = root / "chunks"
        self.head = root / "store.json"
        self.lock = root / "writer.lock"

    def create(self) -> None:
        """Make the folder and its `chunks` folder if they are missing."""
        self.chunks.mkdir(parents=True, exist_ok=True)

    def journal(self, gen: int) -> Path:
        """The journal of generation `gen`."""
        return self.root / f"journal.g{gen}.jsonl"

    @staticmethod
    def chunk_name(tier: Tier, key: str, gen: int) -> str:
        return f"{tier.name}-{key}.g{gen}.json"

    def read_chunk(self, tier: Tier, key: str, name: str) -> Chunk:
        """Load a chunk file; FileNotFoundError when gone, ValueError/KeyError/TypeError
        when damaged."""
        path = self.chunks / name
        with paused_gc():
            data = OrjsonStorage(path, access_mode="r").read()
            if data is None:  # chunk files are never empty: this one is gone
                raise FileNotFoundError(path)
            return Chunk.from_db(tier, key, data)

    def write_chunk(self, name: str, chunk: Chunk, schema: int) -> None:
        """Write a chunk file atomically and durably."""
        atomic_write(self.chunks / name, orjson.dumps(chunk.to_db(schema)))

    def delete_chunks(self, names: list[str]) -> None:
        for name in names:
            (self.chunks / name).unlink(missing_ok=True)

    def chunk_aside(self, name: str, stamp: str) -> str:
        """Move a damaged chunk file out of the way; return its new name."""
        aside = f"{name}.corrupt-{stamp}"
        os.replace(self.chunks / name, self.chunks / aside)
        return aside

    def everything_aside(self, stamp: str) -> str:
        """Move a damaged snapshot, its chunks and journals out of the way (kept for a
        human to look at); return the snapshot's new name."""
        aside = self.head.with_name(f"{self.head.name}.corrupt-{stamp}")
        os.replace(self.head, aside)
        if any(self.chunks.iterdir()):
            os.replace(self.chunks, self.root / f"chunks.corrupt-{stamp}")
            self.chunks.mkdir()
        for journal in self.root.glob("journal.g*.jsonl"):
            os.replace(journal, journal.with_name(f"{journal.name}.corrupt-{stamp}"))
        return aside.name

    def remove_leftovers(self, used: set[str], gen: int) -> None:
        """Delete chunks and journals the snapshot of generation `gen` does not use, and
        temporary files: what an interrupted checkpoint or write left behind."""
        for path in self.chunks.iterdir():
            if path.name not in used and ".corrupt-" not in path.name:
                path.unlink(missing_ok=True)
        current = self.journal(gen).name
        for path in self.root.glob("journal.g*.jsonl"):
            if path.name != current:
                path.unlink(missing_ok=True)
        for folder in (self.root, self.chunks):
            for path in folder.glob(".*.tmp"):
                path.unlink(missing_ok=True)
