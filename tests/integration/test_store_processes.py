"""The store across real processes: kill -9 at random moments, readers beside a writer,
two writers at once, pushes from several processes."""

from __future__ import annotations

import os
import random
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kputui.store import Store
from kputui.store.tiers import TIERS

PROCS = Path(__file__).parent / "store_procs"
ROOT = Path(__file__).resolve().parents[2]
SERIES = [f"s{j}" for j in range(5)]

pytestmark = pytest.mark.integration


def spawn(script: str, *args: object) -> subprocess.Popen[bytes]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen(
        [sys.executable, str(PROCS / script), *map(str, args)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
    )


class Lines:
    """Lines of a child's stdout, read with a deadline (never blocking past it)."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdout is not None
        self.fd = proc.stdout.fileno()
        self.buffer = b""

    def next(self, deadline: float) -> str | None:
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("child said nothing in time")
            ready, _, _ = select.select([self.fd], [], [], left)
            if ready:
                block = os.read(self.fd, 65536)
                if not block:
                    return None
                self.buffer += block
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line.decode()

    def rest(self) -> list[str]:
        """Everything left once the child is gone."""
        out = []
        while (line := self.next(time.monotonic() + 10)) is not None:
            out.append(line)
        return out


def check_store(path: Path, base: float, first: int, acked: int) -> None:
    """Every acknowledged batch is whole; nothing after the next one exists; tiers agree."""
    store = Store.open(path, writer=False)
    assert not store.warnings, store.warnings
    present: dict[float, int] = {}
    for name in SERIES:
        for bucket in store.window(name, base + first, base + first + 100_000):
            present[bucket.start] = present.get(bucket.start, 0) + 1
    batches = sorted(int(t - base) for t in present)
    assert all(count == len(SERIES) for count in present.values()), "a torn batch"
    assert batches[: acked - first + 1] == list(range(first, acked + 1))
    assert batches == list(range(first, first + len(batches)))
    assert len(batches) - (acked - first + 1) in (0, 1)
    # Each tier holds every sample exactly once: nothing replayed twice after a crash.
    raw_total = len(store.window("s0", 0, 1e11))
    for tier in TIERS:
        total = 0
        for key in store.history.keys(tier, 0, 1e11):
            columns = store.history.chunk(tier, key).series.get("s0")
            total += sum(columns.n) if columns else 0
        assert total == raw_total, tier.name


def test_writer_killed_at_random_moments(tmp_path: Path) -> None:
    rng = random.Random(20261204)
    path = tmp_path / "store"
    base = time.time() - 1800
    started = time.monotonic()
    for round_ in range(55):
        first = round_ * 1000
        proc = spawn("writer.py", path, first, -1, base, rng.choice([3_000, 20_000, 4 << 20]))
        lines = Lines(proc)
        deadline = time.monotonic() + 20
        assert lines.next(deadline) == "open"
        acked = first - 1
        for _ in range(rng.randint(0, 120)):
            line = lines.next(deadline)
            assert line is not None
            acked = int(line)
        proc.kill()
        proc.wait(timeout=10)
        acked = max([acked, *(int(x) for x in lines.rest() if x.isdigit())])
        check_store(path, base, first, acked)
    # The store is clean to write again and holds every round.
    store = Store.open(path, writer=True)
    assert not store.warnings
    assert not list(path.glob(".*.tmp"))
    store.close()
    assert time.monotonic() - started < 90


def test_writer_and_three_readers(tmp_path: Path) -> None:
    path = tmp_path / "store"
    base = time.time() - 600
    last = 399
    readers = [spawn("reader.py", path, base, last, 60) for _ in range(3)]
    writer = spawn("writer.py", path, 0, last + 1, base, 20_000)
    out, _ = writer.communicate(timeout=60)
    assert out.decode().split()[-1] == "closed"
    for reader in readers:
        out, _ = reader.communicate(timeout=60)
        assert out.decode().startswith("ok"), out
        assert reader.returncode == 0


def test_two_writers_at_once(tmp_path: Path) -> None:
    for attempt in range(5):
        path, go = tmp_path / f"store{attempt}", tmp_path / f"go{attempt}"
        procs = [spawn("lock_holder.py", path, go) for _ in range(2)]
        go.touch()
        deadline = time.monotonic() + 20
        said = [Lines(p).next(deadline) or "" for p in procs]
        winners = [p for p, s in zip(procs, said) if s.startswith("writer")]
        losers = [s for s in said if s.startswith("locked")]
        assert len(winners) == 1 and len(losers) == 1, said
        assert losers[0].split()[1] == str(winners[0].pid)
        assert f"process {winners[0].pid}" in losers[0]
        for proc in procs:
            proc.communicate(timeout=10)


def test_pushes_from_several_processes(tmp_path: Path) -> None:
    path = tmp_path / "store"
    base = time.time() - 600
    store = Store.open(path, writer=True)
    pushers = [spawn("pusher.py", path, f"m{i}", 60, base) for i in range(4)]
    drained = 0
    deadline = time.monotonic() + 60
    while any(p.poll() is None for p in pushers):
        assert time.monotonic() < deadline
        drained += store.drain_inbox()
        time.sleep(0.005)  # the collector's tick, bounded by the deadline above
    drained += store.drain_inbox()
    assert [p.returncode for p in pushers] == [0, 0, 0, 0]
    assert drained == 240
    for i in range(4):
        window = store.window(f"m{i}", base, base + 100)
        assert [b.start for b in window] == [base + k for k in range(60)]
    assert store.drain_inbox() == 0
    store.close()
