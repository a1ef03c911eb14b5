"""`kputui serve` in a real headless Chromium: the page shows the dashboard as a viewer.

The page draws the terminal on a canvas, so the test reads what the server sends to the
browser: a script installed before the page's own records every binary WebSocket
message, and the test looks for a KPI's name and the viewer's status bar in that text.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
RECORD_SOCKET_TEXT = """
window.__received = "";
const Native = window.WebSocket;
window.WebSocket = function (url, protocols) {
  const socket = protocols === undefined ? new Native(url) : new Native(url, protocols);
  socket.addEventListener("message", (event) => {
    if (typeof event.data !== "string") {
      window.__received += new TextDecoder().decode(new Uint8Array(event.data));
    }
  });
  return socket;
};
window.WebSocket.prototype = Native.prototype;
"""
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.skipif(CHROMIUM is None, reason="needs Chromium (Debian package chromium)")
def test_a_browser_tab_shows_the_dashboard_as_a_viewer(tmp_path: Path) -> None:
    playwright = pytest.importorskip("playwright.sync_api", reason="needs playwright (the [test] extra)")
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "c"),
           "XDG_STATE_HOME": str(tmp_path / "s"), "XDG_DATA_HOME": str(tmp_path / "d")}
    server = subprocess.Popen(
        [sys.executable, "-m", "kputui", "serve", str(ROOT / "sample_config.yaml"), "--store",
         str(tmp_path / "store"), "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        with playwright.sync_playwright() as driver:
            browser = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
            try:
                page = browser.new_page(viewport={"width": 1280, "height": 800})
                page.add_init_script(RECORD_SOCKET_TEXT)
                page.goto(f"http://127.0.0.1:{port}/")
                page.wait_for_function(
                    "() => window.__received.includes('Shop conversion') && window.__received.includes('viewer')",
                    timeout=45_000,
                )
                received = page.evaluate("() => window.__received")
            finally:
                browser.close()
        assert "Revenue this month" in received
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            _, stderr = server.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            _, stderr = server.communicate()
    assert f"serving the dashboard at http://127.0.0.1:{port}/" in stderr
