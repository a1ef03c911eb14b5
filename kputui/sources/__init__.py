"""Sources: where the numbers come from.

Each source type lives in its own module and registers its class in `SOURCE_TYPES`;
`build_source` turns a validated `SourceSpec` into a ready source.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kputui.errors import SourceError
from kputui.sources.base import Source
from kputui.sources.demo import DemoSource
from kputui.sources.manual import ManualSource

if TYPE_CHECKING:
    import httpx

    from kputui.config import SourceSpec

__all__ = ["SOURCE_TYPES", "Source", "build_source"]

SOURCE_TYPES: dict[str, type[Source]] = {
    "demo": DemoSource,
    "manual": ManualSource,
}
"""Source classes by the `type` the config names."""


def build_source(spec: SourceSpec, *, client: httpx.AsyncClient | None = None) -> Source:
    """The source for `spec`; `SourceError` if this build cannot run its type."""
    try:
        source_type = SOURCE_TYPES[spec.type]
    except KeyError:
        raise SourceError(f"source type {spec.type!r} is not supported yet") from None
    return source_type(spec, client=client)
