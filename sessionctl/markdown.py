"""Markdown export in the reference's layout, streamed and fence-safe."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from .models import Message

__all__ = ["CheckpointMark", "ExportHeader", "render_markdown"]


@dataclass(frozen=True)
class ExportHeader:
    """What the document's header shows."""

    id: str
    title: str
    created_ns: int
    updated_ns: int
    vendor: str = ""
    endpoint: str = ""
    model: str = ""
    message_count: int = 0


@dataclass(frozen=True)
class CheckpointMark:
    """A compaction point in the history: what the history was compacted to."""

    tokens: int
    message_count: int
    messages: list[Message] = field(default_factory=list)


def render_markdown(
    header: ExportHeader,
    items: Iterable[Message | CheckpointMark],
    write: Callable[[str], object],
) -> None:
    """Write the document piece by piece through ``write``."""
    raise NotImplementedError
