"""What the source integration tests share: configs from dicts, a collector run, waiting."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

from kputui.collector import Collector
from kputui.config import Config, load_config_text
from kputui.store import SourceStatus, Store

__all__ = ["closed_port", "collect_once", "make_config", "values", "wait_for"]


def make_config(sources: Mapping[str, Any], env: Mapping[str, str] | None = None,
                base_dir: Path | None = None) -> Config:
    """A validated config holding `sources` (as the YAML would)."""
    text = yaml.safe_dump({"version": 1, "settings": {"timezone": "UTC"}, "sources": dict(sources)},
                          sort_keys=False)
    return load_config_text(text, env=env or {}, base_dir=base_dir)


async def collect_once(config: Config, folder: Path) -> tuple[dict[str, SourceStatus], Store]:
    """Run `collect --once` over `config` into a fresh store in `folder`; the store stays open."""
    store = Store.open(folder / "store", writer=True, timezone="UTC")
    await Collector(config, store).run_once()
    return store.statuses(), store


def values(store: Store, series: str) -> list[float]:
    """Every raw value of `series` in the store, oldest first."""
    return [bucket.last for bucket in store.window(series, 0, time.time() + 86400)]


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def wait_for(check: Callable[[], Any], timeout: float = 10.0, step: float = 0.02) -> Any:
    """Poll `check` until it gives something true, at most `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(step)
