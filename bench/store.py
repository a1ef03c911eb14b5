"""Benchmark the history store: flat append and open cost, size after a year, vs plain TinyDB.

Run: `python bench/store.py [--dir FOLDER] [--series 200]`.

History is generated straight into the tiers through `History.import_buckets`, the bulk
path that tests/unit/test_store_exact.py proves equal to appending; only the raw window
(the last 2 hours) goes through `Store.append`. Bucket summaries are synthetic: half the
series are event counts (integers 0-5 per 10 s), half are gauges whose sums and
increases carry full 17-digit floats, the worst case for the JSON size.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tinydb import TinyDB  # noqa: E402
from tinydb.storages import JSONStorage  # noqa: E402

from kputui.series import Bucket, Sample  # noqa: E402
from kputui.store import Store  # noqa: E402
from kputui.store.tiers import RAW_KEEP, TIERS, Calendar, Tier  # noqa: E402

INTERVAL = 10.0
NOW = 1_764_590_400.0  # 2025-12-01 12:00 UTC
DAY = 86400.0
ZONE = "Europe/Berlin"


def sample_value(rng: random.Random, event: bool, t: float) -> float:
    if event:
        return float(rng.randint(0, 5))
    return round(1000 + 100 * math.sin(t / 43200) + rng.uniform(-5, 5), 2)


def synthetic(rng: random.Random, event: bool, start: float, end: float) -> tuple[Bucket, float]:
    """A plausible summary of the 10-second samples of one series in `[start, end)`."""
    n = max(1, int((end - start) // INTERVAL))
    last_time = start + (n - 1) * INTERVAL
    if event:
        total = float(sum(rng.randint(0, 5) for _ in range(min(n, 4))) * n // 4)
        return Bucket(start, end, n, total, 0.0, 5.0, float(rng.randint(0, 5)),
                      float(rng.randint(0, 5)), float(int(total * 0.6))), last_time
    level = 1000 + 100 * math.sin(start / 43200)
    values = [round(level + rng.uniform(-5, 5), 2) for _ in range(4)]
    return Bucket(start, end, n, n * level + rng.uniform(-50, 50), min(values), max(values),
                  values[0], values[-1], rng.uniform(0, 10 * n)), last_time


def buckets_between(calendar: Calendar, tier: Tier, lo: float, hi: float) -> Iterator[tuple[float, float]]:
    start = calendar.bucket_start(tier, lo)
    if start < lo:
        start = calendar.bucket_end(tier, start)
    while start < hi:
        end = calendar.bucket_end(tier, start)
        yield start, end
        start = end


def build(path: Path, history_days: float, series: int) -> None:
    """A store whose history starts `history_days` before NOW, checkpointed and closed."""
    store = Store.open(path, writer=True, timezone=ZONE, clock=lambda: NOW,
                       checkpoint_bytes=1 << 40, checkpoint_every=math.inf)
    history = store.history
    history.prune(NOW)
    h = history.horizons
    calendar = history.calendar
    begin = NOW - history_days * DAY
    m5, h1, d1 = TIERS
    spans = [(d1, begin, h["h1"]), (h1, begin, h["m5"]), (m5, begin, h["raw"])]
    for i in range(series):
        rng = random.Random(i)
        event = i % 2 == 0
        lo = begin
        for tier, _, hi in spans:
            items = [synthetic(rng, event, s, e) for s, e in buckets_between(calendar, tier, lo, hi)]
            items = [(b, t) for b, t in items if b.start >= begin]
            history.import_buckets(f"series{i:03d}", tier, items)
            lo = max(lo, hi)
    raw_from = max(begin, h["raw"])
    rng = random.Random(1)
    t = raw_from
    while t < NOW:
        store.append(Sample(f"series{i:03d}", t, sample_value(rng, i % 2 == 0, t)) for i in range(series))
        t += INTERVAL
    store.checkpoint()
    store.close()


def timed(action: Callable[[], object], repeat: int) -> list[float]:
    """Seconds of each of `repeat` runs."""
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        runs.append(time.perf_counter() - started)
    return runs


class Subject:
    """A built store being measured: a writer appending, readers opening beside it."""

    def __init__(self, path: Path, series: int) -> None:
        self.path, self.series = path, series
        self.now = NOW
        self.rng = random.Random(2)
        self.store = self.open_writer()
        self.append()  # loads today's chunks once, as the running collector has them

    def open_writer(self) -> Store:
        return Store.open(self.path, writer=True, timezone=ZONE, clock=lambda: self.now,
                          checkpoint_bytes=1 << 40, checkpoint_every=math.inf)

    def append(self) -> None:
        self.now += INTERVAL
        self.store.append(
            Sample(f"series{i:03d}", self.now, sample_value(self.rng, i % 2 == 0, self.now))
            for i in range(self.series)
        )

    def dashboard(self) -> None:
        """What a viewer does on start: open, then every series' last 24 h and latest."""
        reader = Store.open(self.path, writer=False, timezone=ZONE)
        for i in range(self.series):
            reader.window(f"series{i:03d}", self.now - DAY, self.now + 1)
            reader.latest(f"series{i:03d}")

    def size(self) -> int:
        return sum(p.stat().st_size for p in self.path.rglob("*") if p.is_file())


