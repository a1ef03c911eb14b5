"""kputui's numbers as Prometheus metrics: `kputui collect --metrics-listen HOST:PORT`.

`MetricsServer` is a small HTTP/1.1 server on asyncio that answers `GET /metrics` (and
`HEAD`) in the Prometheus text exposition format 0.0.4, so an existing Prometheus or
Grafana can scrape what kputui collects and computes. It runs beside the collector on the
same event loop and re-evaluates its `Board` at most once per `min_refresh` seconds,
however often it is scraped. `render` builds the page and is pure.

The metrics (every one a gauge, no explicit timestamps):

    kputui_series_value{series, source, kind}          latest stored value of a series
    kputui_series_timestamp_seconds{series, source, kind}   Unix time of that sample
    kputui_kpi_value{kpi, name, period}                the KPI over its current period
    kputui_kpi_target{kpi, name, period}               the target in force (range: upper bound)
    kputui_kpi_progress{kpi, name, period}             value / target
    kputui_kpi_status{kpi, status}                     1 for the KPI's status, 0 for the others
    kputui_source_up{source}                           1 when the last attempt succeeded
    kputui_source_consecutive_failures{source}         failed attempts in a row
    kputui_source_last_success_timestamp_seconds{source}

A number that does not exist is omitted, never written as NaN: a series with no sample, a
KPI with no value, no target or no progress, a source never polled yet (a manual source is
never polled). NaN would poison `sum()` and comparisons in PromQL; an absent series is what
`absent()` and Grafana's "no data" expect. Why a KPI has no value shows in its status
(`no_data`, `error`, ...), which is always there: one series per possible status
(the stateset pattern), so `kputui_kpi_status{status="off_track"} == 1` is an alert rule.

Label values (series names, KPI names from the config, period labels) are escaped as the
format requires; metric names are sanitised to `[a-zA-Z_:][a-zA-Z0-9_:]*`.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import math
import re
import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING

from kputui.errors import KputuiError
from kputui.kpi.state import STATUSES

if TYPE_CHECKING:
    from types import TracebackType

    from kputui.board import Board
    from kputui.config import Config
    from kputui.kpi import KpiState
    from kputui.series import Sample
    from kputui.store import SourceStatus

__all__ = [
    "CONTENT_TYPE",
    "DEFAULT_PORT",
    "ListenError",
    "MetricsServer",
    "escape_label",
    "is_loopback",
    "metric_name",
    "parse_listen",
    "render",
]

log = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 9464
MAX_REQUEST = 8192
"""Bytes a request line and its headers may take; more is answered with 431."""
REQUEST_TIMEOUT = 10.0
"""Seconds a client has to send its request and to take the answer."""
MAX_CONNECTIONS = 64
"""Connections served at once; more are closed straight away."""


class ListenError(KputuiError, ValueError):
    """A listen address that does not parse, or on which the server cannot listen."""


# -- the exposition format ----------------------------------------------------------------

_NAME_BAD = re.compile(r"[^a-zA-Z0-9_:]")


def metric_name(text: str) -> str:
    """`text` as a valid metric name: other characters become `_`, no leading digit."""
    name = _NAME_BAD.sub("_", text)
    return name if name and not name[0].isdigit() else "_" + name


def escape_label(value: str) -> str:
    """A label value as the format writes it between quotes: `\\`, `"` and newline escaped."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _number(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value))


class _Family:
    """One metric family: HELP and TYPE lines, then its samples."""

    def __init__(self, name: str, help_text: str) -> None:
        self.name = metric_name(name)
        self.help = help_text
        self.lines: list[str] = []

    def add(self, labels: Mapping[str, str], value: float | None) -> None:
        """A sample; a `None` value is left out."""
        if value is None:
            return
        pairs = ",".join(f'{metric_name(key)}="{escape_label(text)}"' for key, text in labels.items())
        self.lines.append(f"{self.name}{{{pairs}}} {_number(value)}" if pairs else f"{self.name} {_number(value)}")

    def text(self) -> str:
        head = f"# HELP {self.name} {_escape_help(self.help)}\n# TYPE {self.name} gauge\n"
        return head + "".join(line + "\n" for line in self.lines)


