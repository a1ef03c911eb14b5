"""What the dashboard remembers between runs (the chosen theme), in a small JSON file."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import platformdirs

__all__ = ["Preferences", "default_path"]


def default_path() -> Path:
    """Where preferences live: the platform's user state folder."""
    return Path(platformdirs.user_state_dir("kputui")) / "preferences.json"


class Preferences:
    """A tiny key-value file; unreadable content is treated as empty, never an error."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        """The file, or None to remember nothing (tests)."""
        self._values: dict[str, str] = {}
        if path is not None:
            try:
                loaded = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                loaded = {}
            if isinstance(loaded, dict):
                self._values = {str(k): str(v) for k, v in loaded.items()}

    def get(self, key: str) -> str | None:
        return self._values.get(key)

    def set(self, key: str, value: str) -> None:
        """Remember `value`; a failure to write is ignored (it only costs the memory)."""
        self._values[key] = value
        if self.path is None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile("w", dir=self.path.parent, delete=False, encoding="utf-8") as file:
                json.dump(self._values, file)
            os.replace(file.name, self.path)
        except OSError:
            pass
