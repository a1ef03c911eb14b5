"""Benchmark: 500 HTTP sources in one collector cycle vs a bare asyncio.gather.

    python bench/sources.py [--sources 500] [--rounds 5]

A local HTTP server (in a child process, so it does not share this process's GIL) serves
a small JSON document at 500 paths on 127.0.0.1. Each round times:

- bare: `asyncio.gather` of the 500 GETs (body parsed as JSON) on one `httpx.AsyncClient`
  with the collector's connection limits;
- collector: `Collector.run_once()` over a config of 500 http sources (one series each)
  into a throwaway store: build, poll, parse, write samples and statuses.

It prints the median of each, their ratio (goal: at most 1.3) and the pool timeouts seen
(goal: 0), and exits 1 when a goal is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BODY = b'{"data": {"orders": 42, "visitors": 1000}}'


def serve(port_pipe: multiprocessing.connection.Connection) -> None:
    """A keep-alive HTTP/1.1 server answering BODY to any GET, until killed."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        response = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                    + str(len(BODY)).encode() + b"\r\n\r\n" + BODY)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                if not head:
                    return
                writer.write(response)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=4096)
        port_pipe.send(server.sockets[0].getsockname()[1])
        await server.serve_forever()

    asyncio.run(main())


async def bare(urls: list[str]) -> tuple[float, int]:
    import httpx

    from kputui.collector import MAX_CONNECTIONS

    limits = httpx.Limits(max_connections=MAX_CONNECTIONS, max_keepalive_connections=MAX_CONNECTIONS)
    started = time.perf_counter()
    async with httpx.AsyncClient(limits=limits) as client:

        async def get(url: str) -> object:
            response = await client.get(url)
            return response.json()

        results = await asyncio.gather(*(get(url) for url in urls), return_exceptions=True)
    elapsed = time.perf_counter() - started
    return elapsed, sum(isinstance(r, httpx.PoolTimeout) for r in results)


async def collector_cycle(urls: list[str], folder: Path) -> tuple[float, int, int]:
    from kputui.collector import Collector
    from kputui.config import load_config_text
    from kputui.store import Store

    lines = ["version: 1", "settings: {timezone: UTC}", "sources:"]
    for index, url in enumerate(urls):
        lines += [f"  s{index}:", "    type: http", f"    url: {url}", "    series:",
                  f"      orders_{index}: {{path: data.orders, kind: event}}"]
    config = load_config_text("\n".join(lines) + "\n", env={})
    store = Store.open(folder, writer=True, timezone="UTC")
    try:
        started = time.perf_counter()
        await Collector(config, store).run_once()
        elapsed = time.perf_counter() - started
        statuses = store.statuses().values()
        failed = sum(1 for s in statuses if s.consecutive_failures)
        pool = sum(1 for s in statuses if s.last_error and "timed out" in s.last_error)
    finally:
        store.close()
    return elapsed, pool, failed


async def main(count: int, rounds: int, port: int) -> int:
    urls = [f"http://127.0.0.1:{port}/stats/{i}" for i in range(count)]
    bare_times, cycle_times, bare_pool, pool_timeouts, failures = [], [], 0, 0, 0
    with tempfile.TemporaryDirectory(prefix="kputui-bench-") as temp:
        await bare(urls)  # warm up: imports, first connections
        for round_ in range(rounds):
            elapsed, pool = await bare(urls)
            bare_times.append(elapsed)
            bare_pool += pool
            elapsed, pool, failed = await collector_cycle(urls, Path(temp) / f"store{round_}")
            cycle_times.append(elapsed)
            pool_timeouts += pool
            failures += failed
    b, c = statistics.median(bare_times), statistics.median(cycle_times)
    ratio = c / b
    print(f"{count} HTTP sources on 127.0.0.1, median of {rounds} rounds")
    print(f"  bare asyncio.gather on one httpx.AsyncClient: {b * 1000:7.1f} ms  (pool timeouts: {bare_pool})")
    print(f"  collector run_once (poll, parse, store):      {c * 1000:7.1f} ms")
    print(f"  ratio: {ratio:.2f} (goal <= 1.3)   collector pool timeouts: {pool_timeouts} (goal 0)   "
          f"failed sources: {failures}")
    return 0 if ratio <= 1.3 and pool_timeouts == 0 and failures == 0 else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sources", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    receive, send = multiprocessing.Pipe(duplex=False)
    server = multiprocessing.Process(target=serve, args=(send,), daemon=True)
    server.start()
    try:
        if not receive.poll(10):
            sys.exit("the bench server did not start")
        code = asyncio.run(main(args.sources, args.rounds, receive.recv()))
    finally:
        server.terminate()
        server.join(5)
    sys.exit(code)