def render(
    config: Config,
    states: Mapping[str, KpiState],
    statuses: Mapping[str, SourceStatus],
    latest: Callable[[str], Sample | None],
    *,
    namespace: str = "kputui",
) -> str:
    """The metrics page for `config`'s series, KPIs and sources, in config order."""
    prefix = metric_name(namespace) + "_"

    def family(name: str, help_text: str) -> _Family:
        return _Family(prefix + name, help_text)

    series_value = family("series_value", "Latest stored value of a series (scale applied).")
    series_time = family("series_timestamp_seconds", "Unix time of the latest sample of a series.")
    for spec in config.series.values():
        sample = latest(spec.name)
        if sample is None:
            continue
        labels = {"series": spec.name, "source": spec.source, "kind": spec.kind}
        series_value.add(labels, sample.value)
        series_time.add(labels, sample.time)

    kpi_value = family("kpi_value", "A KPI's value over its current period; absent when it has none.")
    kpi_target = family("kpi_target", "The target in force for a KPI (for a range: its upper bound).")
    kpi_progress = family("kpi_progress", "A KPI's value divided by its target (for a range: 0 low, 1 high).")
    kpi_status = family("kpi_status", f"1 for a KPI's status, 0 for the others ({', '.join(STATUSES)}).")
    for spec in config.kpis:
        state = states.get(spec.id)
        if state is None:
            continue
        labels = {"kpi": state.id, "name": state.name, "period": state.period_label}
        kpi_value.add(labels, state.value)
        kpi_target.add(labels, state.target)
        kpi_progress.add(labels, state.progress)
        for status in STATUSES:
            kpi_status.add({"kpi": state.id, "status": status}, 1.0 if state.status == status else 0.0)

    up = family("source_up", "1 when a source's last attempt succeeded, 0 when it failed.")
    failures = family("source_consecutive_failures", "Failed attempts of a source in a row.")
    success = family("source_last_success_timestamp_seconds", "Unix time of a source's last success.")
    for source in config.sources:
        status = statuses.get(source.name)
        if status is None:
            continue
        labels = {"source": source.name}
        up.add(labels, 0.0 if status.consecutive_failures else 1.0)
        failures.add(labels, float(status.consecutive_failures))
        success.add(labels, status.last_success)

    families = (series_value, series_time, kpi_value, kpi_target, kpi_progress, kpi_status, up, failures, success)
    return "".join(f.text() for f in families)


# -- the listen address -------------------------------------------------------------------

_HOSTNAME = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$")


def parse_listen(text: str, option: str = "--metrics-listen") -> tuple[str, int]:
    """`HOST:PORT`, `[IPv6]:PORT`, `:PORT` or `PORT` as `(host, port)`; the host defaults
    to loopback. Raises `ListenError` naming `option` and what was expected."""
    usage = f"{option}: expected HOST:PORT like 127.0.0.1:{DEFAULT_PORT} or [::1]:{DEFAULT_PORT}, got {text!r}"
    text = text.strip()
    if text.startswith("["):
        host, bracket, rest = text[1:].partition("]")
        if not bracket or not rest.startswith(":"):
            raise ListenError(usage)
        port_text = rest[1:]
        try:
            if ipaddress.ip_address(host).version != 6:
                raise ValueError(host)
        except ValueError:
            raise ListenError(f"{usage}: {host!r} is not an IPv6 address") from None
    elif text.count(":") > 1:
        raise ListenError(f"{usage}: put an IPv6 address in brackets, e.g. [::1]:{DEFAULT_PORT}")
    else:
        host, _, port_text = text.rpartition(":")
        host = host or DEFAULT_HOST
        if not _HOSTNAME.match(host):
            raise ListenError(f"{usage}: {host!r} is not a host name or address")
    if not port_text.isascii() or not port_text.isdigit() or int(port_text) > 65535:
        raise ListenError(f"{usage}: the port must be a number from 0 to 65535")
    return host, int(port_text)


def is_loopback(host: str) -> bool:
    """Whether `host` names this machine only (`localhost`, 127.0.0.0/8, ::1)."""
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# -- the server ---------------------------------------------------------------------------

_REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed",
            431: "Request Header Fields Too Large", 500: "Internal Server Error"}
_REQUEST_LINE = re.compile(rb"^([A-Z]{1,16}) (\S{1,8000}) HTTP/1\.[01]$")


