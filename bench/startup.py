"""Start-up benchmark: process start to the first complete dashboard frame.

Runs, in the same session and on a real pseudo-terminal of 100x30, `kputui` on the bundled
demo (with a warm store, as on every start after the first) and a bare Textual app showing
one `Static`, several times each, and reports the medians and their ratio (goal: <= 1.5).
A frame counts as complete when the terminal shows the last KPI's status (kputui) or the
Static's text (bare app). The first-ever start, which backfills the demo history, is
reported too.

    python bench/startup.py [--runs 7]
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import select
import signal
import statistics
import subprocess
import struct
import sys
import tempfile
import termios
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BARE_APP = """
from textual.app import App
from textual.widgets import Static

class Bare(App):
    def compose(self):
        yield Static("bare app ready")

Bare().run()
"""
TIMEOUT = 30.0


def first_frame(argv: list[str], markers: list[bytes], env: dict[str, str]) -> float:
    """Seconds from spawning `argv` on a pty until one of `markers` appears on its screen."""
    start = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:
        os.execvpe(argv[0], argv, env)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    seen = b""
    try:
        while time.perf_counter() - start < TIMEOUT:
            ready, _, _ = select.select([fd], [], [], 0.5)
            if not ready:
                continue
            try:
                seen += os.read(fd, 65536)
            except OSError:
                break
            if any(marker in seen for marker in markers):
                return time.perf_counter() - start
        raise RuntimeError(f"{argv} never showed {markers!r}; last output: {seen[-400:]!r}")
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(fd)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "100", "LINES": "30"}
    # Both apps start from compiled bytecode, as an installed program does.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "kputui")], check=True, env=env)
    # Statuses are drawn only once the KPIs are evaluated: the frame is complete.
    statuses = [b"on track", b"off track", b"at risk"]
    with tempfile.TemporaryDirectory() as folder:
        kputui = [sys.executable, "-m", "kputui", str(ROOT / "sample_config.yaml"), "--store", f"{folder}/store"]
        bare = [sys.executable, "-c", BARE_APP]
        cold = first_frame(kputui, statuses, env)
        bare_times, kputui_times = [], []
        for _ in range(args.runs):
            bare_times.append(first_frame(bare, [b"bare app ready"], env))
            kputui_times.append(first_frame(kputui, statuses, env))
    bare_median = statistics.median(bare_times)
    kputui_median = statistics.median(kputui_times)
    print(f"runs: {args.runs} each, 100x30 pty, python {sys.version.split()[0]}")
    print(f"bare Textual app (one Static) : median {bare_median * 1000:7.1f} ms")
    print(f"kputui, sample config, warm   : median {kputui_median * 1000:7.1f} ms")
    print(f"kputui, first start (backfill): {cold * 1000:7.1f} ms")
    print(f"ratio kputui / bare: {kputui_median / bare_median:.2f}  (goal <= 1.5)")


if __name__ == "__main__":
    main()
