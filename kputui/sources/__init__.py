"""Sources: where the numbers come from.

Each source type lives in its own module and registers its class in `SOURCE_TYPES`;
`build_source` turns a validated `SourceSpec` into a ready source. Values and times are
parsed at this edge (`values`), HTTP exchanges go through `fetch`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kputui.errors import SourceError
from kputui.sources.base import PartialFailure, RetryLater, Source
from kputui.sources.command import CommandSource
from kputui.sources.demo import DemoSource
from kputui.sources.file import FileSource
from kputui.sources.http import HttpSource
from kputui.sources.manual import ManualSource
from kputui.sources.prometheus import PrometheusSource
from kputui.sources.sqlite import SqliteSource

if TYPE_CHECKING:
    import httpx

    from kputui.config import SourceSpec

__all__ = ["SOURCE_TYPES", "PartialFailure", "RetryLater", "Source", "build_source"]

SOURCE_TYPES: dict[str, type[Source]] = {
    "demo": DemoSource,
    "http": HttpSource,
    "prometheus": PrometheusSource,
    "command": CommandSource,
    "file": FileSource,
    "sqlite": SqliteSource,
    "manual": ManualSource,
}
"""Source classes by the `type` the config names."""


def build_source(spec: SourceSpec, *, client: httpx.AsyncClient | None = None, timezone: str = "UTC") -> Source:
    """The source for `spec`; `SourceError` if this build cannot run its type."""
    try:
        source_type = SOURCE_TYPES[spec.type]
    except KeyError:
        raise SourceError(f"source type {spec.type!r} is not supported") from None
    return source_type(spec, client=client, timezone=timezone)
