"""Push COUNT samples of series NAME through the inbox, a few per push.

Usage: pusher.py STORE NAME COUNT BASE_TIME
"""

from __future__ import annotations

import sys

from kputui.series import Sample
from kputui.store import Store


def main() -> None:
    path, name, count, base = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    store = Store.open(path, writer=False)
    for start in range(0, count, 3):
        store.push(Sample(name, base + i, 1.0) for i in range(start, min(count, start + 3)))
    print("done", flush=True)


if __name__ == "__main__":
    main()
