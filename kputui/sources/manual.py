"""Manual series: values a person types in the UI or gives with `kputui push`.

There is nothing to poll: pushed values reach the store through its inbox, which the
collector drains.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kputui.sources.base import Source

if TYPE_CHECKING:
    from kputui.series import Sample

__all__ = ["ManualSource"]


class ManualSource(Source):
    """A source whose samples arrive by push, never by polling."""

    polls = False
    """The collector does not schedule polls for this source."""

    async def poll(self, now: float) -> list[Sample]:
        return []
