"""A session's full history handed on as it is read: what ``show`` streams
to a terminal.

:class:`ViewFold` is a fold of :func:`~sessionctl.core.folds.read_records`
(so it reads exactly as ``load`` does: tolerant lines, a duplicate message
id read once, the latest meta wins) that passes each message object and
each checkpoint on at once, so the first messages can be shown before the
end of a big file is read. A checkpoint comes with the size of the history
it compacted to as far as that is known at that point (a v1.3.2xx
checkpoint whose summary message comes later shows its tokens only).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .folds import Fold, MetaFold, user_text
from .session import Checkpoint, checkpoint_summaries_of
from .text import derive_title

__all__ = ["CheckpointAt", "ViewFold", "ViewItem"]

JSON = Any


@dataclass(frozen=True)
class CheckpointAt:
    """A compaction point: its tokens and, when known, how many messages
    the history was compacted to."""

    tokens: int
    messages: int | None


#: What the fold hands on: a message object (the on-disk shape) or a checkpoint.
ViewItem = dict[str, JSON] | CheckpointAt


class ViewFold(Fold):
    """Calls ``emit`` with each message and checkpoint in file order, and
    keeps what was read so far (meta, message count, first user text)."""

    def __init__(self, emit: Callable[[ViewItem], object]) -> None:
        self._emit = emit
        self.meta_fold = MetaFold()
        self.count = 0
        self.first_user_text = ""
        self._ids: dict[str, int] = {}
        self._checkpoints: list[Checkpoint] = []

    @property
    def title(self) -> str:
        """The title as far as read: the latest meta's, else derived."""
        title = self.meta_fold.fields.get("title")
        if isinstance(title, str) and title.strip():
            return title
        return derive_title(self.first_user_text) if self.first_user_text else ""

    def field(self, name: str) -> str:
        """A meta field as far as read (``""`` if unset)."""
        value = self.meta_fold.fields.get(name)
        return value if isinstance(value, str) else ""

    # -- the fold's hooks ----------------------------------------------------

    def message(self, index: int, m: dict[str, JSON], rec: dict[str, JSON], line: bytes) -> None:
        mid = m.get("id")
        if mid:
            self._ids[mid] = index
        self.count = index + 1
        if not self.first_user_text and m.get("role") == "user":
            self.first_user_text = user_text(m)
        self._emit(m)

    def meta(self, rec: dict[str, JSON]) -> None:
        self.meta_fold.meta(rec)

    def checkpoint(self, cp: Checkpoint, rec: dict[str, JSON]) -> None:
        if cp.is_legacy and not cp.messages:
            return  # ignored, as load's context ignores it
        self._checkpoints.append(cp)
        marks = checkpoint_summaries_of(self._checkpoints, self._ids)
        last = marks[-1] if marks else None
        mine = last["messages"] if last is not None and last["after_message"] == \
            cp.after_message and last["tokens"] == cp.tokens else None
        self._emit(CheckpointAt(cp.tokens, mine))
