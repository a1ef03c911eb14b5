"""Benchmark: 500 HTTP sources in one collector cycle vs a bare asyncio.gather.

    python bench/sources.py [--sources 500] [--rounds 5]

A local HTTP server (in a child process, so it does not share this process's GIL) serves
a small JSON document at 500 paths on 127.0.0.1. Each round times:

- bare: `asyncio.gather` of the 500 GETs (body parsed as JSON) on one `httpx.AsyncClient`
  with the collector's connection limits;
- collector: `Collector.run_once()` over a config of 500 http sources (one series each)
  into a throwaway store: build, poll, parse, write samples and statuses.

Then, in the same run, the UI while it happens: a headless `KputuiApp` (120x40) over the
same 500 sources (one series each, 2 s interval) and 60 KPIs over them, with a real
`Collector` as its worker writing to a throwaway store. A probe task sleeps 5 ms in a loop
and records how late each wake-up is (the time the event loop was busy elsewhere), and
every frame the app paints is counted while a 60 Hz timer asks for one pane to be
repainted (as an animation would), so the frame rate is what the UI could show. Both are
measured first with the collector held back (the idle baseline), then while it runs three
cycles (the first, with connections opening, and two full ones). The calls into the store
and the UI's refresh and paint are timed, and the worst stalls are put down to whichever
of them was running (goal: no stall over 50 ms).

It prints the median of each, their ratio (goal: at most 1.3) and the pool timeouts seen
(goal: 0), the loop lag and frame rates (goal: max lag at most 50 ms), and exits 1 when a
goal is missed. `--profile` adds the top of a cProfile of the loop while collecting.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import multiprocessing
import pstats
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

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

    # httpx's own default pool size, every connection kept alive: a plain client.
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
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


# -- the UI while collecting -----------------------------------------------------------

UI_SIZE = (120, 40)
UI_KPIS = 60
UI_INTERVAL = "2s"
UI_REFRESH = 1.0
"""The app's refresh timer, in seconds (the sample config's)."""
UI_CYCLES = 3
"""Polls of every source to wait for: the first (connections opening) and two full cycles."""
IDLE_SECONDS = 3.0
PROBE_SLEEP = 0.005
ANIMATION_FPS = 60
LAG_GOAL_MS = 50.0
UI_FORMULAS = ["sum(orders_{a}) / sum(orders_{b})", "sum(orders_{a}) + sum(orders_{b})", "avg(orders_{a})",
               "last(orders_{a})"]
UI_PERIODS = ["day", "week", "month", "rolling:1h"]


def ui_config_text(urls: list[str]) -> str:
    """500 http sources with one series each, polled every UI_INTERVAL, and UI_KPIS KPIs."""
    lines = ["version: 1", "settings: {timezone: UTC}", "sources:"]
    for index, url in enumerate(urls):
        lines += [f"  s{index}:", "    type: http", f"    url: {url}", f"    interval: {UI_INTERVAL}",
                  "    series:", f"      orders_{index}: {{path: data.orders, kind: event}}"]
    lines.append("kpis:")
    for k in range(UI_KPIS):
        a, b = (7 * k) % len(urls), (7 * k + 3) % len(urls)
        lines += [f"  - id: k{k}", f"    name: KPI number {k}",
                  f"    formula: '{UI_FORMULAS[k % len(UI_FORMULAS)].format(a=a, b=b)}'",
                  f"    period: '{UI_PERIODS[k % len(UI_PERIODS)]}'", "    target: {value: 40, mode: stay_above}"]
    lines += ["dashboards:", "  - name: All", "    kpis: [" + ", ".join(f"k{k}" for k in range(UI_KPIS)) + "]"]
    return "\n".join(lines) + "\n"


class Spans:
    """Start and end of every call to the wrapped methods, by name."""

    def __init__(self) -> None:
        self.calls: dict[str, list[tuple[float, float]]] = defaultdict(list)

    def wrap(self, owner: object, method: str, name: str) -> None:
        """Replace `owner.method` (on the instance) by a timed call recorded as `name`."""
        inner = getattr(owner, method)
        calls = self.calls[name]

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                calls.append((started, time.perf_counter()))

        setattr(owner, method, timed)

    def overlap(self, name: str, start: float, end: float) -> float:
        """Seconds of [start, end] spent inside calls recorded as `name`."""
        return sum(max(0.0, min(end, e) - max(start, s)) for s, e in self.calls[name] if s < end and e > start)

    def within(self, name: str, start: float, end: float) -> list[float]:
        """Durations of the calls recorded as `name` that started in [start, end)."""
        return [e - s for s, e in self.calls[name] if start <= s < end]


class UiProbe:
    """The event loop's lag and the frames the app paints, over a window of time."""

    def __init__(self) -> None:
        self.wakes: list[tuple[float, float]] = []
        """(lag in seconds, time of the wake-up) for every wake-up of the probe."""
        self.frames: list[float] = []
        """When each frame was handed to the terminal."""
        self._task: asyncio.Task[None] | None = None

    async def _sleep_loop(self) -> None:
        while True:
            started = time.perf_counter()
            await asyncio.sleep(PROBE_SLEEP)
            woke = time.perf_counter()
            self.wakes.append((woke - started - PROBE_SLEEP, woke))

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._sleep_loop(), name="bench:loop-lag-probe")

    async def stop(self) -> None:
        assert self._task is not None
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)

    def count_frames(self, app: Any) -> None:
        """Count the frames the app writes.

        Every paint of the screen ends in `App._display(screen, update)` with the
        compositor's update (the changed lines, already rendered); with a real terminal
        that is where they are written out, once per frame. Headless, `_display` skips
        only the write, so a call with an update is one frame.
        """
        display = app._display
        frames = self.frames

        def counted(screen: Any, renderable: Any) -> None:
            if renderable is not None and not app._batch_count:
                frames.append(time.perf_counter())
            display(screen, renderable)

        app._display = counted


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


