"""The collector: polls every source on its schedule and is the store's only writer.

One asyncio task per source polls at the source's interval (with a little jitter), never
two polls of one source at once, each poll bounded by the source's timeout as a deadline
for the whole poll. A semaphore bounds the polls running at once, so hundreds of sources
share one HTTP client without exhausting its pool. Failures back off exponentially up to
a cap (or as long as a server's Retry-After asks) and recover by themselves; every
source's health is written to the store as a `SourceStatus`, so the dashboard, viewers
and `kputui export` all see it. Error text is made safe to show: secrets blanked out,
escape sequences and control characters removed, one line, bounded.

Samples and statuses are written in batches (one journal append for all samples that
arrived meanwhile), every `FLUSH_INTERVAL` and when the collector stops, so a stop loses
nothing a source delivered. `restart(config)` restarts only the sources whose spec
changed. The collector runs inside `kputui` (as a Textual worker) or alone as `kputui
collect`; it never imports Textual.

Alerts are evaluated here too, every `ALERT_INTERVAL`, so they fire with no UI open and
only in the store's writer: the KPI states come from a `Board`, `kputui.alerts.step`
decides what fires or resolves, the store records the alerts' memory and events (before
anything is sent, so a restart neither repeats nor forgets an alert), and each event goes
to its notifiers as a task of its own (`kputui.notify`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import random
import re
import time
import traceback
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from kputui.alerts import AlertEvent, step
from kputui.errors import KputuiError, SourceError
from kputui.sources import PartialFailure, RetryLater, Source, build_source
from kputui.sources.values import blank_out, secrets_of
from kputui.store import SourceStatus

if TYPE_CHECKING:
    import httpx

    from kputui.board import Board
    from kputui.config import Config, SourceSpec
    from kputui.series import Sample
    from kputui.store import Store

__all__ = ["Collector", "safe_text"]

log = logging.getLogger(__name__)

MAX_BACKOFF = 15 * 60.0
"""No failing source waits longer than this between attempts (unless Retry-After says so)."""
FIRST_BACKOFF = 5.0
"""The first retry after a failure comes after at most this (or the interval if shorter)."""
BACKFILL_TIMEOUT = 300.0
"""A backfill may take this long even when the source's timeout is shorter."""
FLUSH_INTERVAL = 0.25
"""How often delivered samples and statuses are written, and pushed values drained."""
MAX_CONCURRENT_POLLS = 32
"""Polls running at once at most; the rest wait their turn (not counted in their timeout).

httpx's pool slows down with the number of requests queued in it (on loopback, 500 at once
take 15 times longer than 500 one after the other); waiting here instead keeps it fast
while leaving room for slow sources (see bench/sources.py)."""
MAX_ERROR_LENGTH = 300
"""Error messages kept in the store are cut to this length."""
MAX_PENDING = 1_000_000
"""Samples kept for a store that cannot be written, before the oldest are dropped."""
ALERT_INTERVAL = 5.0
"""Seconds between evaluations of the alert rules."""
NOTIFY_GRACE = 5.0
"""Seconds notifications still under way may take to finish when the collector stops."""

_UNSAFE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI: colours, cursor moves
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC: titles, hyperlinks, clipboard
    r"|\x1b[P^_X][^\x1b]*(?:\x1b\\)?"  # DCS, PM, APC, SOS strings
    r"|\x1b[ -/]*[0-~]?"  # any other escape
    r"|\x9b[0-?]*[ -/]*[@-~]"  # 8-bit CSI
    r"|[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]"  # controls, bidi
)


def safe_text(text: str, limit: int = MAX_ERROR_LENGTH) -> str:
    """`text` as one plain line of at most `limit` characters: no escape sequences, no
    control characters. Markup like `[red]` stays literal; whoever shows it must show
    it as plain text (it is, everywhere in kputui)."""
    text = _UNSAFE.sub(" ", text)
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


def _error_text(error: BaseException, secrets: set[str]) -> str:
    """A one-line, bounded, secret-free description of a failure, fit to show the user."""
    text = str(error) or type(error).__name__
    if not isinstance(error, KputuiError):
        text = f"{type(error).__name__}: {text}"
    return safe_text(blank_out(text, secrets))


