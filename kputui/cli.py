"""The command line: argument parsing and one function per command.

Exit codes: 0 fine, 1 a user error (bad config, bad argument, store locked), 2 internal
trouble. A user error is printed as a message, never as a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import signal
import sys
import time
from collections.abc import Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

import platformdirs

from kputui.errors import ConfigError, KputuiError, StoreError, StoreLockedError

if TYPE_CHECKING:
    from kputui.config import Config
    from kputui.store import Store

__all__ = ["main"]

COMMANDS = ("check", "collect", "export", "push", "serve", "snapshot")
BUNDLED_CONFIG = Path(__file__).resolve().parent / "sample_config.yaml"
CONFIG_NAME = "kputui.yaml"


class UsageError(KputuiError):
    """A bad argument on the command line."""


def find_config(given: str | None) -> Path:
    """The config to use: the given one, ./kputui.yaml, the user's, or the bundled demo."""
    if given:
        return Path(given)
    for candidate in (Path.cwd() / CONFIG_NAME, Path(platformdirs.user_config_dir("kputui")) / CONFIG_NAME):
        if candidate.is_file():
            return candidate
    return BUNDLED_CONFIG


def store_path(config: Config, given: str | None) -> Path:
    """Where the config's history lives: --store, settings.store, or one folder per config."""
    if given:
        return Path(given).expanduser()
    if config.settings.store is not None:
        return config.settings.store
    origin = str(config.path.resolve()) if config.path else "<config>"
    digest = hashlib.sha256(origin.encode()).hexdigest()[:10]
    stem = config.path.stem if config.path else "config"
    return Path(platformdirs.user_data_dir("kputui")) / "stores" / f"{stem}-{digest}"


def load(args: argparse.Namespace) -> Config:
    from kputui.config import load_config

    return load_config(find_config(args.config))


def open_store(config: Config, args: argparse.Namespace, *, writer: bool) -> Store:
    from kputui.store import Store

    return Store.open(store_path(config, args.store), writer=writer, timezone=config.settings.timezone)


@contextmanager
def writer_or_reader(config: Config, args: argparse.Namespace) -> Iterator[tuple[Store, bool]]:
    """The store as its writer if no other process writes it, else as a reader."""
    try:
        store, writer = open_store(config, args, writer=True), True
    except StoreLockedError:
        store, writer = open_store(config, args, writer=False), False
    try:
        yield store, writer
    finally:
        store.close()


async def _collect_once(config: Config, store: Store) -> None:
    from kputui.collector import Collector

    await Collector(config, store).run_once()


def cmd_dashboard(args: argparse.Namespace) -> int:
    """`kputui [CONFIG]`: the live dashboard."""
    from kputui.collector import Collector
    from kputui.store import freeze_long_lived
    from kputui.ui.app import KputuiApp
    from kputui.ui.preferences import Preferences, default_path

    config = load(args)
    user_themes = Path(platformdirs.user_config_dir("kputui")) / "themes"
    theme_folders = (user_themes,) + ((config.path.parent / "themes",) if config.path else ())
    with writer_or_reader(config, args) as (store, writer):
        # What start-up loads lives as long as the process: the store read now, and
        # what a collector adds until every source has backfilled.
        collector = Collector(config, store, on_settled=freeze_long_lived) if writer else None
        freeze_long_lived()
        app = KputuiApp(
            config, store, collector=collector, theme_folders=theme_folders, preferences=Preferences(default_path())
        )
        app.run()
    return app.return_code or 0


def cmd_check(args: argparse.Namespace) -> int:
    """`kputui check [CONFIG]`: validate and report every error."""
    config = load(args)
    dashboards = len(config.dashboards)
    print(f"{config.path}: ok: {len(config.sources)} sources, {len(config.series)} series, "
          f"{len(config.kpis)} KPIs, {dashboards} dashboard{'s' if dashboards != 1 else ''}")
    return 0


def cmd_collect(args: argparse.Namespace) -> int:
    """`kputui collect [CONFIG] [--once] [--metrics-listen HOST:PORT]`: the headless collector."""
    from kputui.collector import Collector
    from kputui.store import freeze_long_lived

    listen = None
    if args.metrics_listen is not None:
        from kputui.metrics import parse_listen

        if args.once:
            raise UsageError("--metrics-listen serves while the collector runs; it does not go with --once")
        listen = parse_listen(args.metrics_listen)
    config = load(args)
    store = open_store(config, args, writer=True)

    async def run() -> None:
        collector = Collector(config, store, on_settled=freeze_long_lived)
        freeze_long_lived()  # the store read at start stays; see cmd_dashboard
        if args.once:
            await collector.run_once()
            return
        task = asyncio.current_task()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, task.cancel)
        try:
            if listen is None:
                await collector.run()
                return
            from kputui.board import Board
            from kputui.metrics import MetricsServer, is_loopback

            async with MetricsServer(Board(config, store), *listen) as server:
                print(f"kputui: serving Prometheus metrics at {server.url}", file=sys.stderr, flush=True)
                if not is_loopback(server.host):
                    print(f"kputui: warning: {server.host} is not loopback: other machines can read the metrics",
                          file=sys.stderr, flush=True)
                await collector.run()
        except asyncio.CancelledError:
            pass

    try:
        asyncio.run(run())
    finally:
        store.close()
    return 0


