"""kputui's history store: TinyDB made crash-safe, fast at any history length, and shared.

`Store.open(path, writer=...)` opens a store folder. The one writer (the collector)
appends samples and source statuses; readers (viewers) `refresh()` to take in what it
wrote; any process can `push()` samples through the inbox. See `store` for the files,
`tiers` for resolutions and retention, `history` for the exactness rules.
"""

from __future__ import annotations

from kputui.store.store import MIGRATIONS, SCHEMA_VERSION, SourceStatus, Store
from kputui.store.storage import OrjsonStorage

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "OrjsonStorage", "SourceStatus", "Store"]
