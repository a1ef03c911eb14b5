"""A real Prometheus scrapes kputui's metrics server on loopback and sees the KPIs."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from servers.prometheus import PrometheusServer, find_prometheus

from kputui.board import Board
from kputui.config import load_config_text
from kputui.metrics import MetricsServer
from kputui.series import Sample
from kputui.store import SourceStatus, Store

pytestmark = pytest.mark.integration

BINARY = find_prometheus()
CONFIG = """\
version: 1
settings: {timezone: UTC}
sources:
  shop: {type: manual, series: {orders: {kind: event}, visitors: {kind: event}}}
kpis:
  - id: conversion
    name: 'Shop "conversion" \\ rate'
    formula: orders / visitors
    period: rolling:24h
    target: {value: 0.03, mode: stay_above}
  - {id: orders, name: Orders, formula: orders, period: rolling:24h}
"""


class KputuiScrape(PrometheusServer):
    """Prometheus scraping kputui every second, ready once the first KPI value landed."""

    ready_metric = "kputui_kpi_value"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = Store.open(tmp_path / "store", writer=True, timezone="UTC")
    now = time.time()
    store.append([Sample("orders", now - 120, 4.0), Sample("orders", now - 60, 2.0),
                  Sample("visitors", now - 120, 100.0)])
    store.set_status(SourceStatus("shop", now - 5, None, None, 0, None))
    try:
        yield store
    finally:
        store.close()


@pytest.fixture
async def scraped(store: Store, tmp_path: Path) -> AsyncIterator[tuple[MetricsServer, KputuiScrape]]:
    if BINARY is None:
        pytest.skip("the prometheus binary is not installed (Debian package: prometheus)")
    board = Board(load_config_text(CONFIG), store)
    async with MetricsServer(board, "127.0.0.1", 0) as server:
        prom = KputuiScrape(BINARY, tmp_path / "prometheus", server.port, scrape_interval="1s")
        prom.folder.mkdir()
        # Prometheus is started and waited for in a thread: this loop must go on serving scrapes.
        await asyncio.to_thread(prom.__enter__)
        try:
            yield server, prom
        finally:
            await asyncio.to_thread(prom.__exit__)


async def query_until(prom: PrometheusServer, promql: str, expected: float, timeout: float = 20.0) -> dict[str, Any]:
    """The one series `promql` gives, once its value is `expected`; fail after `timeout`."""
    deadline = time.monotonic() + timeout
    seen: Any = None
    while time.monotonic() < deadline:
        seen = (await asyncio.to_thread(prom.query, promql))["data"]["result"]
        if len(seen) == 1 and float(seen[0]["value"][1]) == pytest.approx(expected):
            return seen[0]["metric"]
        await asyncio.sleep(0.2)
    raise AssertionError(f"{promql}: expected one series at {expected} within {timeout}s, last saw {seen}")


async def test_prometheus_scrapes_series_kpis_statuses_and_sources(scraped: tuple[MetricsServer, KputuiScrape],
                                                                    store: Store) -> None:
    server, prom = scraped
    labels = await query_until(prom, 'kputui_kpi_value{kpi="conversion"}', 0.06)
    assert labels["name"] == 'Shop "conversion" \\ rate', "the escaped name reads back as written"
    assert labels["period"] == "rolling:24h"
    await query_until(prom, 'kputui_kpi_status{kpi="conversion",status="on_track"}', 1.0)
    await query_until(prom, 'sum(kputui_kpi_status{kpi="conversion"})', 1.0)
    await query_until(prom, 'kputui_kpi_target{kpi="conversion"}', 0.03)
    await query_until(prom, 'kputui_kpi_progress{kpi="conversion"}', 2.0)
    await query_until(prom, 'kputui_kpi_value{kpi="orders"}', 6.0)
    await query_until(prom, 'kputui_kpi_status{kpi="orders",status="no_target"}', 1.0)
    series = await query_until(prom, 'kputui_series_value{series="orders"}', 2.0)
    assert series == {"__name__": "kputui_series_value", "series": "orders", "source": "shop", "kind": "event",
                      "instance": f"127.0.0.1:{server.port}", "job": "exporter"}
    await query_until(prom, 'kputui_source_up{source="shop"}', 1.0)
    await query_until(prom, 'up{job="exporter"}', 1.0)  # the page parsed: no scrape error

    # New data and a failing source show in the next scrapes.
    store.append([Sample("orders", time.time() - 1, 3.0)])
    store.set_status(SourceStatus("shop", time.time() - 60, "HTTP 503", time.time(), 2, None))
    await query_until(prom, 'kputui_kpi_value{kpi="orders"}', 9.0)
    await query_until(prom, 'kputui_source_consecutive_failures{source="shop"}', 2.0)
    await query_until(prom, 'kputui_source_up{source="shop"}', 0.0)
    assert server.scrapes >= 2