def window_figures(probe: UiProbe, start: float, end: float) -> dict[str, float]:
    """Max and p99 loop lag (ms), frames per second and the longest gap between frames (ms)."""
    lags = [lag for lag, at in probe.wakes if start <= at < end]
    frames = [at for at in probe.frames if start <= at < end]
    gaps = [b - a for a, b in zip(frames, frames[1:])]
    return {
        "seconds": end - start, "wakes": len(lags),
        "max": max(lags, default=0.0) * 1000, "p99": _percentile(lags, 0.99) * 1000,
        "median": _percentile(lags, 0.5) * 1000,
        "over": sum(1 for lag in lags if lag * 1000 > LAG_GOAL_MS),
        "fps": len(frames) / (end - start), "gap": max(gaps, default=0.0) * 1000,
    }


SPAN_NAMES = [
    ("collector.build", "Collector: building a source (500 at the start)"),
    ("collector.settle", "Collector: settling a poll (queue samples and status)"),
    ("collector.flush", "Collector.flush (all samples and statuses delivered since the last)"),
    ("store.append", "  Store.append (one journal line + fdatasync per batch)"),
    ("store.set_status", "  Store.set_status (one journal line + fdatasync per status)"),
    ("store.checkpoint", "  Store.checkpoint"),
    ("store.drain_inbox", "Store.drain_inbox"),
    ("app.refresh_data", "KputuiApp.refresh_data (timer: store -> board -> panes)"),
    ("board.update", "  Board.update (evaluate the KPIs whose series changed)"),
    ("dashboard.show_states", "  DashboardScreen.show_states (new states into the panes)"),
    ("dashboard.show_health", "  DashboardScreen.show_health (status bar)"),
    ("screen.paint", "Screen._compositor_refresh (render and display a frame)"),
]


