"""Telling someone about an alert: the terminal bell, a webhook, a command.

`deliver` sends one `AlertEvent` through one `NotifierSpec` and raises `NotifyError` with
a message fit for a log when it cannot: secrets (header values) are blanked out and URLs
redacted. A webhook POSTs `AlertEvent.payload()` (the KPI state, a Slack-compatible
`text` and an `alert` object) and retries transport errors, 429 and 5xx answers with
exponential backoff; a command gets the same JSON on its standard input and must finish
within its timeout. The in-app notification is not here: the app reads the events from
the store (`Store.alert_events`).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qsl, urlsplit
from typing import TYPE_CHECKING

import orjson

from kputui.errors import KputuiError, SourceError
from kputui.sources.values import MIN_SECRET, blank_out

if TYPE_CHECKING:
    import httpx

    from kputui.alerts import AlertEvent, NotifierSpec

__all__ = ["NotifyError", "deliver", "secrets_of_notifier"]

MAX_OUTPUT = 300
"""Characters of a failing command's error output kept in the message."""


class NotifyError(KputuiError):
    """A notification could not be delivered."""


def secrets_of_notifier(spec: NotifierSpec) -> set[str]:
    """Texts of `spec` that must never show in a message: header values and their words,
    and the URL's path, query and password (chat webhooks carry their token in the path)."""
    found = [str(v) for v in (spec.options.get("headers") or {}).values()]
    url = spec.options.get("url")
    if isinstance(url, str):
        parts = urlsplit(url)
        found += [text for text in (parts.path, parts.query, parts.password or "") if len(text) > 1]
        found += [value for _, value in parse_qsl(parts.query)]
    found += [word for text in list(found) for word in text.split() if len(word) >= MIN_SECRET * 2]
    return {text for text in found if len(text) >= MIN_SECRET}


async def deliver(
    spec: NotifierSpec,
    event: AlertEvent,
    *,
    client: httpx.AsyncClient | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> None:
    """Send `event` through `spec`; raise `NotifyError` when it cannot be delivered."""
    secrets = secrets_of_notifier(spec)
    try:
        if spec.type == "bell":
            _bell()
        elif spec.type == "webhook":
            await _webhook(spec, event, client, sleep)
        elif spec.type == "command":
            await _command(spec, event)
        else:
            raise NotifyError(f"unknown notifier type {spec.type!r}")
    except NotifyError as error:
        raise NotifyError(f"{spec.name}: {blank_out(str(error), secrets)}") from None


def _bell() -> None:
    """Ring the controlling terminal's bell, if there is one."""
    try:
        fd = os.open("/dev/tty", os.O_WRONLY | os.O_NOCTTY)
    except OSError:
        return
    try:
        os.write(fd, b"\a")
    finally:
        os.close(fd)


async def _webhook(spec: NotifierSpec, event: AlertEvent, client: httpx.AsyncClient | None,
                   sleep: Callable[[float], Awaitable[None]]) -> None:
    from kputui.sources.fetch import Fetcher

    options = spec.options
    fetcher = Fetcher(client, timeout=float(options.get("timeout", 10.0)), follow_redirects=False,
                      max_bytes=100_000)
    retries = int(options.get("retries", 3))
    backoff = float(options.get("backoff", 1.0))
    body = event.payload()
    headers = dict(options.get("headers") or {})
    error = ""
    try:
        for attempt in range(retries + 1):
            if attempt:
                await sleep(backoff * 2 ** (attempt - 1))
            try:
                reply = await fetcher.request("POST", str(options["url"]), headers=headers, json_body=body)
            except SourceError as failure:
                error = str(failure)
                continue
            if 200 <= reply.status < 300:
                return
            error = f"HTTP {reply.status} from {reply.url}"
            if reply.status != 429 and reply.status < 500:
                break
    finally:
        await fetcher.aclose()
    tries = "once" if attempt == 0 else f"{attempt + 1} times"
    raise NotifyError(f"webhook failed ({tries}): {error}")


async def _command(spec: NotifierSpec, event: AlertEvent) -> None:
    argv = [str(part) for part in spec.options["command"]]
    timeout = float(spec.options.get("timeout", 10.0))
    data = orjson.dumps(event.payload())
    try:
        process = await asyncio.create_subprocess_exec(
            *argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE)
    except OSError as error:
        raise NotifyError(f"cannot run {argv[0]}: {error.strerror or error}") from None
    try:
        async with asyncio.timeout(timeout):
            _, errors = await process.communicate(data)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise NotifyError(f"{argv[0]} did not finish within {timeout:g}s") from None
    if process.returncode != 0:
        tail = errors.decode("utf-8", "replace").strip()[-MAX_OUTPUT:]
        raise NotifyError(f"{argv[0]} exited with {process.returncode}" + (f": {tail}" if tail else ""))
