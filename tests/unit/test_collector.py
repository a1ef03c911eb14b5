"""The collector's scheduling with scripted sources and a real store in a temp folder."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from kputui.collector import Collector
from kputui.config import Config, load_config_text
from kputui.errors import SourceError
from kputui.series import Sample
from kputui.sources import SOURCE_TYPES, PartialFailure, Source
from kputui.store import Store

Behaviour = Callable[[str, float], Any]


class Scripted(Source):
    """A source whose polls do what the test's `script` says, counting overlaps."""

    script: dict[str, Behaviour] = {}
    calls: dict[str, int] = {}
    running: dict[str, int] = {}
    peak: dict[str, int] = {}
    built: list[str] = []

    def __init__(self, spec: Any, **kwargs: Any) -> None:
        super().__init__(spec, **kwargs)
        Scripted.built.append(spec.name)

    async def poll(self, now: float) -> list[Sample]:
        name = self.name
        Scripted.calls[name] = Scripted.calls.get(name, 0) + 1
        Scripted.running[name] = Scripted.running.get(name, 0) + 1
        total = sum(Scripted.running.values())
        Scripted.peak["all"] = max(Scripted.peak.get("all", 0), total)
        Scripted.peak[name] = max(Scripted.peak.get(name, 0), Scripted.running[name])
        try:
            result = Scripted.script.get(name, lambda n, t: None)(name, now)
            if asyncio.iscoroutine(result):
                result = await result
            return result if result is not None else [Sample(self.spec.series[0].name, now, 1.0)]
        finally:
            Scripted.running[name] -= 1


@pytest.fixture(autouse=True)
def scripted(monkeypatch: pytest.MonkeyPatch) -> type[Scripted]:
    monkeypatch.setitem(SOURCE_TYPES, "demo", Scripted)
    for table in (Scripted.script, Scripted.calls, Scripted.running, Scripted.peak):
        table.clear()
    Scripted.built.clear()
    return Scripted


def config(sources: dict[str, dict[str, Any]]) -> Config:
    full = {name: {"type": "demo", "interval": "0.05s", **options,
                   "series": options.get("series") or {f"{name}_v": {"kind": "gauge", "base": 1}}}
            for name, options in sources.items()}
    return load_config_text(yaml.safe_dump({"version": 1, "settings": {"timezone": "UTC"}, "sources": full},
                                           sort_keys=False), env={})


@pytest.fixture
def store(tmp_path: Path) -> Store:
    store = Store.open(tmp_path / "store", writer=True, timezone="UTC")
    yield store
    store.close()


async def wait_for(check: Callable[[], Any], timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (result := check()):
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)
    return result


async def run_until(collector: Collector, check: Callable[[], Any], timeout: float = 5.0) -> Any:
    task = asyncio.create_task(collector.run())
    try:
        return await wait_for(check, timeout)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_concurrent_polls_are_bounded_and_one_source_never_overlaps(store: Store) -> None:
    async def slow(name: str, now: float) -> None:
        await asyncio.sleep(0.02)

    names = [f"s{i}" for i in range(12)]
    for name in names:
        Scripted.script[name] = slow
    collector = Collector(config({n: {"interval": "0.01s"} for n in names}), store, max_concurrent=3)
    await run_until(collector, lambda: all(Scripted.calls.get(n, 0) >= 3 for n in names))
    assert Scripted.peak["all"] <= 3
    assert all(Scripted.peak[n] == 1 for n in names)


async def test_run_once_writes_samples_and_statuses(store: Store) -> None:
    def broken(name: str, now: float) -> None:
        raise SourceError("nope")

    Scripted.script["bad"] = broken
    await Collector(config({"good": {}, "bad": {}}), store).run_once()
    statuses = store.statuses()
    assert statuses["good"].consecutive_failures == 0 and statuses["good"].next_attempt is None
    assert statuses["bad"].last_error == "nope" and statuses["bad"].consecutive_failures == 1
    assert store.latest("good_v").value == 1.0


async def test_a_bug_in_a_source_is_contained(store: Store) -> None:
    def bug(name: str, now: float) -> None:
        raise RuntimeError("boom\x1b[2J")

    Scripted.script["buggy"] = bug
    await Collector(config({"good": {}, "buggy": {}}), store).run_once()
    assert store.statuses()["buggy"].last_error == "RuntimeError: boom"
    assert store.statuses()["good"].consecutive_failures == 0


