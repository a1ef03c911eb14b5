"""Follow a store as a viewer until batch LAST is visible; check what it sees on the way.

Usage: reader.py STORE BASE_TIME LAST TIMEOUT
Prints `ok <refreshes>` or `error <what>`; exits 0 only when every check held.
"""

from __future__ import annotations

import sys
import time

from kputui.store import Store

SERIES = [f"s{j}" for j in range(5)]


def main() -> None:
    path, base, last, timeout = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    store = Store.open(path, writer=False)
    deadline = time.monotonic() + timeout
    refreshes = 0
    seen = -1
    while time.monotonic() < deadline:
        store.refresh()
        refreshes += 1
        counts = [len(store.window(name, base, base + last + 1)) for name in SERIES]
        latest = [store.latest(name) for name in SERIES]
        # Batches are atomic and in order: every series has the same prefix 0..n-1.
        if len(set(counts)) != 1:
            print(f"error: torn batch, counts {counts}", flush=True)
            sys.exit(1)
        if counts[0] < seen:
            print(f"error: went back from {seen} to {counts[0]}", flush=True)
            sys.exit(1)
        seen = counts[0]
        if latest[0] is not None and latest[0].value != seen - 1:
            print(f"error: latest {latest[0]} with {seen} samples", flush=True)
            sys.exit(1)
        if seen == last + 1:
            total = sum(b.sum for b in store.window("s0", base, base + last + 1))
            if total != sum(range(last + 1)):
                print(f"error: sum {total}", flush=True)
                sys.exit(1)
            print(f"ok {refreshes}", flush=True)
            return
        time.sleep(0.01)  # a viewer's refresh interval, bounded by the deadline above
    print(f"error: saw only {seen} batches before the deadline", flush=True)
    sys.exit(1)


if __name__ == "__main__":
    main()
