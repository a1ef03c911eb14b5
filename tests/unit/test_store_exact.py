"""Windows are exact across tier boundaries: an oracle over the raw samples agrees.

Samples are appended in shuffled batches with duplicates, with checkpoints (which move
the horizons and fold raw samples into buckets only) in between; afterwards, a window
on local-day boundaries must give the same count, sum, min, max, first, last and
counter increase as the samples themselves, however the tiers split it.
"""

from __future__ import annotations

import random
from pathlib import Path
from tempfile import TemporaryDirectory

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kputui.series import Bucket, Sample
from kputui.store import Store
from kputui.store.history import History
from kputui.store.tiers import TIERS, Calendar, counter_increase

BASE = 1_760_000_000.0
SPAN = 50 * 86400
ZONES = ["UTC", "Europe/Berlin", "Asia/Kolkata", "America/New_York", "Australia/Lord_Howe"]


def combine(buckets: list[Bucket]) -> tuple | None:
    if not buckets:
        return None
    increase = sum(b.increase for b in buckets) + sum(
        counter_increase(a.last, b.first) for a, b in zip(buckets, buckets[1:])
    )
    return (
        sum(b.count for b in buckets),
        sum(b.sum for b in buckets),
        min(b.min for b in buckets),
        max(b.max for b in buckets),
        buckets[0].first,
        buckets[-1].last,
        increase,
    )


def oracle(points: list[tuple[float, float]], start: float, end: float) -> tuple | None:
    return combine([Bucket.of_sample(t, v) for t, v in points if start <= t < end])


class Clock:
    def __init__(self) -> None:
        self.now = BASE

    def __call__(self) -> float:
        return self.now


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    raw=st.lists(
        st.tuples(st.integers(0, SPAN), st.integers(0, 400)), min_size=1, max_size=250
    ),
    zone=st.sampled_from(ZONES),
    seed=st.integers(0, 2**32),
    final_gap=st.integers(0, 60 * 86400),
)
def test_windows_match_the_samples(
    raw: list[tuple[int, int]], zone: str, seed: int, final_gap: int
) -> None:
    rng = random.Random(seed)
    first_values: dict[float, float] = {}
    for offset, value in raw:
        first_values.setdefault(BASE + offset, value / 4)
    points = sorted(first_values.items())
    clock = Clock()
    with TemporaryDirectory() as folder:
        path = Path(folder)
        store = Store.open(path, writer=True, timezone=zone, clock=clock)
        reader = Store.open(path, writer=False, timezone=zone)
        i = 0
        while i < len(points):
            size = rng.randint(1, 20)
            group = points[i : i + size]
            i += size
            batch = [Sample("s", t, v) for t, v in group]
            batch += rng.sample(batch, k=min(len(batch), rng.randint(0, 3)))
            rng.shuffle(batch)
            store.append(batch)
            if rng.random() < 0.3 and i < len(points):
                clock.now = points[i][0]  # horizons stay before every sample still to come
                store.checkpoint()
            if rng.random() < 0.2:
                reader.refresh()
        clock.now = points[-1][0] + final_gap
        store.checkpoint()
        reader.refresh()
        assert store.history.dropped == 0
        calendar = Calendar(zone)
        day = calendar.day(points[0][0])
        last_day = calendar.day(points[-1][0])
        days = [day]
        while days[-1].end <= last_day.start:
            days.append(calendar.day(days[-1].end))
        for _ in range(8):
            a, b = sorted(rng.sample(range(len(days) + 1), 2)) if len(days) > 1 else (0, 1)
            start = days[a].start
            end = days[b - 1].end
            expected = oracle(points, start, end)
            for source in (store, reader):
                window = source.window("s", start, end)
                assert [w.start for w in window] == sorted(w.start for w in window)
                assert combine(window) == expected
        assert combine(store.window("s", 0, 1e11)) == oracle(points, 0, 1e11)
        store.close()


def test_bulk_import_equals_appending(tmp_path: Path) -> None:
    """`import_buckets` (the bench's bulk path) builds exactly what appending builds."""
    rng = random.Random(7)
    start = 1_760_000_000.0
    samples = []
    t = start
    while t < start + 12 * 86400:
        samples.append((t, rng.randrange(0, 400) / 4))
        t += rng.choice([10.0, 10.0, 30.0, 250.0])
    clock = Clock()
    clock.now = samples[-1][0] + 3600
    appended = Store.open(tmp_path / "a", writer=True, timezone="Europe/Berlin", clock=clock)
    appended.append(Sample("s", t, v) for t, v in samples)
    appended.checkpoint()

    bulk = Store.open(tmp_path / "b", writer=True, timezone="Europe/Berlin", clock=clock)
    calendar: Calendar = bulk.history.calendar
    hourly = TIERS[1]
    # Whole hours before where the 5-minute tier will begin (it is not bulk-loaded).
    cut = calendar.bucket_start(hourly, clock.now - TIERS[0].keep)
    groups: dict[float, list[tuple[float, float]]] = {}
    for t, v in samples:
        if t < cut:
            groups.setdefault(calendar.bucket_start(hourly, t), []).append((t, v))
    items = []
    for bucket_start, members in sorted(groups.items()):
        b = combine([Bucket.of_sample(t, v) for t, v in members])
        assert b is not None
        end = calendar.bucket_end(hourly, bucket_start)
        items.append((Bucket(bucket_start, end, *b), members[-1][0]))
    history: History = bulk.history
    history.prune(clock.now)
    history.import_buckets("s", hourly, items)
    bulk.append(Sample("s", t, v) for t, v in samples if t >= cut)
    bulk.checkpoint()

    assert appended.history.horizons == bulk.history.horizons
    for tier in TIERS:
        horizon = bulk.history.horizons[tier.name]
        keys = appended.history.keys(tier, horizon, 1e11)
        assert keys and keys == bulk.history.keys(tier, horizon, 1e11)
        for key in keys:
            a = appended.history.chunk(tier, key).series["s"]
            b = bulk.history.chunk(tier, key).series["s"]
            kept = [i for i, s in enumerate(a.start) if s >= horizon]
            assert [a.to_doc()[c][i] for c in a.to_doc() for i in kept] == [
                b.to_doc()[c][i + len(b) - len(kept)] for c in b.to_doc() for i in range(len(kept))
            ], (tier.name, key)
    assert appended.history.series["s"].to_doc("s") == bulk.history.series["s"].to_doc("s")
    assert appended.window("s", 0, 1e11) == bulk.window("s", 0, 1e11)
