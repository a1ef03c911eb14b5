"""The config write path: edit KPIs in the user's YAML file and save it safely.

The KPI editor reads a file with `read_document`, turns edits into new text with
`update_kpi`, `add_kpi`, `delete_kpi`, `move_kpi` and `add_manual_series` (plain data in,
text out), and writes it with `save_document`. Only the edited lines change: comments,
key order, blank lines and the spelling of everything else stay byte for byte, and the
new text is checked to read back (with kputui's own PyYAML loader) as intended.

    KputuiError
    └── ConfigEditError        an edit cannot be made to this text
        ├── EntryNotFound      no such KPI, dashboard or source (also a KeyError)
        └── ConfigChangedOnDisk   the file changed since it was read; nothing written

`save_document` raises `kputui.errors.ConfigError` for text that is not a valid config.
"""

from __future__ import annotations

from kputui.config_edit._document import ConfigDocument, read_document, save_document
from kputui.config_edit._errors import ConfigChangedOnDisk, ConfigEditError, EntryNotFound
from kputui.config_edit._kpis import KPI_KEYS, add_kpi, delete_kpi, kpi_fields, move_kpi, update_kpi
from kputui.config_edit._series import add_manual_series

__all__ = [
    "KPI_KEYS",
    "ConfigChangedOnDisk",
    "ConfigDocument",
    "ConfigEditError",
    "EntryNotFound",
    "add_kpi",
    "add_manual_series",
    "delete_kpi",
    "kpi_fields",
    "move_kpi",
    "read_document",
    "save_document",
    "update_kpi",
]
