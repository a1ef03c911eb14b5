"""What every source is: something the collector polls for samples.

A source never touches the store or the UI. It returns samples (or raises
`SourceError` with a message fit for the user); the collector decides what happens next.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import httpx

    from kputui.config import SourceSpec
    from kputui.series import Sample

__all__ = ["Source"]


class Source(ABC):
    """A place numbers come from, polled by the collector at the spec's interval."""

    polls: bool = True
    """Whether the collector polls this source at its interval."""

    def __init__(self, spec: SourceSpec, *, client: httpx.AsyncClient | None = None) -> None:
        self.spec = spec
        """The validated config of this source."""
        self.client = client
        """The collector's shared HTTP client, for sources that speak HTTP."""

    @property
    def name(self) -> str:
        """The source's name in the config."""
        return self.spec.name

    async def backfill(self, now: float, since: float | None) -> list[Sample]:
        """History to load once at start, from `since` (the newest stored sample) to `now`.

        Sources without history return nothing.
        """
        return []

    @abstractmethod
    async def poll(self, now: float) -> list[Sample]:
        """The samples that are new at `now`; raise `SourceError` when that fails."""
