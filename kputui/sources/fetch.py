"""One HTTP exchange the way every HTTP-speaking source needs it.

`Fetcher` sends a request through the collector's shared client (or a client of its
own when the source's TLS settings differ from the defaults), follows redirects up to a
limit, reads the body as a stream and stops at a size cap, and turns every transport
failure into a short `SourceError` whose URL carries no secret.
"""

from __future__ import annotations

import json
import ssl
import time
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from kputui.errors import SourceError
from kputui.sources.base import RetryLater
from kputui.sources.values import redact_url, size_text

if TYPE_CHECKING:
    import httpx

__all__ = ["Fetcher", "Reply", "parse_json", "retry_after"]

MAX_RETRY_AFTER = 3600.0
"""A Retry-After longer than this is cut to it."""
_DNS_HINTS = ("name or service not known", "nodename nor servname", "temporary failure in name resolution",
              "no address associated", "name does not resolve", "getaddrinfo failed")


class Reply:
    """A response that arrived whole: its status, headers, body and final URL."""

    __slots__ = ("body", "headers", "status", "url")

    def __init__(self, status: int, headers: httpx.Headers, body: bytes, url: str) -> None:
        self.status = status
        self.headers = headers
        self.body = body
        self.url = url
        """The final URL (after redirects), redacted."""

    def fail(self) -> SourceError:
        """The error for a response whose status is not a success."""
        message = f"HTTP {self.status} from {self.url}"
        if self.status in (429, 503):
            delay = retry_after(self.headers.get("retry-after"))
            if delay is not None:
                return RetryLater(f"{message} (retry after {delay:g}s)", delay)
        return SourceError(message)


def retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds a Retry-After header asks for (delta seconds or an HTTP date), capped."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            moment = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        seconds = moment.timestamp() - (time.time() if now is None else now)
    if seconds != seconds:
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def parse_json(body: bytes, url: str) -> Any:
    """The JSON document in `body`; NaN and Infinity literals are read (and refused later)."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        pass
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as error:
        where = f" at line {error.lineno} column {error.colno}" if isinstance(error, json.JSONDecodeError) else ""
        raise SourceError(f"invalid JSON from {url}{where}") from None


def _verify(verify: bool | str | Path) -> bool | ssl.SSLContext:
    if isinstance(verify, bool):
        return verify
    try:
        return ssl.create_default_context(cafile=str(verify))
    except (OSError, ssl.SSLError) as error:
        raise SourceError(f"cannot use the CA file {verify}: {getattr(error, 'strerror', None) or error}") from None


class Fetcher:
    """Sends requests for one source; see the module docstring."""

    def __init__(
        self,
        client: httpx.AsyncClient | None,
        *,
        verify: bool | str | Path = True,
        timeout: float = 10.0,
        max_bytes: int = 10_000_000,
        follow_redirects: bool = True,
        max_redirects: int = 5,
    ) -> None:
        import httpx

        self._shared = client if verify is True else None
        self._own: httpx.AsyncClient | None = None
        self._verify = verify
        self.timeout = httpx.Timeout(timeout, pool=None)
        self.max_bytes = max_bytes
        self.follow_redirects = follow_redirects
        self.max_redirects = max_redirects

    def _client(self) -> httpx.AsyncClient:
        import httpx

        if self._shared is not None:
            return self._shared
        if self._own is None:
            self._own = httpx.AsyncClient(verify=_verify(self._verify), timeout=self.timeout)
        return self._own

    async def aclose(self) -> None:
        """Close the client this fetcher opened itself, if any."""
        if self._own is not None:
            await self._own.aclose()
            self._own = None

    async def request(
        self,
        method: str,
        url: str,
        *,
        params: Any = None,
        headers: Any = None,
        json_body: Any = None,
    ) -> Reply:
        """Send one request and read its whole (capped) body; raise `SourceError` on failure."""
        import httpx

        client = self._client()
        try:
            request = client.build_request(method, url, params=params, headers=headers, json=json_body,
                                           timeout=self.timeout)
        except (httpx.InvalidURL, httpx.UnsupportedProtocol, ValueError, TypeError) as error:
            raise SourceError(f"cannot build the request for {redact_url(url)}: {type(error).__name__}") from None
        hops = 0
        while True:
            shown = redact_url(str(request.url))
            try:
                response = await client.send(request, stream=True, follow_redirects=False)
            except httpx.HTTPError as error:
                raise SourceError(_transport_text(error, request.url, shown)) from None
            try:
                if response.next_request is not None and self.follow_redirects:
                    hops += 1
                    if hops > self.max_redirects:
                        raise SourceError(f"more than {self.max_redirects} redirects from {redact_url(url)}")
                    request = response.next_request
                    continue
                body = await self._read(response, shown)
                return Reply(response.status_code, response.headers, body, shown)
            finally:
                await response.aclose()

    async def _read(self, response: httpx.Response, shown: str) -> bytes:
        """The body, refusing one larger than `max_bytes` before reading it all."""
        import httpx

        too_large = f"response larger than {size_text(self.max_bytes)} from {shown}"
        length = response.headers.get("content-length", "")
        if length.isdigit() and int(length) > self.max_bytes:
            raise SourceError(too_large)
        chunks: list[bytes] = []
        size = 0
        try:
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > self.max_bytes:
                    raise SourceError(too_large)
                chunks.append(chunk)
        except httpx.HTTPError as error:
            raise SourceError(_transport_text(error, response.request.url, shown)) from None
        return b"".join(chunks)


def _transport_text(error: httpx.HTTPError, url: httpx.URL, shown: str) -> str:
    """Words for a failure below HTTP: DNS, refused, TLS, timeouts, broken connections."""
    import httpx

    chain: list[BaseException] = []
    cause: BaseException | None = error
    while cause is not None and len(chain) < 10:
        chain.append(cause)
        cause = cause.__cause__ or cause.__context__
    detail = " ".join(str(link).lower() for link in chain)
    if any(isinstance(link, ConnectionRefusedError) for link in chain):
        detail += " refused"
    host = url.host or shown
    if isinstance(error, httpx.TimeoutException):
        return f"timed out waiting for {shown}"
    if isinstance(error, httpx.ConnectError):
        if any(hint in detail for hint in _DNS_HINTS):
            return f"cannot resolve host {host}"
        if "refused" in detail:
            return f"connection refused by {host}:{url.port or (443 if url.scheme == 'https' else 80)}"
        if "certificate" in detail or "ssl" in detail or "tls" in detail:
            reason = "certificate verify failed" if "certificate verify failed" in detail else "TLS handshake failed"
            return f"{reason} for {shown}"
        return f"cannot connect to {shown}"
    if isinstance(error, (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)):
        return f"connection to {host} broke off ({type(error).__name__})"
    if isinstance(error, httpx.DecodingError):
        return f"cannot decode the response from {shown}"
    return f"request to {shown} failed ({type(error).__name__})"
