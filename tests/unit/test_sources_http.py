"""The http and prometheus sources' requests and parsing, with httpx's MockTransport."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest
import yaml

from kputui.config import SourceSpec, load_config_text
from kputui.errors import SourceError
from kputui.sources import PartialFailure, RetryLater, build_source
from kputui.sources.fetch import retry_after
from kputui.sources.prometheus import CHUNK_POINTS, MAX_POINTS

NOW = 1_780_000_000.0


def spec(source: dict[str, Any], env: dict[str, str] | None = None) -> SourceSpec:
    text = yaml.safe_dump({"version": 1, "sources": {"src": source}}, sort_keys=False)
    return load_config_text(text, env=env or {}).sources[0]


def client(handler: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.MockTransport(handler))


async def test_one_response_feeds_several_series_with_scale_and_time_path() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"data": {"orders": 12, "revenue_cents": 12345,
                                                  "at": "2026-05-01T00:00:00Z", "items": [1, 2, 3]}})

    source = build_source(spec({"type": "http", "url": "https://shop.test/api", "series": {
        "orders": {"path": "data.orders", "kind": "event"},
        "revenue": {"path": "data.revenue_cents", "kind": "event", "scale": 0.01, "time_path": "data.at"},
        "items": {"path": "length(data.items)", "kind": "gauge"},
    }}), client=client(handler))
    samples = await source.poll(NOW)
    assert [(s.series, s.time, s.value) for s in samples] == [
        ("orders", NOW, 12.0), ("revenue", 1777593600.0, 123.45), ("items", NOW, 3.0)]


async def test_post_with_params_json_body_headers_and_bearer_auth() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"v": 1})

    source = build_source(spec({"type": "http", "url": "https://api.test/q", "method": "POST",
                                "params": {"from": "today", "limit": 5}, "json": {"metric": "orders", "n": [1, 2]},
                                "headers": {"X-Team": "growth"}, "auth": {"bearer": "${TOKEN}"},
                                "series": {"v": {"path": "v", "kind": "gauge"}}}, env={"TOKEN": "tok-123"}),
                          client=client(handler))
    await source.poll(NOW)
    request = seen[0]
    assert request.method == "POST"
    assert dict(request.url.params) == {"from": "today", "limit": "5"}
    assert json.loads(request.content) == {"metric": "orders", "n": [1, 2]}
    assert request.headers["x-team"] == "growth"
    assert request.headers["authorization"] == "Bearer tok-123"


async def test_basic_auth() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"v": 1})

    source = build_source(spec({"type": "http", "url": "https://api.test/q",
                                "auth": {"basic": {"username": "ann", "password": "pw"}},
                                "series": {"v": {"path": "v", "kind": "gauge"}}}), client=client(handler))
    await source.poll(NOW)
    assert seen[0].headers["authorization"] == "Basic " + base64.b64encode(b"ann:pw").decode()


async def test_redirects_are_followed_up_to_the_limit_and_can_be_refused() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        hop = int(request.url.path.strip("/") or 0)
        if hop < 3:
            return httpx.Response(302, headers={"Location": f"/{hop + 1}"})
        return httpx.Response(200, json={"v": hop})

    def make(**options: Any) -> Any:
        return build_source(spec({"type": "http", "url": "https://r.test/0", **options,
                                  "series": {"v": {"path": "v", "kind": "gauge"}}}), client=client(handler))

    assert [s.value for s in await make().poll(NOW)] == [3.0]
    with pytest.raises(SourceError, match=r"^more than 2 redirects from https://r\.test/0$"):
        await make(max_redirects=2).poll(NOW)
    with pytest.raises(SourceError, match=r"^HTTP 302 from https://r\.test/0$"):
        await make(follow_redirects=False).poll(NOW)


async def test_429_and_503_carry_retry_after() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, headers={"Retry-After": "120"})

    source = build_source(spec({"type": "http", "url": "https://busy.test/",
                                "series": {"v": {"path": "v", "kind": "gauge"}}}), client=client(handler))
    with pytest.raises(RetryLater) as caught:
        await source.poll(NOW)
    assert caught.value.retry_after == 120
    assert str(caught.value) == "HTTP 503 from https://busy.test/ (retry after 120s)"


def test_retry_after_reads_seconds_and_dates_and_caps_them() -> None:
    assert retry_after("30") == 30
    assert retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10
    assert retry_after("999999") == 3600
    assert retry_after("-4") == 0
    assert retry_after("soon") is None
    assert retry_after(None) is None


async def test_all_series_failing_still_reports_each() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"a": "x", "b": None})

    source = build_source(spec({"type": "http", "url": "https://t.test/", "series": {
        "a": {"path": "a", "kind": "gauge"}, "b": {"path": "b", "kind": "gauge"},
        "c": {"path": "abs(a)", "kind": "gauge"}}}), client=client(handler))
    with pytest.raises(PartialFailure) as caught:
        await source.poll(NOW)
    assert caught.value.samples == []
    assert str(caught.value) == ("series a: path a: 'x' is text, not a number (to_number() in the path converts it); "
                                 "series b: path b matched nothing; series c: path abs(a) failed (JMESPathTypeError)")


async def test_bad_time_path_fails_the_series() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"v": 1, "t": "last tuesday"})

    source = build_source(spec({"type": "http", "url": "https://t.test/", "series": {
        "v": {"path": "v", "time_path": "t", "kind": "gauge"}}}), client=client(handler))
    with pytest.raises(PartialFailure, match="^series v: time_path t: time 'last tuesday' is not ISO 8601"):
        await source.poll(NOW)


# -- prometheus against a fake API

def prom_handler(points: dict[str, Any], calls: list[httpx.Request]) -> Any:
    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        params = request.url.params
        if request.url.path.endswith("/query_range"):
            start, end, step = float(params["start"]), float(params["end"]), float(params["step"])
            count = int((end - start) / step) + 1
            assert count <= MAX_POINTS
            values = [[start + i * step, "1"] for i in range(count)]
            return httpx.Response(200, json={"status": "success", "data": {"resultType": "matrix", "result": [
                {"metric": {}, "values": values}]}})
        return httpx.Response(200, json={"status": "success", "data": points[params["query"]]})
    return handler


async def test_prometheus_scalar_and_string_values_and_nan() -> None:
    calls: list[httpx.Request] = []
    points = {
        "scalar(x)": {"resultType": "scalar", "result": [NOW, "2.5"]},
        "nan": {"resultType": "vector", "result": [{"metric": {}, "value": [NOW, "NaN"]}]},
        "inf": {"resultType": "vector", "result": [{"metric": {}, "value": [NOW, "+Inf"]}]},
    }
    source = build_source(spec({"type": "prometheus", "url": "http://prom.test:9090/", "series": {
        "s": {"query": "scalar(x)", "kind": "gauge", "scale": 2}, "n": {"query": "nan", "kind": "gauge"},
        "i": {"query": "inf", "kind": "gauge"}}}), client=client(prom_handler(points, calls)))
    with pytest.raises(PartialFailure) as caught:
        await source.poll(NOW)
    assert [(s.series, s.value) for s in caught.value.samples] == [("s", 5.0)]
    assert str(caught.value) == "series n: NaN is not a number; series i: infinity is not a number"
    assert calls[0].url.path == "/api/v1/query"


async def test_prometheus_backfill_chunks_under_the_points_limit_and_starts_after_since() -> None:
    calls: list[httpx.Request] = []
    source = build_source(spec({"type": "prometheus", "url": "http://prom.test:9090", "interval": "30s",
                                "backfill": "7d", "series": {"q": {"query": "up", "kind": "gauge"}}}),
                          client=client(prom_handler({}, calls)))
    history = await source.backfill(NOW, None)
    assert len(calls) == 3  # 20,160 points at 30 s: three chunks of at most 10,000
    assert all(float(c.url.params["step"]) == 30 for c in calls)
    times = [s.time for s in history]
    assert times == sorted(times) and len(set(times)) == len(times)
    assert times[0] >= NOW - 7 * 86400 and times[-1] <= NOW - 30
    assert all(b - a == 30 for a, b in zip(times, times[1:]))
    assert CHUNK_POINTS < MAX_POINTS

    calls.clear()
    recent = await source.backfill(NOW, NOW - 3600)
    assert len(calls) == 1 and recent[0].time > NOW - 3600


async def test_prometheus_error_body_is_reported() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, json={"status": "error", "errorType": "bad_data",
                                         "error": "1:5: parse error: unexpected end of input"})

    source = build_source(spec({"type": "prometheus", "url": "http://prom.test",
                                "series": {"q": {"query": "sum(", "kind": "gauge"}}}), client=client(handler))
    with pytest.raises(SourceError, match=r"^bad_data: 1:5: parse error: unexpected end of input$"):
        await source.poll(NOW)
