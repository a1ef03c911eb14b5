"""The collector: polls every source on its schedule and is the store's only writer.

One asyncio task per source polls at the source's interval (with a little jitter), never
two polls of one source at once, each bounded by the source's timeout. Failures back off
exponentially up to a cap and recover by themselves; every source's health is written to
the store as a `SourceStatus`, so the dashboard, viewers and `kputui export` all see it.
The collector runs inside `kputui` (as a Textual worker) or alone as `kputui collect`.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from kputui.errors import KputuiError, SourceError
from kputui.sources import Source, build_source
from kputui.store import SourceStatus

if TYPE_CHECKING:
    import httpx

    from kputui.config import Config
    from kputui.series import Sample
    from kputui.store import Store

__all__ = ["Collector"]

log = logging.getLogger(__name__)

MAX_BACKOFF = 15 * 60.0
"""No failing source waits longer than this between attempts."""
INBOX_INTERVAL = 0.5
"""How often pushed values are drained from the inbox."""
MAX_CONNECTIONS = 100
"""Connections the shared HTTP client keeps open at most."""
MAX_ERROR_LENGTH = 300
"""Error messages kept in the store are cut to this length."""


def _error_text(error: BaseException) -> str:
    """A one-line, bounded description of a failure, fit to show the user."""
    if isinstance(error, TimeoutError):
        return "timed out"
    text = str(error) or type(error).__name__
    text = " ".join(text.split())
    return text[:MAX_ERROR_LENGTH]


class Collector:
    """Polls the config's sources and writes their samples and health to the store."""

    def __init__(
        self,
        config: Config,
        store: Store,
        *,
        client: httpx.AsyncClient | None = None,
        clock: Callable[[], float] = time.time,
        jitter: float = 0.05,
    ) -> None:
        self.config = config
        self.store = store
        self.client = client
        self.clock = clock
        self.jitter = jitter
        self.sources: dict[str, Source] = {}
        """Built sources by name; a source that cannot be built only has a status."""
        self._statuses = store.statuses()

    def _build(self, client: httpx.AsyncClient) -> None:
        """Build every source of the config, recording those that cannot run."""
        self.sources.clear()
        for spec in self.config.sources:
            try:
                self.sources[spec.name] = build_source(spec, client=client)
            except SourceError as error:
                self._record(spec.name, error=error)

    @asynccontextmanager
    async def _client(self) -> AsyncIterator[httpx.AsyncClient]:
        """The injected HTTP client, or one of our own for the duration of a run."""
        if self.client is not None:
            self._build(self.client)
            yield self.client
            return
        import httpx

        limits = httpx.Limits(max_connections=MAX_CONNECTIONS, max_keepalive_connections=MAX_CONNECTIONS)
        async with httpx.AsyncClient(limits=limits) as client:
            self._build(client)
            yield client

    def _record(self, name: str, *, error: BaseException | None = None, next_attempt: float | None = None) -> None:
        """Write the outcome of an attempt at source `name` to the store."""
        now = self.clock()
        old = self._statuses.get(name) or SourceStatus(name, None, None, None, 0, None)
        if error is None:
            status = SourceStatus(name, now, old.last_error, old.last_error_at, 0, next_attempt)
        else:
            status = SourceStatus(
                name,
                old.last_success,
                _error_text(error),
                now,
                old.consecutive_failures + 1,
                next_attempt,
            )
        self._statuses[name] = status
        self.store.set_status(status)

    def _write(self, samples: list[Sample]) -> None:
        if samples:
            self.store.append(samples)

    def _newest_time(self, source: Source) -> float | None:
        """The time of the newest stored sample of any of the source's series."""
        times = [s.time for s in (self.store.latest(series.name) for series in source.spec.series) if s]
        return min(times) if times else None

    async def _attempt(self, source: Source, *, backfill: bool) -> bool:
        """Backfill and/or poll `source` once, record its health; True on success."""
        spec = source.spec
        try:
            async with asyncio.timeout(spec.timeout if not backfill else max(spec.timeout, 300.0)):
                now = self.clock()
                samples: list[Sample] = []
                if backfill:
                    samples += await source.backfill(now, self._newest_time(source))
                if source.polls:
                    samples += await source.poll(now)
        except asyncio.CancelledError:
            raise
        except (KputuiError, TimeoutError, OSError, ValueError) as error:
            self._record(spec.name, error=error)
            return False
        except Exception as error:  # a bug in a source must not stop the others
            log.exception("source %s failed", spec.name)
            self._record(spec.name, error=error)
            return False
        self._write(samples)
        self._record(spec.name)
        return True

    def _delay(self, source: Source) -> float:
        """Seconds until the next attempt: the interval, or a capped backoff after failures."""
        failures = self._statuses[source.name].consecutive_failures
        delay = source.spec.interval
        if failures:
            delay = min(max(delay, 1.0) * 2 ** min(failures, 20), max(MAX_BACKOFF, delay))
        return delay * (1 + random.uniform(-self.jitter, self.jitter))

    async def _run_source(self, source: Source) -> None:
        """Poll one source for ever: backfill first, then at its interval."""
        backfilled = await self._attempt(source, backfill=True)
        if not source.polls:
            return
        while True:
            await asyncio.sleep(self._delay(source))
            backfilled = await self._attempt(source, backfill=not backfilled) or backfilled

    async def _run_inbox(self) -> None:
        while True:
            self.store.drain_inbox()
            await asyncio.sleep(INBOX_INTERVAL)

    async def run_once(self) -> None:
        """Backfill and poll every source once, and drain the inbox (`collect --once`)."""
        async with self._client():
            self.store.drain_inbox()
            await asyncio.gather(*(self._attempt(s, backfill=True) for s in self.sources.values()))
            self.store.drain_inbox()

    async def run(self) -> None:
        """Run every source until cancelled."""
        async with self._client(), asyncio.TaskGroup() as group:
            group.create_task(self._run_inbox(), name="collector:inbox")
            for source in self.sources.values():
                group.create_task(self._run_source(source), name=f"collector:{source.name}")
