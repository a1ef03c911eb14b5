"""kputui's errors: one root class, so callers can catch everything kputui raises.

    KputuiError
    ├── ConfigError        the config file is wrong (carries every located issue)
    ├── FormulaError       a KPI formula does not parse or names unknown things
    ├── StoreError         the history store cannot be used
    │   └── StoreLockedError   another process is the store's writer
    └── SourceError        a source could not deliver samples this time

A user error (ConfigError, FormulaError, StoreLockedError, a bad argument) is printed
as one clear message and exits 1; nothing else reaches the user as a traceback either.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "FormulaError",
    "KputuiError",
    "SourceError",
    "StoreError",
    "StoreLockedError",
]


class KputuiError(Exception):
    """The root of every error kputui raises on purpose."""


class ConfigError(KputuiError):
    """The config cannot be used; `issues` holds every problem found, located."""

    def __init__(self, issues: list) -> None:
        self.issues = list(issues)
        super().__init__("\n".join(str(issue) for issue in self.issues))


class FormulaError(KputuiError):
    """A formula is wrong; `offset` is the 0-based character where the problem is."""

    def __init__(self, message: str, offset: int = 0) -> None:
        self.message = message
        self.offset = offset
        super().__init__(message)


class StoreError(KputuiError):
    """The store cannot be opened, read or written."""


class StoreLockedError(StoreError):
    """Another process holds the store's writer lock."""

    def __init__(self, message: str, pid: int | None = None) -> None:
        self.pid = pid
        super().__init__(message)


class SourceError(KputuiError):
    """A source failed this time; the message is shown to the user as plain text."""
