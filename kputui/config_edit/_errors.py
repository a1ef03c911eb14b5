"""The errors the config write path raises, under kputui's root error."""

from __future__ import annotations

from kputui.errors import KputuiError

__all__ = ["ConfigChangedOnDisk", "ConfigEditError", "EntryNotFound"]


class ConfigEditError(KputuiError):
    """An edit cannot be made to this config text; the message says why."""


class EntryNotFound(ConfigEditError, KeyError):
    """A KPI, dashboard or source named by the caller is not in the config."""

    def __str__(self) -> str:
        # KeyError would print its argument quoted, like a repr.
        return str(self.args[0]) if self.args else ""


class ConfigChangedOnDisk(ConfigEditError):
    """The file changed since it was read; saving would throw those changes away."""
