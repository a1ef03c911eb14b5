"""HTTP sources: one JSON response, several series picked out of it with JMESPath.

The request (method, headers, query parameters, JSON body, bearer or basic auth, TLS
verification, redirects, body size cap) is described by the source's options; each
series names a JMESPath `path` to its number and optionally a `time_path` to its time
(ISO 8601 or epoch seconds; without one the poll's time is used).
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

from kputui.series import Sample
from kputui.sources.base import PartialFailure, Source
from kputui.sources.fetch import Fetcher, parse_json
from kputui.sources.values import ValueProblem, to_number, to_time

if TYPE_CHECKING:
    from kputui.config import SeriesSpec

__all__ = ["HttpSource", "pick_samples"]


def _headers(options: Any) -> dict[str, str]:
    headers = {str(k): str(v) for k, v in (options.get("headers") or {}).items()}
    auth = options.get("auth") or {}
    if "bearer" in auth:
        headers["Authorization"] = f"Bearer {auth['bearer']}"
    elif "basic" in auth:
        pair = f"{auth['basic']['username']}:{auth['basic']['password']}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
    return headers


def pick_samples(document: Any, series: tuple[SeriesSpec, ...], now: float, zone: str) -> list[Sample]:
    """One sample per series from a parsed JSON document.

    Raises `PartialFailure` (with the series that worked) when any series fails.
    """
    samples: list[Sample] = []
    problems: list[str] = []
    for spec in series:
        path = spec.options["path"]
        try:
            found = path.search(document)
            if found is None:
                raise ValueProblem(f"path {path.expression} matched nothing")
            try:
                value = to_number(found) * spec.scale
            except ValueProblem as problem:
                raise ValueProblem(f"path {path.expression}: {problem}") from None
            time_path = spec.options.get("time_path")
            at = now
            if time_path is not None:
                stamp = time_path.search(document)
                if stamp is None:
                    raise ValueProblem(f"time_path {time_path.expression} matched nothing")
                try:
                    at = to_time(stamp, zone)
                except ValueProblem as problem:
                    raise ValueProblem(f"time_path {time_path.expression}: {problem}") from None
        except ValueProblem as problem:
            problems.append(f"series {spec.name}: {problem}")
            continue
        except Exception as error:  # a JMESPath function given the wrong type, for one
            problems.append(f"series {spec.name}: path {path.expression} failed ({type(error).__name__})")
            continue
        samples.append(Sample(spec.name, at, value))
    if problems:
        raise PartialFailure("; ".join(problems), samples)
    return samples


class HttpSource(Source):
    """Polls one URL for a JSON document and picks every series' number from it."""

    def __init__(self, spec, **kwargs) -> None:
        super().__init__(spec, **kwargs)
        options = spec.options
        self._fetcher = Fetcher(
            self.client,
            verify=options.get("verify", True),
            timeout=spec.timeout,
            max_bytes=int(options.get("max_bytes", 10_000_000)),
            follow_redirects=bool(options.get("follow_redirects", True)),
            max_redirects=int(options.get("max_redirects", 5)),
        )
        self._headers = _headers(options)

    async def poll(self, now: float) -> list[Sample]:
        options = self.spec.options
        params = {str(k): str(v) for k, v in (options.get("params") or {}).items()} or None
        reply = await self._fetcher.request(
            options.get("method", "GET"),
            options["url"],
            params=params,
            headers=self._headers,
            json_body=options.get("json"),
        )
        if not 200 <= reply.status < 300:
            raise reply.fail()
        document = parse_json(reply.body, reply.url)
        return pick_samples(document, self.spec.series, now, self.timezone)

    async def aclose(self) -> None:
        await self._fetcher.aclose()
