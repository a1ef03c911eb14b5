"""Render benchmark: 200 KPIs on one dashboard, against a bare Textual app, in one run.

1. Full refresh: every one of 200 KPIs gets a new state on a 200x60 headless screen,
   until the screen is painted; compared with a bare app of 200 `Static` panes in the
   same grid updated with the same text (goal: at most 2x).
2. Idle refresh: a refresh where nothing changed must rebuild no sparkline.
3. Steady CPU: `kputui` with 200 demo KPIs at a 1 s refresh, running in tmux for
   --seconds, next to `glances -t 1` in the same run (goal: less CPU than glances).

    python bench/render.py [--rounds 5] [--seconds 60] [--no-cpu]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from textual.app import App
from textual.containers import VerticalScroll
from textual.widgets import Static

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kputui.collector import Collector  # noqa: E402
from kputui.config import load_config  # noqa: E402
from kputui.store import Store  # noqa: E402
from kputui.ui.app import KputuiApp  # noqa: E402
from kputui.ui.widgets.kpi_pane import KpiPane  # noqa: E402
from kputui.ui.widgets.sparkline import SparklineCache  # noqa: E402

KPIS = 200
SIZE = (200, 60)
NOW = 1_796_308_200.0  # 2026-12-03 15:30 Berlin
FORMULAS = [
    ("sum(s{a}) / sum(s{b})", "percent"), ("sum(s{a})", "integer"), ("avg(g{a})", "number"),
    ("(sum(s{a}) - sum(s{b})) / sum(s{b})", "percent"), ("last(g{a}) / sum(s{b})", "number"),
]
PERIODS = ["day", "week", "month", "rolling:24h", "rolling:7d"]


def config_text(kpis: int = KPIS, interval: str = "1s") -> str:
    """A demo config with 20 event and 10 gauge series and `kpis` KPIs on one dashboard."""
    lines = ["version: 1", "settings: {timezone: Europe/Berlin, refresh: 1s}", "sources:", "  demo:",
             "    type: demo", f"    interval: {interval}", "    backfill: 40d", "    series:"]
    lines += [f"      s{i}: {{kind: event, base: {50 + 10 * i}, weekly: 0.2, daily: 0.5}}" for i in range(20)]
    lines += [f"      g{i}: {{kind: gauge, base: {1000 + 100 * i}, noise: 0.05}}" for i in range(10)]
    lines.append("kpis:")
    for k in range(kpis):
        formula, style = FORMULAS[k % len(FORMULAS)]
        a, b = k % 10, (k + 3) % 20
        lines += [f"  - id: k{k}", f"    name: KPI number {k}", f"    formula: '{formula.format(a=a, b=b)}'",
                  f"    period: '{PERIODS[k % len(PERIODS)]}'", f"    format: {{style: {style}, decimals: 2}}",
                  "    target: {value: 1, mode: stay_above}"]
    lines += ["dashboards:", "  - name: All", "    kpis: [" + ", ".join(f"k{k}" for k in range(kpis)) + "]"]
    return "\n".join(lines) + "\n"


class BareApp(App[None]):
    """200 Static panes laid out like kputui's grid."""

    CSS = """
    VerticalScroll { layout: grid; grid-size: 5; grid-rows: 9; grid-gutter: 0 1; padding: 0 1; }
    Static { border: round $panel-lighten-2; padding: 0 1; height: 9; }
    """

    def compose(self):
        with VerticalScroll():
            for k in range(KPIS):
                yield Static(f"KPI number {k}", markup=False)


async def full_refresh_kputui(app: KputuiApp, pilot, step: float) -> tuple[float, float]:
    """Seconds to give every KPI a new state and paint: in all, and for the UI part alone."""
    app.clock = lambda: NOW + step
    app.board.clock = app.clock
    start = time.perf_counter()
    updated = app.board.update(None)
    evaluated = time.perf_counter()
    app.dashboard.show_states(app.board.states, updated)
    await pilot.pause()  # returns once the new frame is painted
    end = time.perf_counter()
    return end - start, end - evaluated


