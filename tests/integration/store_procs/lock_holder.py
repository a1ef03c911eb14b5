"""Try to become the writer once the GO file exists; hold the lock until stdin closes.

Usage: lock_holder.py STORE GO_FILE
Prints `writer <pid>` or `locked <pid named by the error>`.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from kputui.errors import StoreLockedError
from kputui.store import Store


def main() -> None:
    path, go = sys.argv[1], Path(sys.argv[2])
    deadline = time.monotonic() + 10
    while not go.exists() and time.monotonic() < deadline:
        time.sleep(0.001)  # bounded wait for the start signal
    try:
        store = Store.open(path, writer=True)
    except StoreLockedError as error:
        print(f"locked {error.pid} {error}", flush=True)
        return
    print(f"writer {os.getpid()}", flush=True)
    sys.stdin.read()
    store.close()


if __name__ == "__main__":
    main()