def _fingerprint(value: Any) -> Any:
    """`value` as plain comparable data (compiled JMESPath compares by its text)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return (type(value).__name__, *(_fingerprint(getattr(value, f.name)) for f in dataclasses.fields(value)))
    if isinstance(value, Mapping):
        return tuple(sorted((str(k), _fingerprint(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return tuple(_fingerprint(v) for v in value)
    if isinstance(value, re.Pattern):
        return ("re", value.pattern, value.flags)
    if hasattr(value, "expression") and hasattr(value, "parsed"):
        return ("jmespath", value.expression)
    return value


@dataclasses.dataclass
class _Outcome:
    """What one attempt at a source gave."""

    samples: list[Sample]
    error: BaseException | None = None
    """The failure; a `PartialFailure` when some samples still arrived."""
    backfilled: bool = False


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
        max_concurrent: int = MAX_CONCURRENT_POLLS,
        alert_interval: float = ALERT_INTERVAL,
        on_settled: Callable[[], None] | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.client = client
        self.clock = clock
        self.jitter = jitter
        self.max_concurrent = max_concurrent
        self.sources: dict[str, Source] = {}
        """Built sources by name; a source that cannot be built only has a status."""
        self._statuses = store.statuses()
        self._backoff: dict[str, int] = {}
        """Failures in a row that count for backoff (a partial failure does not)."""
        self._backfilled: set[str] = set()
        self._first_polls: set[str] = set()
        self._settled = False
        self.on_settled = on_settled
        """Called once, when every source has been polled (backfilled) and that is stored."""
        self._secrets: dict[str, set[str]] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._semaphore: asyncio.Semaphore | None = None
        self._active: httpx.AsyncClient | None = None
        self._pending: list[Sample] = []
        self._pending_statuses: dict[str, SourceStatus] = {}
        self.alert_interval = alert_interval
        self._board: Board | None = None
        self._notifying: set[asyncio.Task[None]] = set()

    # -- building -----------------------------------------------------------------------

    def _build_one(self, spec: SourceSpec) -> Source | None:
        self._secrets[spec.name] = secrets_of(spec)
        try:
            source = build_source(spec, client=self._active, timezone=self.config.settings.timezone)
        except SourceError as error:
            self._record(spec.name, error=error)
            return None
        self.sources[spec.name] = source
        return source

    @asynccontextmanager
    async def _client(self) -> AsyncIterator[httpx.AsyncClient]:
        """The injected HTTP client, or one of our own; sources are built and closed with it."""
        import httpx

        self._semaphore = asyncio.Semaphore(self.max_concurrent)
        own = None
        if self.client is None:
            # No more connections than polls can run at once: httpcore scans every pooled
            # connection for each request, so idle extras only cost time on the event loop.
            limits = httpx.Limits(max_connections=self.max_concurrent, max_keepalive_connections=self.max_concurrent)
            own = httpx.AsyncClient(limits=limits, timeout=httpx.Timeout(10.0, pool=None))
        self._active = self.client or own
        self.sources.clear()
        for count, spec in enumerate(self.config.sources, 1):
            self._build_one(spec)
            if count % 100 == 0:
                await asyncio.sleep(0)  # hundreds of sources: do not hold the loop meanwhile
        try:
            yield self._active
        finally:
            for source in list(self.sources.values()):
                await self._close(source)
            self._active = None
            if own is not None:
                await own.aclose()

    async def _close(self, source: Source) -> None:
        try:
            await source.aclose()
        except Exception:  # closing must not stop the others closing
            log.debug("closing source %s failed", source.name, exc_info=True)

    # -- one attempt --------------------------------------------------------------------

    def _newest_time(self, source: Source) -> float | None:
        """The oldest of the newest stored samples of the source's series (what to fill from)."""
        times = []
        for series in source.spec.series:
            latest = self.store.latest(series.name)
            if latest is None:
                return None
            times.append(latest.time)
        return min(times) if times else None

    async def _step(self, call: Any, timeout: float, outcome: _Outcome) -> bool:
        """Run one source call under `timeout`; add its samples or its error to `outcome`."""
        try:
            async with asyncio.timeout(timeout):
                outcome.samples += await call()
        except PartialFailure as partial:
            outcome.samples += partial.samples
            outcome.error = partial if outcome.error is None else outcome.error
        except TimeoutError:
            outcome.error = SourceError(f"timed out after {timeout:g}s")
            return False
        except (SourceError, OSError, ValueError) as error:
            outcome.error = error
            return False
        return True

    async def _attempt(self, source: Source, *, backfill: bool) -> _Outcome:
        """Backfill and/or poll `source` once (never two at once for one source)."""
        lock = self._locks.setdefault(source.name, asyncio.Lock())
        assert self._semaphore is not None
        async with lock, self._semaphore:
            spec = source.spec
            outcome = _Outcome([])
            try:
                if backfill:
                    since = self._newest_time(source)
                    now = self.clock()
                    outcome.backfilled = await self._step(
                        lambda: source.backfill(now, since), max(spec.timeout, BACKFILL_TIMEOUT), outcome)
                    if not outcome.backfilled:
                        return outcome
                if source.polls:
                    now = self.clock()
                    await self._step(lambda: source.poll(now), spec.timeout, outcome)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # a bug in a source must not stop the others
                secrets = self._secrets.get(source.name, set())
                trace = "".join(traceback.format_exception(error))
                log.error("source %s failed unexpectedly: %s", source.name, _error_text(error, secrets))
                log.debug("%s", blank_out(trace, secrets))
                outcome.error = error
            return outcome

    def _delay(self, source: Source, outcome: _Outcome) -> float:
        """Seconds until the next attempt: the interval, Retry-After, or a capped backoff."""
        interval = source.spec.interval
        if isinstance(outcome.error, RetryLater):
            return max(outcome.error.retry_after, 0.0)
        failures = self._backoff.get(source.name, 0)
        if failures:
            first = max(min(interval, FIRST_BACKOFF), 0.1)
            delay = min(first * 2 ** min(failures - 1, 30), max(MAX_BACKOFF, first))
        else:
            delay = interval
        return delay * (1 + random.uniform(-self.jitter, self.jitter))

    def _settle(self, source: Source, outcome: _Outcome, *, schedule: bool) -> float:
        """Queue the outcome's samples and status; return the delay until the next attempt."""
        name = source.name
        if outcome.backfilled:
            self._backfilled.add(name)
        self._pending += outcome.samples
        hard = outcome.error is not None and not isinstance(outcome.error, PartialFailure)
        self._backoff[name] = self._backoff.get(name, 0) + 1 if hard else 0
        delay = self._delay(source, outcome)
        next_attempt = self.clock() + delay if schedule else None
        failed = None
        if isinstance(outcome.error, PartialFailure):
            delivered = {sample.series for sample in outcome.samples}
            failed = tuple(sorted(series.name for series in source.spec.series if series.name not in delivered))
        self._record(name, error=outcome.error, next_attempt=next_attempt, failed=failed)
        return delay

    def _record(
        self,
        name: str,
        *,
        error: BaseException | None = None,
        next_attempt: float | None = None,
        failed: tuple[str, ...] | None = None,
    ) -> None:
        """Queue the outcome of an attempt at source `name` for the store.

        `failed` names the series that delivered nothing in a partial failure.
        """
        now = self.clock()
        old = self._statuses.get(name) or SourceStatus(name, None, None, None, 0, None)
        if error is None:
            status = SourceStatus(name, now, old.last_error, old.last_error_at, 0, next_attempt)
        else:
            text = _error_text(error, self._secrets.get(name, set()))
            success = now if isinstance(error, PartialFailure) else old.last_success
            status = SourceStatus(name, success, text, now, old.consecutive_failures + 1, next_attempt, failed)
        self._statuses[name] = status
        self._pending_statuses[name] = status

    # -- writing ------------------------------------------------------------------------

    def flush(self, *, sync: bool = True) -> bool:
        """Write every sample and status delivered so far; return whether anything was.

        With `sync` False the lines reach the kernel but not yet the disk: `run` then
        syncs in a worker thread, so a slow disk never holds the event loop.
        """
        wrote = False
        try:
            if self._pending:
                self.store.append(self._pending, sync=sync)
                self._pending = []
                wrote = True
            if self._pending_statuses:
                self.store.set_statuses(self._pending_statuses.values(), sync=sync)
                self._pending_statuses.clear()
                wrote = True
        except (KputuiError, OSError) as error:
            log.error("cannot write to the store: %s", safe_text(str(error)))
            del self._pending[:-MAX_PENDING]
        return wrote

    def _drain_inbox(self) -> None:
        try:
            self.store.drain_inbox()
        except (KputuiError, OSError) as error:
            log.error("cannot take in pushed values: %s", safe_text(str(error)))

    # -- alerts -------------------------------------------------------------------------

    def evaluate_alerts(self) -> list[AlertEvent]:
        """Evaluate every alert rule now; record and return what fired or resolved.

        The events are in the store before this returns (the caller sends them); when the
        store cannot be written nothing is returned, and the next evaluation tries again.
        """
        if not self.config.alerts:
            return []
        from kputui.board import Board

        if self._board is None or self._board.config is not self.config:
            self._board = Board(self.config, self.store, clock=self.clock)
        try:
            self._board.update(only={rule.kpi_id for rule in self.config.alerts})
            memory = self.store.alert_memory()
            new, events = step(self.config.alerts, self._board.states, memory, self.clock())
            if new != memory or events:
                return self.store.record_alerts(new, events)
        except (KputuiError, OSError) as error:
            log.error("cannot evaluate the alerts: %s", safe_text(str(error)))
        return []

    def _send(self, events: list[AlertEvent]) -> list[asyncio.Task[None]]:
        """Start one task per event and notifier; they log their own failures."""
        tasks = []
        for event in events:
            log.info("%s", safe_text(event.text))
            for name in event.notify:
                spec = self.config.notifiers.get(name)
                if spec is None:
                    continue
                task = asyncio.get_running_loop().create_task(
                    self._notify(spec, event), name=f"collector:notify:{name}")
                self._notifying.add(task)
                task.add_done_callback(self._notifying.discard)
                tasks.append(task)
        return tasks

    async def _notify(self, spec: Any, event: AlertEvent) -> None:
        from kputui.notify import NotifyError, deliver

        try:
            await deliver(spec, event, client=self._active)
        except NotifyError as error:
            log.error("alert for %s not delivered: %s", event.kpi_id, safe_text(str(error)))
        except Exception as error:  # a notifier's bug must not stop the collector
            log.error("alert for %s not delivered: %s: %s", event.kpi_id, spec.name, type(error).__name__)

    async def _finish_notifications(self) -> None:
        """Let notifications under way finish for a moment, then cancel the rest."""
        pending = set(self._notifying)
        if pending:
            _, late = await asyncio.wait(pending, timeout=NOTIFY_GRACE)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)

    # -- running ------------------------------------------------------------------------

    async def run_once(self) -> None:
        """Backfill and poll every source once, and drain the inbox (`collect --once`)."""
        async with self._client():
            try:
                self._drain_inbox()

                async def once(source: Source) -> None:
                    self._settle(source, await self._attempt(source, backfill=True), schedule=False)

                await asyncio.gather(*(once(s) for s in self.sources.values()))
                self._drain_inbox()
            finally:
                self.flush()
            self._send(self.evaluate_alerts())
            await self._finish_notifications()

    async def _run_source(self, source: Source) -> None:
        """Poll one source until cancelled: backfill first, then at its interval."""
        outcome = await self._attempt(source, backfill=source.name not in self._backfilled)
        delay = self._settle(source, outcome, schedule=source.polls)
        self._first_polls.add(source.name)
        while source.polls:
            await asyncio.sleep(delay)
            outcome = await self._attempt(source, backfill=source.name not in self._backfilled)
            delay = self._settle(source, outcome, schedule=True)

    def _start(self, source: Source) -> None:
        self._tasks[source.name] = asyncio.get_running_loop().create_task(
            self._run_source(source), name=f"collector:{source.name}")

    async def _stop(self, names: set[str]) -> None:
        """Cancel the tasks of sources `names`, wait for them, and close the sources."""
        tasks = [self._tasks.pop(name) for name in names if name in self._tasks]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for name in names:
            source = self.sources.pop(name, None)
            if source is not None:
                await self._close(source)

    async def run(self) -> None:
        """Run every source until cancelled; on the way out, write everything delivered."""
        async with self._client():
            try:
                for count, source in enumerate(self.sources.values(), 1):
                    self._start(source)
                    if count % self.max_concurrent == 0:
                        await asyncio.sleep(0)  # let the first polls (and the UI) run between
                loop = asyncio.get_running_loop()
                alerts_due = loop.time()
                while True:
                    self._drain_inbox()
                    if self.flush(sync=False):
                        await asyncio.to_thread(self.store.sync)
                    if not self._settled and self._first_polls >= self.sources.keys():
                        self._settled = True
                        if self.on_settled is not None:
                            self.on_settled()
                    if loop.time() >= alerts_due:
                        self._send(self.evaluate_alerts())
                        alerts_due = loop.time() + self.alert_interval
                    await asyncio.sleep(min(FLUSH_INTERVAL, self.alert_interval))
            finally:
                await self._stop(set(self._tasks))
                self.flush()
                await self._finish_notifications()

    @property
    def running(self) -> bool:
        """Whether `run` is polling right now."""
        return self._active is not None

    async def restart(self, config: Config) -> set[str]:
        """Take on `config`, restarting only the sources whose spec changed.

        Added sources start, removed ones stop, unchanged ones keep polling undisturbed.
        A changed time zone restarts every source. Returns the names of the sources
        stopped or (re)started. Outside `run` it only swaps the config.
        """
        old, self.config = self.config, config
        before = {spec.name: spec for spec in old.sources}
        after = {spec.name: spec for spec in config.sources}
        every = old.settings.timezone != config.settings.timezone
        changed = {
            name for name in before.keys() | after.keys()
            if every or _fingerprint(before.get(name)) != _fingerprint(after.get(name))
        }
        if self._active is None:
            return changed
        await self._stop(changed)
        for name in changed:
            self._backfilled.discard(name)
            self._backoff.pop(name, None)
            if name in after:
                source = self._build_one(after[name])
                if source is not None:
                    self._start(source)
        return changed
