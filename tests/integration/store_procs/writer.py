"""Append numbered batches forever (or `count` of them), printing each acknowledged number.

Usage: writer.py STORE FIRST COUNT BASE_TIME [CHECKPOINT_BYTES]
Batch k holds one sample per series s0..s4 at time BASE_TIME + k with value k.
"""

from __future__ import annotations

import sys

from kputui.series import Sample
from kputui.store import Store

SERIES = [f"s{j}" for j in range(5)]


def main() -> None:
    path, first, count, base = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    checkpoint_bytes = int(sys.argv[5]) if len(sys.argv) > 5 else 4 << 20
    store = Store.open(path, writer=True, checkpoint_bytes=checkpoint_bytes)
    print("open", flush=True)
    k = first
    while count < 0 or k < first + count:
        store.append(Sample(name, base + k, float(k)) for name in SERIES)
        print(k, flush=True)
        k += 1
    store.close()
    print("closed", flush=True)


if __name__ == "__main__":
    main()
