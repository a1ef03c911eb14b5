"""Version numbers of what a process sees of the store, and what changed at each."""

from __future__ import annotations

__all__ = ["ChangeLog"]


class ChangeLog:
    """A counter that grows with every visible change, remembering the series each
    change touched, so the UI can re-read only those ("what changed since V")."""

    def __init__(self, length: int = 512) -> None:
        self.version = 0
        self._length = length
        self._log: list[tuple[int, frozenset[str]]] = []

    def bump(self, changed: set[str], *, force: bool = False) -> None:
        """Record a change touching `changed` (none: nothing happened, unless `force`)."""
        if not changed and not force:
            return
        self.version += 1
        self._log.append((self.version, frozenset(changed)))
        if len(self._log) > self._length:
            del self._log[: len(self._log) - self._length]

    def since(self, version: int) -> set[str] | None:
        """The series changed after `version`; None when that is too far back to know."""
        if version >= self.version:
            return set()
        if not self._log or self._log[0][0] > version + 1:
            return None
        names: set[str] = set()
        for at, changed in self._log:
            if at > version:
                names |= changed
        return names
