"""A real Prometheus server on a free loopback port, scraping an exporter the test runs.

The exporter (on `HttpServer`) serves a counter that grows by 5 per scrape and a gauge
the test can set. `PrometheusServer` writes a temporary config, starts the `prometheus`
binary, and waits (bounded) until the first scrape of the exporter has landed.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from servers.http import HttpServer, Request, Route
from servers.kit import closed_port

__all__ = ["Exporter", "PrometheusServer", "find_prometheus"]


def find_prometheus() -> str | None:
    """The `prometheus` binary on PATH (or where the Debian package puts it)."""
    return shutil.which("prometheus") or shutil.which("prometheus", path="/usr/bin:/usr/sbin:/usr/local/bin")


class Exporter:
    """/metrics with `kputui_test_orders_total` (a counter) and `kputui_test_queue` (a gauge)."""

    def __init__(self, server: HttpServer) -> None:
        self.orders = 0.0
        self.queue = 17.0
        self.scrapes = 0
        server.routes["/metrics"] = self._metrics

    def _metrics(self, _request: Request) -> Route:
        self.scrapes += 1
        self.orders += 5
        body = (
            "# HELP kputui_test_orders_total Orders so far.\n# TYPE kputui_test_orders_total counter\n"
            f'kputui_test_orders_total{{shop="a"}} {self.orders}\n'
            "# HELP kputui_test_queue Jobs waiting.\n# TYPE kputui_test_queue gauge\n"
            f'kputui_test_queue{{queue="mail"}} {self.queue}\n'
            f'kputui_test_queue{{queue="sms"}} 1\n'
        )
        return Route(200, body.encode(), {"Content-Type": "text/plain; version=0.0.4"})


class PrometheusServer:
    """`with PrometheusServer(binary, folder, exporter_port) as prom: prom.url`."""

    def __init__(self, binary: str, folder: Path, target_port: int, scrape_interval: str = "500ms") -> None:
        self.binary = binary
        self.folder = folder
        self.port = closed_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.target_port = target_port
        self.scrape_interval = scrape_interval
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> PrometheusServer:
        config = self.folder / "prometheus.yml"
        config.write_text(
            f"global: {{scrape_interval: {self.scrape_interval}, evaluation_interval: {self.scrape_interval}}}\n"
            "scrape_configs:\n"
            f"  - job_name: exporter\n    static_configs: [{{targets: ['127.0.0.1:{self.target_port}']}}]\n"
        )
        self.log = (self.folder / "prometheus.log").open("wb")
        self.process = subprocess.Popen(
            [self.binary, f"--config.file={config}", f"--storage.tsdb.path={self.folder / 'data'}",
             f"--web.listen-address=127.0.0.1:{self.port}", "--log.level=warn"],
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        try:
            self.wait_for_scrape(timeout=30)
        except BaseException:
            self.__exit__()
            raise
        return self

    def query(self, promql: str) -> Any:
        url = f"{self.url}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
        with urllib.request.urlopen(url, timeout=2) as response:
            return json.load(response)

    ready_metric = "kputui_test_orders_total"
    """The series whose first scrape makes the server ready."""

    def wait_for_scrape(self, timeout: float) -> None:
        """Return once `ready_metric` is queryable; fail after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"prometheus exited: {(self.folder / 'prometheus.log').read_text()[-2000:]}")
            try:
                if self.query(self.ready_metric)["data"]["result"]:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise TimeoutError(f"no scrape of {self.ready_metric} landed in prometheus within {timeout}s")

    def __exit__(self, *_exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.log.close()

