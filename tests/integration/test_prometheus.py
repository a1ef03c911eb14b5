"""The prometheus source against a real Prometheus scraping a real exporter on loopback."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from servers.http import HttpServer
from servers.kit import collect_once, make_config, values, wait_for
from servers.prometheus import Exporter, PrometheusServer, find_prometheus

from kputui.errors import SourceError
from kputui.sources import PartialFailure
from kputui.sources.prometheus import PrometheusSource

pytestmark = pytest.mark.integration

BINARY = find_prometheus()


@pytest.fixture(scope="module")
def exporter() -> Iterator[tuple[HttpServer, Exporter]]:
    with HttpServer() as server:
        yield server, Exporter(server)


@pytest.fixture(scope="module")
def prometheus(exporter: tuple[HttpServer, Exporter], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if BINARY is None:
        pytest.skip("the prometheus binary is not installed (Debian package: prometheus)")
    server, _ = exporter
    with PrometheusServer(BINARY, tmp_path_factory.mktemp("prometheus"), server.port) as prom:
        yield prom.url


def source(url: str, backfill: str | None = None, step: str | None = None, **queries: str) -> PrometheusSource:
    options = {"type": "prometheus", "url": url, "interval": "1s",
               "series": {name: {"query": query, "kind": "gauge"} for name, query in queries.items()}}
    if backfill:
        options["backfill"] = backfill
    if step:
        options["step"] = step
    config = make_config({"prom": options})
    return PrometheusSource(config.sources[0], client=None)


async def test_instant_queries_give_one_sample_per_series(prometheus: str, exporter: tuple) -> None:
    _, metrics = exporter
    prom = source(prometheus, orders="sum(kputui_test_orders_total)",
                  mail='kputui_test_queue{queue="mail"}', up='up{job="exporter"}')
    now = time.time()
    try:
        samples = await prom.poll(now)
    finally:
        await prom.aclose()
    by_name = {sample.series: sample for sample in samples}
    assert set(by_name) == {"orders", "mail", "up"}
    assert by_name["mail"].value == 17.0
    assert by_name["up"].value == 1.0
    assert by_name["orders"].value % 5 == 0 and 5 <= by_name["orders"].value <= metrics.orders
    assert by_name["orders"].time == pytest.approx(now, abs=0.01)


async def test_no_data_several_series_and_bad_promql_fail_only_their_series(prometheus: str) -> None:
    prom = source(prometheus, fine="vector(3)", missing="kputui_test_nothing_here",
                  several="kputui_test_queue", broken="sum(")
    try:
        with pytest.raises(PartialFailure) as caught:
            await prom.poll(time.time())
    finally:
        await prom.aclose()
    message = str(caught.value)
    assert [s.value for s in caught.value.samples] == [3.0]
    assert "series missing: no data (the query matched no series)" in message
    assert "series several: the query gave 2 series, expected one (wrap it in sum())" in message
    assert "series broken: bad_data: " in message


async def test_backfill_fetches_history_with_query_range_in_chunks(prometheus: str, exporter: tuple) -> None:
    await wait_for(lambda: exporter[1].scrapes >= 10, timeout=20, step=0.1)
    # 4 h at a 1 s step is 14,400 points: more than Prometheus allows in one range query.
    prom = source(prometheus, backfill="4h", step="1s", orders='sum(kputui_test_orders_total)')
    assert len(prom.chunks(time.time() - 4 * 3600, time.time())) == 2
    try:
        history = await prom.backfill(time.time(), None)
    finally:
        await prom.aclose()
    assert len(history) >= 3, "the scrapes so far come back as history"
    times = [sample.time for sample in history]
    assert times == sorted(times) and len(set(times)) == len(times)
    assert all(b - a == pytest.approx(1.0) for a, b in zip(times, times[1:]))
    assert [s.value for s in history] == sorted(s.value for s in history)  # a counter only grows


async def test_collector_backfills_then_polls_into_the_store(prometheus: str, exporter: tuple,
                                                             tmp_path: Path) -> None:
    await wait_for(lambda: exporter[1].scrapes >= 10, timeout=20, step=0.1)
    config = make_config({"prom": {"type": "prometheus", "url": prometheus, "interval": "1s", "backfill": "10m",
                                   "series": {"queue": {"query": 'kputui_test_queue{queue="mail"}',
                                                        "kind": "gauge", "scale": 2}}}})
    statuses, store = await collect_once(config, tmp_path)
    assert statuses["prom"].consecutive_failures == 0
    stored = values(store, "queue")
    assert len(stored) >= 2 and set(stored) == {34.0}
    store.close()


async def test_a_server_that_is_not_prometheus(prometheus: str, exporter: tuple) -> None:
    server, _ = exporter
    prom = source(server.url(""), x="up")
    try:
        with pytest.raises(SourceError, match=r"^HTTP 404 from http://127\.0\.0\.1:\d+/api/v1/query\?query=up&time="):
            await prom.poll(time.time())
    finally:
        await prom.aclose()


async def test_the_shared_client_is_used_when_given(prometheus: str) -> None:
    async with httpx.AsyncClient() as client:
        config = make_config({"prom": {"type": "prometheus", "url": prometheus,
                                       "series": {"one": {"query": "vector(1)", "kind": "gauge"}}}})
        prom = PrometheusSource(config.sources[0], client=client)
        assert [s.value for s in await prom.poll(time.time())] == [1.0]