def _states(config: Config, args: argparse.Namespace):
    from kputui.board import Board

    at = _parse_time(args.at) if args.at else None
    with writer_or_reader(config, args) as (store, writer):
        if writer and not args.no_collect and at is None:
            asyncio.run(_collect_once(config, store))
        board = Board(config, store, clock=(lambda: at) if at is not None else time.time)
        board.update(None)
        return [board.states[spec.id] for spec in config.kpis if not args.kpi or spec.id in args.kpi]


def cmd_export(args: argparse.Namespace) -> int:
    """`kputui export`: KPI states computed from the store, as JSON or CSV."""
    import csv

    import orjson

    config = load(args)
    unknown = [kpi for kpi in args.kpi or () if kpi not in {spec.id for spec in config.kpis}]
    if unknown:
        raise UsageError(f"unknown KPI id: {', '.join(unknown)}")
    states = [state.to_json() for state in _states(config, args)]
    if args.format == "json":
        document = {"generated_at": datetime.now().astimezone().isoformat(), "kpis": states}
        sys.stdout.write(orjson.dumps(document, option=orjson.OPT_INDENT_2).decode() + "\n")
        return 0
    columns = [key for key in (states[0] if states else {}) if key != "sparkline"]
    writer = csv.DictWriter(sys.stdout, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(states)
    return 0


def _parse_time(text: str) -> float:
    """The moment `--at` names."""
    from kputui.durations import parse_instant

    try:
        return parse_instant(text)
    except ValueError as error:
        raise UsageError(f"--at: {error}") from None


def _parse_size(text: str) -> tuple[int, int]:
    width, _, height = text.lower().partition("x")
    if not (width.isdigit() and height.isdigit()) or not (20 <= int(width) <= 1000 and 8 <= int(height) <= 500):
        raise UsageError(f"--size: expected WIDTHxHEIGHT like 120x40 (20x8 up to 1000x500), got {text!r}")
    return int(width), int(height)


def cmd_serve(args: argparse.Namespace) -> int:
    """`kputui serve`: the dashboard in a browser, every tab a viewer of one collector."""
    import shlex
    import subprocess

    from textual_serve.server import Server

    from kputui.metrics import is_loopback

    config = load(args)
    path = store_path(config, args.store)
    config_arg = shlex.quote(str(config.path.resolve())) if config.path else ""
    store_arg = shlex.quote(str(path))
    collector = None
    try:
        open_store(config, args, writer=True).close()  # nobody collects yet: this command will
    except StoreLockedError as error:
        print(f"kputui: {error}; the browser tabs show its data", file=sys.stderr)
    else:
        collector = subprocess.Popen(
            [sys.executable, "-m", "kputui", "collect", *([str(config.path.resolve())] if config.path else []),
             "--store", str(path)]
        )
    if not is_loopback(args.host):
        print(f"kputui: warning: serving on {args.host}: anyone who reaches it sees the dashboard", file=sys.stderr)
    command = f"{shlex.quote(sys.executable)} -m kputui {config_arg} --store {store_arg}"
    print(f"kputui: serving the dashboard at http://{args.host}:{args.port}/ (each tab is a viewer)",
          file=sys.stderr, flush=True)
    try:
        Server(command, host=args.host, port=args.port, title="kputui").serve()
    finally:
        if collector is not None:
            collector.terminate()
            collector.wait(timeout=30)
    return 0


def cmd_snapshot(args: argparse.Namespace) -> int:
    """`kputui snapshot`: the dashboard rendered once, without a terminal."""
    from kputui.ui.snapshot import FORMATS, render_snapshot

    config = load(args)
    output = Path(args.output) if args.output else None
    kind = output.suffix.lstrip(".").lower() if output else "txt"
    if kind not in FORMATS:
        raise UsageError(f"--output: the file must end in .svg, .html or .txt, got {args.output!r}")
    size = _parse_size(args.size)
    index = args.dashboard - 1
    if not 0 <= index < len(config.dashboards):
        raise UsageError(f"--dashboard: expected 1 to {len(config.dashboards)}, got {args.dashboard}")
    with writer_or_reader(config, args) as (store, writer):
        if writer and not args.no_collect:
            asyncio.run(_collect_once(config, store))
        document = render_snapshot(config, store, kind, size=size, theme=args.theme, dashboard=index)
    if output is None:
        sys.stdout.write(document)
    else:
        output.write_text(document, encoding="utf-8")
        print(f"wrote {output}")
    return 0


def cmd_push(args: argparse.Namespace) -> int:
    """`kputui push SERIES VALUE [--at TIME]`: record a value of a manual series."""
    from kputui.series import Sample, clean_value

    config = load(args)
    series = config.series.get(args.series)
    if series is None or config.source_of(args.series).type != "manual":
        manual = sorted(name for name, spec in config.series.items() if config.source_of(name).type == "manual")
        raise UsageError(f"{args.series!r} is not a manual series; manual series: {', '.join(manual) or 'none'}")
    try:
        value = clean_value(float(args.value))
    except ValueError:
        value = None
    if value is None:
        raise UsageError(f"VALUE: expected a finite number, got {args.value!r}")
    at = _parse_time(args.at) if args.at else time.time()
    store = open_store(config, args, writer=False)
    try:
        store.push([Sample(args.series, at, value)])
    finally:
        store.close()
    print(f"recorded {args.series} = {args.value} at {datetime.fromtimestamp(at).astimezone().isoformat()}")
    return 0


def build_parser(command: str | None) -> argparse.ArgumentParser:
    """The parser for `command` (None: the dashboard)."""
    parser = argparse.ArgumentParser(
        prog=f"kputui {command}" if command else "kputui",
        description={
            None: "A terminal KPI dashboard. Commands: check, collect, export, push, serve, snapshot (each takes --help).",
            "check": "Validate a config and print every error as file:line:col: message.",
            "collect": "Run the collector without a UI: the store's single writer.",
            "export": "Print KPI states computed from the store.",
            "push": "Record a value of a manual series.",
            "snapshot": "Render a dashboard once, without a terminal (for reports and cron jobs).",
            "serve": "Serve the dashboard to web browsers; every tab is a viewer of one collector.",
        }[command],
    )
    if command == "push":
        parser.add_argument("series", metavar="SERIES")
        parser.add_argument("value", metavar="VALUE")
        parser.add_argument("--at", metavar="TIME", help="when the value applies (ISO 8601); default: now")
    parser.add_argument("config", nargs="?", metavar="CONFIG", help="the config file (default: ./kputui.yaml, "
                        "the user config, else the bundled demo)")
    parser.add_argument("--store", metavar="PATH", help="the store folder (overrides settings.store)")
    if command == "collect":
        parser.add_argument("--once", action="store_true", help="poll every source once and exit")
        parser.add_argument("--metrics-listen", metavar="HOST:PORT",
                            help="also serve Prometheus metrics at http://HOST:PORT/metrics, e.g. 127.0.0.1:9464")
    if command == "export":
        parser.add_argument("--format", choices=("json", "csv"), default="json")
        parser.add_argument("--kpi", action="append", metavar="ID", help="only this KPI (repeatable)")
        parser.add_argument("--at", metavar="TIME", help="evaluate as of this past moment (ISO 8601)")
    if command == "snapshot":
        parser.add_argument("--output", metavar="FILE", help="FILE.svg, FILE.html or FILE.txt (default: text on stdout)")
        parser.add_argument("--size", default="120x40", metavar="WxH", help="the screen size (default 120x40)")
        parser.add_argument("--theme", help="a theme name, e.g. kputui-light (default: the config's)")
        parser.add_argument("--dashboard", type=int, default=1, metavar="N", help="which dashboard (default 1)")
    if command == "serve":
        parser.add_argument("--host", default="127.0.0.1", help="the address to listen on (default: loopback)")
        parser.add_argument("--port", type=int, default=8000, help="the port (default 8000)")
    if command in ("export", "snapshot"):
        parser.add_argument("--no-collect", action="store_true",
                            help="do not poll the sources first, even when no collector is running")
    return parser


HANDLERS = {
    None: cmd_dashboard,
    "check": cmd_check,
    "collect": cmd_collect,
    "export": cmd_export,
    "push": cmd_push,
    "serve": cmd_serve,
    "snapshot": cmd_snapshot,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run kputui with `argv` (default: sys.argv[1:]) and return the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv.pop(0) if argv and argv[0] in COMMANDS else None
    args = build_parser(command).parse_intermixed_args(argv)
    try:
        return HANDLERS[command](args)
    except ConfigError as error:
        for issue in error.issues:
            print(issue, file=sys.stderr)
        count = len(error.issues)
        print(f"kputui: {count} error{'s' if count != 1 else ''} in the config", file=sys.stderr)
        return 1
    except (UsageError, StoreLockedError) as error:
        print(f"kputui: error: {error}", file=sys.stderr)
        return 1
    except StoreError as error:
        print(f"kputui: store error: {error}", file=sys.stderr)
        return 2
    except KputuiError as error:
        print(f"kputui: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