async def measure_kputui(folder: Path, rounds: int) -> tuple[list[tuple[float, float]], int, list[str]]:
    config = load_config(folder / "kpis.yaml")
    store = Store.open(folder / "store", writer=False, timezone=config.settings.timezone)
    app = KputuiApp(config, store, clock=lambda: NOW, refresh_interval=3600)
    times: list[tuple[float, float]] = []
    texts: list[str] = []
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        for r in range(rounds):
            times.append(await full_refresh_kputui(app, pilot, 3600.0 * (r + 1)))
        texts = [str(pane.render()) for pane in app.query(KpiPane)]
        builds = SparklineCache.builds
        app.refresh_data()  # nothing changed since the last refresh
        await pilot.pause()
        idle_builds = SparklineCache.builds - builds
    store.close()
    return times, idle_builds, texts


async def measure_bare(texts: list[str], rounds: int) -> list[float]:
    app = BareApp()
    times: list[float] = []
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        statics = list(app.query(Static))
        for r in range(rounds):
            start = time.perf_counter()
            for static, text in zip(statics, texts):
                static.update(f"{text}\n{r}")
            await pilot.pause()
            times.append(time.perf_counter() - start)
    return times


def cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds of `pid` and its children so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(v) for v in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def pane_pid(session: str) -> int:
    return int(subprocess.check_output(["tmux", "display", "-p", "-t", session, "#{pane_pid}"], text=True))


def measure_cpu(folder: Path, seconds: float) -> tuple[float, float | None]:
    """Share of one core used by kputui and by glances over `seconds`, side by side."""
    env = {**os.environ, "TERM": "xterm-256color"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    sessions = {"kputui": f"exec {sys.executable} -m kputui {folder / 'kpis.yaml'} --store {folder / 'live'}"}
    if shutil.which("glances"):
        sessions["glances"] = "exec glances -t 1"
    for name, command in sessions.items():
        subprocess.run(["tmux", "new", "-d", "-s", f"bench-{name}", "-x", "200", "-y", "60", command],
                       check=True, env=env)
    try:
        time.sleep(10)  # both settled: kputui backfilled, glances past its first scan
        pids = {name: pane_pid(f"bench-{name}") for name in sessions}
        before = {name: cpu_seconds(pid) for name, pid in pids.items()}
        time.sleep(seconds)
        used = {name: (cpu_seconds(pid) - before[name]) / seconds for name, pid in pids.items()}
    finally:
        for name in sessions:
            subprocess.run(["tmux", "kill-session", "-t", f"bench-{name}"], check=False)
    return used["kputui"], used.get("glances")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--no-cpu", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        (folder / "kpis.yaml").write_text(config_text())
        config = load_config(folder / "kpis.yaml")
        store = Store.open(folder / "store", writer=True, timezone=config.settings.timezone)
        asyncio.run(Collector(config, store, clock=lambda: NOW).run_once())
        store.close()
        kputui_times, idle_builds, texts = asyncio.run(measure_kputui(folder, args.rounds))
        bare_times = asyncio.run(measure_bare(texts, args.rounds))
        total = statistics.median(t for t, _ in kputui_times)
        ui = statistics.median(u for _, u in kputui_times)
        bare_median = statistics.median(bare_times)
        print(f"{KPIS} KPIs on one dashboard, {SIZE[0]}x{SIZE[1]} headless, median of {args.rounds} rounds")
        print(f"kputui full refresh, every KPI changed: {total * 1000:8.1f} ms  (evaluating 200 KPIs and painting)")
        print(f"  of which new states to painted frame: {ui * 1000:8.1f} ms")
        print(f"bare app, 200 Static panes updated    : {bare_median * 1000:8.1f} ms")
        print(f"ratio kputui UI / bare: {ui / bare_median:.2f}  (goal <= 2); with evaluation: {total / bare_median:.2f}")
        print(f"sparklines rebuilt by a refresh where nothing changed: {idle_builds}  (goal 0)")
        if not args.no_cpu:
            kputui_cpu, glances_cpu = measure_cpu(folder, args.seconds)
            print(f"steady CPU over {args.seconds:.0f} s, share of one core: kputui {kputui_cpu:.1%}", end="")
            print(f", glances -t 1 {glances_cpu:.1%}" if glances_cpu is not None else ", glances not installed")


if __name__ == "__main__":
    main()