async def ui_while_collecting(
    urls: list[str], folder: Path, profile: cProfile.Profile | None = None,
) -> tuple[dict[str, float], dict[str, float], str]:
    """The loop lag and frame rate of a headless app, idle and then while collecting
    (under `profile` while collecting, if given)."""
    from kputui.collector import Collector
    from kputui.config import load_config_text
    from kputui.store import Store, freeze_long_lived
    from kputui.ui.app import KputuiApp
    from kputui.ui.widgets.kpi_pane import KpiPane

    class HeldCollector(Collector):
        """A collector that starts polling when `go` is set, and counts the polls settled."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.go = asyncio.Event()
            self.polls = 0

        async def run(self) -> None:
            await self.go.wait()
            await super().run()

        def _settle(self, source: Any, outcome: Any, *, schedule: bool) -> float:
            self.polls += 1
            return super()._settle(source, outcome, schedule=schedule)

    config = load_config_text(ui_config_text(urls), env={})
    store = Store.open(folder, writer=True, timezone="UTC")
    # As `kputui` runs it: what is loaded at start, and again once every source has
    # been polled, is frozen out of the cyclic GC's sight.
    collector = HeldCollector(config, store, on_settled=freeze_long_lived)
    freeze_long_lived()
    spans, probe = Spans(), UiProbe()
    spans.wrap(collector, "flush", "collector.flush")
    spans.wrap(collector, "_build_one", "collector.build")
    spans.wrap(collector, "_settle", "collector.settle")
    for method in ("append", "set_status", "checkpoint", "drain_inbox"):
        spans.wrap(store, method, f"store.{method}")
    app = KputuiApp(config, store, collector=collector, refresh_interval=UI_REFRESH)
    spans.wrap(app, "refresh_data", "app.refresh_data")
    probe.count_frames(app)
    wanted = UI_CYCLES * len(urls)
    try:
        async with app.run_test(size=UI_SIZE) as pilot:
            await pilot.pause()
            spans.wrap(app.screen, "_compositor_refresh", "screen.paint")
            spans.wrap(app.board, "update", "board.update")
            spans.wrap(app.dashboard, "show_states", "dashboard.show_states")
            spans.wrap(app.dashboard, "show_health", "dashboard.show_health")
            pane = app.screen.query(KpiPane).first()
            app.set_interval(1 / ANIMATION_FPS, pane.refresh, name="bench:animation")
            probe.start()
            idle_start = time.perf_counter()
            await asyncio.sleep(IDLE_SECONDS)
            idle_end = time.perf_counter()
            collector.go.set()
            if profile is not None:
                profile.enable()
            deadline = idle_end + 120
            while collector.polls < wanted and time.perf_counter() < deadline:
                await asyncio.sleep(0.05)
            busy_end = time.perf_counter()
            if profile is not None:
                profile.disable()
            await probe.stop()
            polls = collector.polls
        statuses = store.statuses().values()
        failed = sum(1 for s in statuses if s.consecutive_failures)
    finally:
        store.close()
    idle = window_figures(probe, idle_start, idle_end)
    busy = window_figures(probe, idle_end, busy_end)
    busy["polls"], busy["failed"] = polls, failed
    return idle, busy, blame(probe, spans, idle_end, busy_end)


def blame(probe: UiProbe, spans: Spans, start: float, end: float) -> str:
    """Where the stalls over the goal (or the ten worst) went: time inside each timed call."""
    stalls = sorted(((lag, at) for lag, at in probe.wakes if start <= at < end), reverse=True)
    over = [s for s in stalls if s[0] * 1000 > LAG_GOAL_MS] or stalls[:10]
    total = sum(lag for lag, _ in over)
    label = f"{len(over)} stalls over {LAG_GOAL_MS:g} ms" if over and over[0][0] * 1000 > LAG_GOAL_MS \
        else f"the {len(over)} worst stalls"
    lines = [f"  where {label} went ({total * 1000:.0f} ms in all; a stall is the time the loop ran "
             "something else while the probe was due):"]
    for name, text in SPAN_NAMES:
        inside = sum(spans.overlap(name, at - lag, at) for lag, at in over)
        durations = spans.within(name, start, end)
        lines.append(f"    {text:<74} {inside * 1000:7.0f} ms {inside / total if total else 0:4.0%}   "
                     f"[{len(durations)} calls, max {max(durations, default=0) * 1000:.1f} ms, "
                     f"sum {sum(durations) * 1000:.0f} ms]")
    top = {name for name, text in SPAN_NAMES if not text.startswith(" ")}
    covered = sum(spans.overlap(name, at - lag, at) for lag, at in over for name in top)
    lines.append(f"    {'other (polls: HTTP, JSON, JMESPath; task switching; Textual)':<74} "
                 f"{(total - covered) * 1000:7.0f} ms {(total - covered) / total if total else 0:4.0%}")
    lines.append("  worst stalls (ms after the collector started; the timed call that took most of each):")
    for lag, at in stalls[:8]:
        inside = {name: spans.overlap(name, at - lag, at) for name in top}
        name = max(inside, key=inside.__getitem__)
        main = f"{name} {inside[name] * 1000:.0f} ms" if inside[name] > lag / 10 else "other"
        lines.append(f"    {lag * 1000:6.1f} ms at +{at - start:5.2f}s: {main}")
    return "\n".join(lines)


async def main(count: int, rounds: int, port: int, profile: bool = False) -> int:
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
        profiler = cProfile.Profile() if profile else None
        idle, busy, where = await ui_while_collecting(urls, Path(temp) / "store-ui", profiler)
    b, c = statistics.median(bare_times), statistics.median(cycle_times)
    ratio = c / b
    print(f"{count} HTTP sources on 127.0.0.1, median of {rounds} rounds")
    print(f"  bare asyncio.gather on one httpx.AsyncClient: {b * 1000:7.1f} ms  (pool timeouts: {bare_pool})")
    print(f"  collector run_once (poll, parse, store):      {c * 1000:7.1f} ms")
    print(f"  ratio: {ratio:.2f} (goal <= 1.3)   collector pool timeouts: {pool_timeouts} (goal 0)   "
          f"failed sources: {failures}")
    print(f"the UI while collecting: headless KputuiApp {UI_SIZE[0]}x{UI_SIZE[1]}, {UI_KPIS} KPIs over the "
          f"{count} sources (interval {UI_INTERVAL}), refresh {UI_REFRESH:g}s, "
          f"a pane repainted at {ANIMATION_FPS} Hz")
    for name, fig in (("idle (collector held back)", idle),
                      (f"collecting ({busy['polls']} polls, {UI_CYCLES} cycles)", busy)):
        print(f"  {name:<38} {fig['seconds']:5.1f} s   loop lag max {fig['max']:6.1f} ms  p99 {fig['p99']:5.1f} ms  "
              f"median {fig['median']:4.1f} ms  over {LAG_GOAL_MS:g} ms: {fig['over']}/{fig['wakes']}   "
              f"frames/s {fig['fps']:5.1f}  longest gap {fig['gap']:6.1f} ms")
    print(f"  goal: max loop lag while collecting <= {LAG_GOAL_MS:g} ms: "
          f"{'met' if busy['max'] <= LAG_GOAL_MS else 'MISSED'}   failed sources: {busy['failed']}")
    print(where)
    if profiler is not None:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(25)
        print("  cProfile while collecting (its overhead inflates the lag above), by own time:")
        print("\n".join("    " + line for line in out.getvalue().strip().splitlines()[3:]))
    ui_ok = busy["max"] <= LAG_GOAL_MS and busy["polls"] >= UI_CYCLES * count and busy["failed"] == 0
    return 0 if ratio <= 1.3 and pool_timeouts == 0 and failures == 0 and ui_ok else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sources", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="profile the event loop while collecting")
    args = parser.parse_args()
    receive, send = multiprocessing.Pipe(duplex=False)
    server = multiprocessing.Process(target=serve, args=(send,), daemon=True)
    server.start()
    try:
        if not receive.poll(10):
            sys.exit("the bench server did not start")
        code = asyncio.run(main(args.sources, args.rounds, receive.recv(), args.profile))
    finally:
        server.terminate()
        server.join(5)
    sys.exit(code)
