"""What every source is: something the collector polls for samples.

A source never touches the store or the UI. It returns samples (or raises
`SourceError` with a message fit for the user); the collector decides what happens next.
Two refinements of `SourceError` tell the collector more:

    SourceError
    ├── PartialFailure   some series or rows failed; `samples` holds those that arrived
    └── RetryLater       the server asked for a pause (HTTP 429/503 with Retry-After)
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

from kputui.errors import SourceError

if TYPE_CHECKING:
    import httpx

    from kputui.config import SourceSpec
    from kputui.series import Sample

__all__ = ["PartialFailure", "RetryLater", "Source"]


class PartialFailure(SourceError):
    """Some of a poll failed: the collector stores `samples` and reports the message."""

    def __init__(self, message: str, samples: list[Sample]) -> None:
        self.samples = samples
        """The samples that did arrive."""
        super().__init__(message)


class RetryLater(SourceError):
    """The server asked kputui to come back after `retry_after` seconds."""

    def __init__(self, message: str, retry_after: float) -> None:
        self.retry_after = retry_after
        """Seconds to wait before the next attempt."""
        super().__init__(message)


class Source(ABC):
    """A place numbers come from, polled by the collector at the spec's interval."""

    polls: bool = True
    """Whether the collector polls this source at its interval."""

    def __init__(
        self,
        spec: SourceSpec,
        *,
        client: httpx.AsyncClient | None = None,
        timezone: str = "UTC",
    ) -> None:
        self.spec = spec
        """The validated config of this source."""
        self.client = client
        """The collector's shared HTTP client, for sources that speak HTTP."""
        self.timezone = timezone
        """The zone in which times without an offset (like a CSV's `2026-05-01`) are read."""

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

    async def aclose(self) -> None:
        """Let go of anything the source opened itself (the shared client is not its own)."""
