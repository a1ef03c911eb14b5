"""Prometheus sources: any server speaking the Prometheus HTTP API.

Each poll runs every series' PromQL as an instant query (`/api/v1/query`); a query must
give one number (a scalar, or a vector of exactly one element: wrap it in `sum()`
otherwise). At start, `backfill` fetches history with `/api/v1/query_range` at `step`
(default: the source's interval, so backfilled and polled samples mean the same thing),
in chunks that stay under the server's 11,000 points per series.
"""

from __future__ import annotations

import asyncio
import math
from typing import TYPE_CHECKING, Any

from kputui.errors import SourceError
from kputui.series import Sample
from kputui.sources.base import PartialFailure, RetryLater, Source
from kputui.sources.fetch import Fetcher, Reply, parse_json
from kputui.sources.values import ValueProblem, to_number

if TYPE_CHECKING:
    from kputui.config import SeriesSpec

__all__ = ["MAX_POINTS", "PrometheusSource"]

MAX_POINTS = 11_000
"""Prometheus refuses a range query with more points per series than this."""
CHUNK_POINTS = 10_000
"""Points asked for per range query, a margin under `MAX_POINTS`."""
MAX_BODY = 50_000_000
"""Largest API response read."""


def _number(text: Any) -> float:
    """A Prometheus sample value (a string like "1.5", "NaN" or "+Inf") as a float."""
    if not isinstance(text, str):
        raise ValueProblem(f"value {text!r} is not a number")
    try:
        value = float(text)
    except ValueError:
        raise ValueProblem(f"value '{text[:40]}' is not a number") from None
    return to_number(value)


def _result(reply: Reply, expected: str) -> Any:
    """The `data` of an API reply, or the server's own error message."""
    document: Any = None
    if reply.body:
        try:
            document = parse_json(reply.body, reply.url)
        except SourceError:
            if 200 <= reply.status < 300:
                raise
    if isinstance(document, dict) and document.get("status") == "error":
        kind = document.get("errorType") or "error"
        raise SourceError(f"{kind}: {str(document.get('error') or 'no message')[:200]}")
    if not 200 <= reply.status < 300:
        raise reply.fail()
    if not isinstance(document, dict) or not isinstance(document.get("data"), dict):
        raise SourceError(f"not a Prometheus API response from {reply.url}")
    data = document["data"]
    if data.get("resultType") not in expected.split("|"):
        raise SourceError(f"expected a {expected} result, got {data.get('resultType')!r}")
    return data


class PrometheusSource(Source):
    """Instant queries each poll; one range query per series (in chunks) at start."""

    def __init__(self, spec, **kwargs) -> None:
        super().__init__(spec, **kwargs)
        options = spec.options
        self._base = str(options["url"]).rstrip("/")
        self._headers = {str(k): str(v) for k, v in (options.get("headers") or {}).items()}
        self._fetcher = Fetcher(self.client, verify=options.get("verify", True), timeout=spec.timeout,
                                max_bytes=MAX_BODY)
        self.backfill_span: float | None = options.get("backfill")
        """Seconds of history to fetch at start; None fetches none."""
        self.step: float = float(options.get("step") or max(spec.interval, 1.0))
        """Seconds between backfilled points."""

    async def _get(self, endpoint: str, params: dict[str, str]) -> Reply:
        return await self._fetcher.request("GET", f"{self._base}/api/v1/{endpoint}", params=params,
                                           headers=self._headers)

    async def _instant(self, series: SeriesSpec, now: float) -> Sample:
        reply = await self._get("query", {"query": series.options["query"], "time": f"{now:.3f}"})
        data = _result(reply, "vector|scalar")
        result = data.get("result")
        if data["resultType"] == "scalar":
            point = result
        elif not result:
            raise SourceError("no data (the query matched no series)")
        elif len(result) > 1:
            raise SourceError(f"the query gave {len(result)} series, expected one (wrap it in sum())")
        else:
            point = result[0].get("value") if isinstance(result[0], dict) else None
        if not isinstance(point, list) or len(point) != 2:
            raise SourceError("the server sent a malformed sample")
        return Sample(series.name, float(point[0]), _number(point[1]) * series.scale)

    async def poll(self, now: float) -> list[Sample]:
        outcomes = await asyncio.gather(*(self._instant(s, now) for s in self.spec.series), return_exceptions=True)
        samples: list[Sample] = []
        problems: list[str] = []
        for series, outcome in zip(self.spec.series, outcomes):
            if isinstance(outcome, Sample):
                samples.append(outcome)
            elif isinstance(outcome, RetryLater) and len(self.spec.series) == 1:
                raise outcome
            elif isinstance(outcome, (SourceError, ValueProblem)):
                problems.append(f"series {series.name}: {outcome}")
            else:
                raise outcome
        if problems and not samples and len({p.split(": ", 1)[1] for p in problems}) == 1:
            # The same failure everywhere (server down, say) reads better once.
            raise SourceError(problems[0].split(": ", 1)[1])
        if problems:
            raise PartialFailure("; ".join(problems), samples)
        return samples

    def chunks(self, start: float, end: float) -> list[tuple[float, float]]:
        """`[start, end]` cut into ranges of at most `CHUNK_POINTS` points at `step`."""
        span = CHUNK_POINTS * self.step
        first = math.ceil(start / self.step) * self.step
        ranges = []
        while first <= end:
            last = min(first + (CHUNK_POINTS - 1) * self.step, end)
            ranges.append((first, last))
            first += span
        return ranges

    async def _range(self, series: SeriesSpec, start: float, end: float) -> list[Sample]:
        samples: list[Sample] = []
        for first, last in self.chunks(start, end):
            reply = await self._get("query_range", {"query": series.options["query"], "start": f"{first:.3f}",
                                                    "end": f"{last:.3f}", "step": f"{self.step:g}"})
            data = _result(reply, "matrix")
            result = data.get("result") or []
            if len(result) > 1:
                raise SourceError(f"the query gave {len(result)} series, expected one (wrap it in sum())")
            for point in (result[0].get("values") or []) if result else []:
                try:
                    samples.append(Sample(series.name, float(point[0]), _number(point[1]) * series.scale))
                except (ValueProblem, TypeError, ValueError, IndexError):
                    continue  # a NaN in history is a gap, not a failure
        return samples

    async def backfill(self, now: float, since: float | None) -> list[Sample]:
        if not self.backfill_span:
            return []
        start = now - self.backfill_span
        if since is not None:
            start = max(start, since + self.step)
        end = now - self.step  # the poll that follows brings `now` itself
        if start > end:
            return []
        outcomes = await asyncio.gather(*(self._range(s, start, end) for s in self.spec.series),
                                        return_exceptions=True)
        samples: list[Sample] = []
        problems: list[str] = []
        for series, outcome in zip(self.spec.series, outcomes):
            if isinstance(outcome, list):
                samples += outcome
            elif isinstance(outcome, SourceError):
                problems.append(f"series {series.name} (backfill): {outcome}")
            else:
                raise outcome
        if problems:
            raise PartialFailure("; ".join(problems), samples)
        return samples

    async def aclose(self) -> None:
        await self._fetcher.aclose()
