"""kputui's history store: TinyDB made crash-safe, fast at any history length, and shared.

`Store.open(path, writer=...)` opens a store folder. The one writer (the collector)
appends samples and source statuses; readers (viewers) `refresh()` to take in what it
wrote; any process can `push()` samples through the inbox. See `store` for the files,
`tiers` for resolutions and retention, `history` for the rules that keep them exact,
`snapshot` for the schema.
"""

from __future__ import annotations

from kputui.store.history import freeze_long_lived
from kputui.store.snapshot import MIGRATIONS, SCHEMA_VERSION, SourceStatus
from kputui.store.storage import OrjsonStorage
from kputui.store.store import Store

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "OrjsonStorage", "SourceStatus", "Store", "freeze_long_lived"]