class MetricsServer:
    """Serves `board`'s numbers at `http://HOST:PORT/metrics`.

        async with MetricsServer(board, "127.0.0.1", 9464) as server:
            print(server.url)
            await collector.run()

    Port 0 picks a free port; `port` and `url` then tell which one.
    """

    def __init__(
        self,
        board: Board,
        host: str = DEFAULT_HOST,
        port: int = DEFAULT_PORT,
        *,
        min_refresh: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.board = board
        self.host = host
        self.port = port
        """The port asked for; once started, the port listened on."""
        self.min_refresh = min_refresh
        """Seconds between two re-evaluations of the board, however often it is scraped."""
        self.clock = clock
        self.scrapes = 0
        """How many metric pages were served."""
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[None]] = set()
        self._refreshed_at = float("-inf")
        self._version: int | None = None

    @property
    def url(self) -> str:
        """Where the metrics are, e.g. `http://127.0.0.1:9464/metrics`."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/metrics"

    async def start(self) -> None:
        """Listen; raises `ListenError` when the address cannot be used."""
        try:
            self._server = await asyncio.start_server(self._serve, self.host, self.port, limit=MAX_REQUEST)
        except OSError as error:
            reason = error.strerror or str(error)
            raise ListenError(f"cannot listen on {self.host}:{self.port} for metrics: {reason}") from None
        if self.port == 0 and self._server.sockets:
            self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop listening and end the requests in flight."""
        if self._server is None:
            return
        self._server.close()
        for task in list(self._handlers):
            task.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)
        await self._server.wait_closed()
        self._server = None

    async def __aenter__(self) -> MetricsServer:
        await self.start()
        return self

    async def __aexit__(self, _type: type[BaseException] | None, _error: BaseException | None,
                        _tb: TracebackType | None) -> None:
        await self.stop()

    def refresh(self) -> None:
        """Bring the board up to date, unless that was done less than `min_refresh` ago."""
        now = self.clock()
        if now - self._refreshed_at < self.min_refresh:
            return
        self._refreshed_at = now
        store = self.board.store
        store.refresh()
        version, changed = store.changed_since(self._version or 0)
        self.board.update(None if self._version is None else changed)
        self._version = version

    def page(self) -> str:
        """The metrics page as of now (refreshing the board if due)."""
        self.refresh()
        board = self.board
        return render(board.config, board.states, board.statuses, board.store.latest)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        if len(self._handlers) >= MAX_CONNECTIONS:
            writer.close()
            return
        self._handlers.add(task)
        try:
            await asyncio.wait_for(self._answer(reader, writer), REQUEST_TIMEOUT)
        except (asyncio.TimeoutError, ConnectionError, asyncio.IncompleteReadError):
            pass
        except Exception:
            log.exception("metrics: a request failed")
        finally:
            self._handlers.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer.wait_closed(), 1.0)

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.LimitOverrunError:
            return await self._send(writer, 431, "request too large\n")
        except asyncio.IncompleteReadError as error:
            if not error.partial.strip():
                return  # connected and left: a port check
            return await self._send(writer, 400, "bad request\n")
        match = _REQUEST_LINE.match(head.split(b"\r\n", 1)[0])
        if match is None:
            return await self._send(writer, 400, "bad request\n")
        method, target = match.group(1).decode(), match.group(2).decode("ascii", "replace")
        if target.split("?", 1)[0] != "/metrics":
            return await self._send(writer, 404, "not found: the metrics are at /metrics\n", head=method == "HEAD")
        if method not in ("GET", "HEAD"):
            return await self._send(writer, 405, "only GET and HEAD\n", {"Allow": "GET, HEAD"})
        try:
            body = self.page()
        except Exception:
            log.exception("metrics: rendering failed")
            return await self._send(writer, 500, "the metrics could not be computed\n")
        self.scrapes += 1
        await self._send(writer, 200, body, {"Content-Type": CONTENT_TYPE}, head=method == "HEAD")

    async def _send(self, writer: asyncio.StreamWriter, status: int, body: str,
                    headers: Mapping[str, str] | None = None, *, head: bool = False) -> None:
        data = body.encode("utf-8", "replace")
        fields = {"Content-Type": "text/plain; charset=utf-8", **(headers or {}),
                  "Content-Length": str(len(data)), "Connection": "close"}
        lines: Iterable[str] = (f"HTTP/1.1 {status} {_REASONS[status]}", *(f"{k}: {v}" for k, v in fields.items()))
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (b"" if head else data))
        await writer.drain()
