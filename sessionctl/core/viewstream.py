"""A session file's full history in order, as it is read: what ``show``
streams to a terminal.

The same reading as ``load`` (tolerant lines, a duplicate message id read
once, the latest meta wins), one record at a time, so the first messages
can be shown before the end of a big file is read. Checkpoints appear where
they happened, with the size of the history they compacted to as far as it
is known at that point (a v1.3.2xx checkpoint whose summary message comes
later shows its tokens only).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from .models import Checkpoint, checkpoint_summaries_of, is_message_object
from .records import MetaFold, Readable, _checkpoint, _user_text, iter_lines
from .text import derive_title

__all__ = ["CheckpointAt", "ViewStream"]


@dataclass(frozen=True)
class CheckpointAt:
    """A compaction point: its tokens and, when known, how many messages
    the history was compacted to."""

    tokens: int
    messages: int | None


class ViewStream:
    """Iterate to get each message object (the on-disk shape) and each
    :class:`CheckpointAt`, in file order; what was read so far (meta,
    message count) is kept on the object."""

    def __init__(self, lines: Iterable[bytes] | Readable) -> None:
        self._lines = lines
        self.meta = MetaFold()
        self.count = 0
        self.first_user_text = ""

    @property
    def title(self) -> str:
        """The title as far as read: the latest meta's, else derived."""
        title = self.meta.fields.get("title")
        if isinstance(title, str) and title.strip():
            return title
        return derive_title(self.first_user_text) if self.first_user_text else ""

    def field(self, name: str) -> str:
        value = self.meta.fields.get(name)
        return value if isinstance(value, str) else ""

    def __iter__(self) -> Iterator[dict[str, Any] | CheckpointAt]:
        seen: set[str] = set()
        ids: dict[str, int] = {}
        checkpoints: list[Checkpoint] = []
        for _line, rec in iter_lines(self._lines, exact=True):
            kind = rec.get("type")
            if kind == "message":
                m = rec.get("message")
                if not is_message_object(m):
                    continue
                assert isinstance(m, dict)
                mid = m.get("id")
                if mid:
                    if mid in seen:
                        continue
                    seen.add(mid)
                    ids[mid] = self.count
                self.count += 1
                if not self.first_user_text and m.get("role") == "user":
                    self.first_user_text = _user_text(m)
                yield m
            elif kind == "meta":
                self.meta.meta(rec)
            elif kind == "checkpoint":
                cp = _checkpoint(rec, self.count)
                if cp is None or (cp.is_legacy and not cp.messages):
                    continue  # ignored, as load ignores it
                checkpoints.append(cp)
                marks = checkpoint_summaries_of(checkpoints, ids)
                mine = marks[-1]["messages"] if marks and marks[-1]["after_message"] == \
                    self.count and marks[-1]["tokens"] == cp.tokens else None
                yield CheckpointAt(cp.tokens, mine)