def measure(subjects: dict[str, Subject], rounds: int = 7) -> dict[str, dict[str, list[float]]]:
    """Interleave the subjects round by round, so machine noise hits them alike."""
    out: dict[str, dict[str, list[float]]] = {label: {"append": [], "dashboard": []} for label in subjects}
    for label, subject in subjects.items():
        out[label]["checkpoint"] = timed(subject.store.checkpoint, 1)
    for _ in range(rounds):
        for label, subject in subjects.items():
            out[label]["append"] += timed(subject.append, 10)
            out[label]["dashboard"] += timed(subject.dashboard, 1)
    return out


def plain_tinydb_append(path: Path, docs: int, series: int) -> float:
    """One batch of `series` samples into plain TinyDB holding `docs` sample documents."""
    table = {str(i + 1): {"series": f"series{i % series:03d}", "time": NOW - docs + i,
                          "value": 1000.25} for i in range(docs)}
    path.write_text(json.dumps({"_default": table}))
    db = TinyDB(path, storage=JSONStorage)
    started = time.perf_counter()
    db.insert_multiple({"series": f"series{i:03d}", "time": NOW, "value": 1.5} for i in range(series))
    elapsed = time.perf_counter() - started
    db.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=None, help="where to build the stores")
    parser.add_argument("--series", type=int, default=200)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(dir=args.dir, prefix="kputui-bench-"))
    try:
        subjects = {}
        for label, days in (("1 day", 1.0), ("1 year", 365.0)):
            started = time.perf_counter()
            build(root / label.replace(" ", ""), days, args.series)
            built = time.perf_counter() - started
            print(f"built {label} of history for {args.series} series in {built:.1f} s", flush=True)
            subjects[label] = Subject(root / label.replace(" ", ""), args.series)
        results = measure(subjects)
        sizes = {label: subject.size() for label, subject in subjects.items()}
        for subject in subjects.values():
            subject.store.close()
        plain = {}
        for docs in (20_000, 100_000, 400_000):
            plain[docs] = min(timed(lambda: plain_tinydb_append(root / f"plain{docs}.json", docs, args.series), 1))
            print(f"plain TinyDB with {docs:,} samples: {plain[docs] * 1000:.0f} ms", flush=True)
        report(results, sizes, plain, args.series)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def ms(runs: list[float]) -> str:
    return f"{statistics.median(runs) * 1000:.2f} ms"


def report(results: dict[str, dict[str, list[float]]], sizes: dict[str, int],
           plain: dict[int, float], series: int) -> None:
    day, year = results["1 day"], results["1 year"]
    med = {label: {k: statistics.median(v) for k, v in r.items()} for label, r in results.items()}
    d, y = med["1 day"], med["1 year"]
    year_samples = int(365 * DAY / INTERVAL) * series
    largest = max(plain)
    extrapolated = plain[largest] / largest * year_samples
    rows = [
        (f"append 1 batch ({series} samples), 1 day of history", ms(day["append"]), ""),
        (f"append 1 batch ({series} samples), 1 year of history", ms(year["append"]),
         f"ratio {y['append'] / d['append']:.2f} (goal <= 1.5)"),
        (f"plain TinyDB append, {largest:,} samples behind it (measured)", f"{plain[largest] * 1000:.0f} ms",
         f"kputui@1y is {plain[largest] / y['append']:,.0f}x faster (goal >= 100x)"),
        (f"plain TinyDB append, 1 year = {year_samples:,} samples (extrapolated, linear)",
         f"{extrapolated:,.0f} s", f"kputui@1y is ~{extrapolated / y['append']:,.0f}x faster"),
        ("open + 24 h window + latest of every series, 1 day", ms(day["dashboard"]), ""),
        ("open + 24 h window + latest of every series, 1 year", ms(year["dashboard"]),
         f"ratio {y['dashboard'] / d['dashboard']:.2f} (goal <= 1.5)"),
        ("checkpoint (fold journal, write chunks + snapshot), 1 day / 1 year",
         f"{d['checkpoint'] * 1000:.0f} / {y['checkpoint'] * 1000:.0f} ms", "every 5 min, off the append path"),
        ("size on disk, 1 day", f"{sizes['1 day'] / 1e6:.1f} MB", ""),
        ("size on disk, 1 year", f"{sizes['1 year'] / 1e6:.1f} MB", "goal < 50 MB"),
    ]
    width = max(len(r[0]) for r in rows)
    print()
    print(f"kputui store bench: {series} series, one sample each every {INTERVAL:.0f} s, zone {ZONE};"
          " times are medians of interleaved runs")
    for name, value, note in rows:
        print(f"{name:<{width}}  {value:>12}  {note}")


if __name__ == "__main__":
    main()
