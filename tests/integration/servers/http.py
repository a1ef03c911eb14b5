"""A small HTTP/1.1 server on loopback for source tests and the benchmark.

It runs an asyncio loop in a thread of its own, so it serves while the test's loop is
busy. Routes map a path to a `Route` (or a function of the request giving one) that
says what to answer and how badly: slowly, byte by byte, huge, or never.

    with HttpServer() as server:
        server.routes["/stats"] = Route.json({"orders": 3})
        url = server.url("/stats")
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

import orjson

__all__ = ["HttpServer", "Request", "Route"]


@dataclass
class Request:
    """What the server received."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes


@dataclass
class Route:
    """An answer: status, headers and body, and how it is delivered."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    """Seconds to wait before answering."""
    trickle: float | None = None
    """Send the body one byte at a time, this many seconds apart."""
    size: int | None = None
    """Send this many bytes of filler (chunked, no Content-Length) instead of `body`."""
    hang: bool = False
    """Never answer (until the server stops)."""

    @classmethod
    def json(cls, document: object, status: int = 200, **kwargs: object) -> Route:
        body = document if isinstance(document, bytes) else orjson.dumps(document)
        return cls(status, body, {"Content-Type": "application/json"}, **kwargs)  # type: ignore[arg-type]


Handler = Route | Callable[[Request], Route]
_REASONS = {200: "OK", 301: "Moved Permanently", 302: "Found", 400: "Bad Request", 404: "Not Found",
            429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable"}


class HttpServer:
    """See the module docstring; `requests` records every request received."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = 0
        self.routes: dict[str, Handler] = {}
        self.requests: list[Request] = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="test-http-server", daemon=True)
        self._server: asyncio.Server | None = None
        self._stopping: asyncio.Event | None = None

    def url(self, path: str = "/") -> str:
        return f"http://{self.host}:{self.port}{path}"

    def __enter__(self) -> HttpServer:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    def __exit__(self, *_exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self._close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    async def _start(self) -> None:
        self._stopping = asyncio.Event()
        self._server = await asyncio.start_server(self._serve, self.host, 0, backlog=2048)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _close(self) -> None:
        assert self._server is not None and self._stopping is not None
        self._stopping.set()
        self._server.close()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _read_request(self, reader: asyncio.StreamReader) -> Request | None:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                key, value = line.split(":", 1)
                headers[key.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0") or 0)
        body = await reader.readexactly(length) if length else b""
        parts = urlsplit(target)
        return Request(method, parts.path, dict(parse_qsl(parts.query)), headers, body)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    request = await self._read_request(reader)
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                if request is None:
                    return
                self.requests.append(request)
                handler = self.routes.get(request.path)
                route = Route(404, b"not found") if handler is None else (
                    handler(request) if callable(handler) else handler)
                await self._answer(route, writer)
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def _answer(self, route: Route, writer: asyncio.StreamWriter) -> None:
        assert self._stopping is not None
        if route.hang:
            await self._stopping.wait()
            return
        if route.delay:
            await asyncio.sleep(route.delay)
        headers = dict(route.headers)
        if route.size is None:
            headers.setdefault("Content-Length", str(len(route.body)))
        else:
            headers["Transfer-Encoding"] = "chunked"
        head = f"HTTP/1.1 {route.status} {_REASONS.get(route.status, 'Status')}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        writer.write(head.encode("latin-1"))
        if route.size is not None:
            chunk = b"x" * 65536
            sent = 0
            while sent < route.size:
                piece = chunk[: route.size - sent]
                writer.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                sent += len(piece)
                await writer.drain()
            writer.write(b"0\r\n\r\n")
        elif route.trickle is not None:
            for byte in route.body:
                writer.write(bytes([byte]))
                await writer.drain()
                await asyncio.sleep(route.trickle)
        else:
            writer.write(route.body)
        await writer.drain()