async def test_partial_failure_stores_what_arrived_and_keeps_the_interval(store: Store) -> None:
    def partial(name: str, now: float) -> None:
        raise PartialFailure("series b: path b matched nothing", [Sample("a", now, 3.0)])

    Scripted.script["half"] = partial
    conf = config({"half": {"interval": "1h", "series": {"a": {"kind": "gauge", "base": 1},
                                                         "b": {"kind": "gauge", "base": 1}}}})
    status = await run_until(Collector(conf, store), lambda: store.statuses().get("half"))
    assert status.last_error == "series b: path b matched nothing"
    assert status.consecutive_failures == 1 and status.last_success == status.last_error_at
    assert status.next_attempt - status.last_error_at == pytest.approx(3600, rel=0.06)
    assert store.latest("a").value == 3.0


async def test_backoff_is_exponential_and_capped(store: Store) -> None:
    def down(name: str, now: float) -> None:
        raise SourceError("down")

    Scripted.script["down"] = down
    collector = Collector(config({"down": {"interval": "1h"}}), store, jitter=0.0)
    delays = []
    async with collector._client():
        source = collector.sources["down"]
        for _ in range(12):
            outcome = await collector._attempt(source, backfill=False)
            delays.append(collector._settle(source, outcome, schedule=True))
    assert delays[:4] == [5.0, 10.0, 20.0, 40.0]
    assert delays[-1] == 900.0
    collector.flush()
    assert store.statuses()["down"].consecutive_failures == 12


async def test_stopping_writes_everything_delivered(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "store", writer=True, timezone="UTC")
    collector = Collector(config({"a": {"interval": "0.01s"}}), store)
    await run_until(collector, lambda: Scripted.calls.get("a", 0) >= 5)
    polled = Scripted.calls["a"]
    store.close()
    reopened = Store.open(tmp_path / "store", writer=False, timezone="UTC")
    assert len(reopened.window("a_v", 0, time.time() + 10)) == polled
    assert reopened.statuses()["a"].consecutive_failures == 0


async def test_restart_touches_only_changed_sources(store: Store) -> None:
    first = config({"same": {"interval": "0.02s"}, "changed": {"interval": "0.02s"}, "removed": {}})
    collector = Collector(first, store)
    task = asyncio.create_task(collector.run())
    try:
        await wait_for(lambda: all(Scripted.calls.get(n, 0) >= 2 for n in ("same", "changed", "removed")))
        same = collector.sources["same"]
        second = config({"same": {"interval": "0.02s"}, "changed": {"interval": "0.03s"}, "added": {}})
        assert await collector.restart(second) == {"changed", "removed", "added"}
        assert collector.sources["same"] is same
        assert set(collector.sources) == {"same", "changed", "added"}
        removed_polls, same_polls = Scripted.calls["removed"], Scripted.calls["same"]
        await wait_for(lambda: Scripted.calls.get("added", 0) >= 2 and Scripted.calls["same"] > same_polls + 2)
        assert Scripted.calls["removed"] == removed_polls
        assert Scripted.built.count("same") == 1 and Scripted.built.count("changed") == 2
        # The same text loaded again (new compiled objects, equal meaning) restarts nothing.
        assert await collector.restart(config({"same": {"interval": "0.02s"}, "changed": {"interval": "0.03s"},
                                               "added": {}})) == set()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def test_restart_compares_compiled_jmespath_and_regex_by_meaning() -> None:
    text = yaml.safe_dump({"version": 1, "sources": {
        "h": {"type": "http", "url": "https://x.test/", "series": {"v": {"path": "a.b", "kind": "gauge"}}},
        "c": {"type": "command", "command": ["df"], "series": {"w": {"regex": r"(\d+)%", "kind": "gauge"}}}}})
    one, two = load_config_text(text, env={}), load_config_text(text, env={})
    changed = asyncio.run(Collector(one, _NullStore()).restart(two))
    assert changed == set()


class _NullStore:
    def statuses(self) -> dict[str, Any]:
        return {}


async def test_on_settled_is_called_once_when_every_source_has_polled_and_it_is_stored(store: Store) -> None:
    gate = asyncio.Event()

    async def late(name: str, now: float) -> None:
        await gate.wait()

    Scripted.script["slow"] = late
    settled: list[int] = []
    collector = Collector(config({"fast": {"interval": "0.01s"}, "slow": {"interval": "0.01s"}}), store,
                          on_settled=lambda: settled.append(len(store.window("slow_v", 0, time.time() + 10))))
    task = asyncio.create_task(collector.run())
    try:
        await wait_for(lambda: Scripted.calls.get("fast", 0) >= 5)
        assert settled == []  # one source has not answered yet
        gate.set()
        await wait_for(lambda: settled)
        await wait_for(lambda: Scripted.calls["slow"] >= 4)
        assert len(settled) == 1 and settled[0] >= 1  # once, with the slow source's samples stored
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
