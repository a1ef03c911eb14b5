"""Editing the config from the dashboard: KPI edits written to the user's YAML file.

The screens collect what the person typed; this module turns it into a saved file and a
freshly loaded `Config`. The bundled demo is never written: the first edit of it saves a
copy as the user's config file and goes on from there.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import platformdirs

from kputui.config import Config, load_config

if TYPE_CHECKING:
    from kputui.config_edit import ConfigDocument

__all__ = ["BUNDLED_CONFIG", "ConfigEditing", "user_config_path"]

BUNDLED_CONFIG = Path(__file__).resolve().parent.parent / "sample_config.yaml"


def user_config_path() -> Path:
    """The user's own config file (where a copy of the demo goes when it is edited)."""
    return Path(platformdirs.user_config_dir("kputui")) / "kputui.yaml"


class ConfigEditing:
    """Reads and saves the config file on behalf of the editor screens."""

    def __init__(self, path: Path, *, copy_to: Path | None = None) -> None:
        self.path = path
        """The config file being edited."""
        self.copy_to = copy_to if copy_to is not None else user_config_path()
        """Where an edit of the bundled demo is saved instead."""
        self.notice = ""
        """Set when an edit moved to a copy of the demo: the UI tells the person."""

    def document(self) -> ConfigDocument:
        """The file as it is now, after making the demo's copy if needed."""
        from kputui.config_edit import read_document

        bundled = BUNDLED_CONFIG.resolve()
        if self.path.resolve() == bundled and self.copy_to.resolve() != bundled:
            if not self.copy_to.exists():
                self.copy_to.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(BUNDLED_CONFIG, self.copy_to)
            self.notice = f"the demo is read-only: your edits are saved in {self.copy_to}"
            self.path = self.copy_to
        return read_document(self.path)

    def _save(self, doc: ConfigDocument, text: str) -> Config:
        from kputui.config_edit import save_document

        save_document(doc, text)
        return load_config(self.path)

    def save_kpi(
        self,
        doc: ConfigDocument,
        kpi_id: str | None,
        fields: Mapping[str, Any],
        *,
        new_series: Mapping[str, str] = {},
        dashboard: str | None = None,
        after: str | None = None,
    ) -> Config:
        """Update KPI `kpi_id` (or add a new one on `dashboard`) and save the file.

        `new_series` names manual series to create first (name -> kind). Raises
        ConfigError (the result would not load), ConfigChangedOnDisk or ConfigEditError.
        """
        from kputui.config_edit import add_kpi, add_manual_series, update_kpi

        text = doc.text
        for name, kind in new_series.items():
            text = add_manual_series(_with_text(doc, text), name, kind)
        current = _with_text(doc, text)
        if kpi_id is None:
            text = add_kpi(current, fields, dashboard, after)
        else:
            text = update_kpi(current, kpi_id, fields)
        return self._save(doc, text)

    def delete(self, doc: ConfigDocument, kpi_id: str) -> Config:
        """Delete a KPI from the file and from every dashboard."""
        from kputui.config_edit import delete_kpi

        return self._save(doc, delete_kpi(doc, kpi_id))

    def move(self, doc: ConfigDocument, dashboard: str, kpi_id: str, offset: int) -> Config:
        """Move a KPI `offset` places within a dashboard."""
        from kputui.config_edit import move_kpi

        return self._save(doc, move_kpi(doc, dashboard, kpi_id, offset))


def _with_text(doc: ConfigDocument, text: str) -> ConfigDocument:
    """`doc` with new text, keeping what identifies the file on disk for the final save."""
    from kputui.config_edit import ConfigDocument

    return ConfigDocument(doc.path, text, doc.mtime_ns, doc.size, doc.digest)
