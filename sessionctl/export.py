"""Streamed markdown export of one session file, in a single read.

The header needs things known only at the end of the file (the message
count, the last ``meta``, the checkpoint that starts the resume context), so
the body is rendered into an unnamed temporary file while the records are
read once, then the header is written and the body copied after it. Memory
stays bounded by the largest record; each line is parsed once.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable
from typing import Any

from .markdown import CheckpointMark, render_item
from .models import Checkpoint, Message
from .records import Summary, summarize

__all__ = ["SpooledExport"]

JSON = Any
_COPY = 1 << 20


class SpooledExport:
    """A :class:`~sessionctl.records.RecordSink` that renders into a spool.

    It remembers where each message's section starts, so ``--context`` can
    copy out only the resume context once the last usable checkpoint is
    known.
    """

    def __init__(self, *, context: bool) -> None:
        self.context = context
        self._spool = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
        self._pos = 0
        self._starts: list[int] = []  # spool offset of message k's section
        self._ends: list[int] = []
        self._ids: dict[str, int] = {}
        self._summaries: dict[str, Message] = {}
        # For --context: the last usable checkpoint's (spool range of its own
        # messages, their count, index of the first later message, summary index)
        self._cut: tuple[int, int, int, int, int] | None = None
        self._cut_seq = -1
        self._seq = 0
        self._pending: list[tuple[int, Checkpoint]] = []
        self.count = 0

    def _emit(self, item: Message | CheckpointMark) -> tuple[int, int]:
        parts: list[str] = []
        render_item(item, parts.append)
        data = "".join(parts).encode("utf-8", "surrogatepass")
        start = self._pos
        self._spool.write(data)
        self._pos += len(data)
        return start, self._pos

    # -- RecordSink ----------------------------------------------------------
    def message(self, index: int, message: dict[str, JSON]) -> None:
        msg = Message._wrap_checked(message)  # summarize validated it
        mid = message.get("id")
        if mid and isinstance(mid, str):
            self._ids.setdefault(mid, index)
            if message.get("role") == "system":
                texts = msg.texts()
                if texts and texts[0].startswith("[Previous conversation summary]"):
                    self._summaries[mid] = msg
        start, end = self._emit(msg)
        self._starts.append(start)
        self._ends.append(end)
        self.count = index + 1

    def checkpoint(self, checkpoint: Checkpoint) -> None:
        cp = checkpoint
        k = cp.after_message
        self._seq += 1
        if cp.is_legacy:
            if not cp.messages:
                return  # nothing to resume from: ignored, as the agent does
            if self.context:
                first = self._pos
                for m in cp.messages:
                    self._emit(m)
                self._cut = (first, self._pos, len(cp.messages), k, -1)
                self._cut_seq = self._seq
            else:
                self._emit(CheckpointMark(cp.tokens, len(cp.messages), list(cp.messages)))
            return
        s = self._ids.get(cp.summary_msg_id)
        if s is None:
            # The summary may come later in the file: decide at the end.
            self._pending.append((self._seq, cp))
            return
        self._new_format(cp, s, self._seq)

    def _new_format(self, cp: Checkpoint, s: int, seq: int) -> None:
        last = self._ids.get(cp.last_msg_id) if cp.last_msg_id else None
        first = last + 1 if last is not None and last > s else s + 1
        if self.context:
            if seq > self._cut_seq:
                self._cut, self._cut_seq = (0, 0, 1, first, s), seq
        else:
            summary = self._summaries.get(cp.summary_msg_id)
            shown = [summary] if summary is not None else []
            self._emit(CheckpointMark(cp.tokens, 1 + max(0, cp.after_message - first), shown))

    # -- output --------------------------------------------------------------
    def finish(self) -> int:
        """Settle checkpoints whose summary came after them; the message count
        of the document."""
        for seq, cp in self._pending:
            s = self._ids.get(cp.summary_msg_id)
            if s is not None and self.context:
                # Only the resume context depends on it; in the full export
                # the position has passed (the summary itself is shown).
                self._new_format(cp, s, seq)
        if not self.context or self._cut is None:
            return self.count
        _a, _b, n, first, s = self._cut
        return n + max(0, self.count - first)

    def copy_to(self, write: Callable[[str], object]) -> None:
        """Write the rendered body (or only the resume context)."""
        ranges: list[tuple[int, int]]
        if not self.context or self._cut is None:
            ranges = [(0, self._pos)]
        else:
            a, b, _n, first, s = self._cut
            ranges = []
            if s >= 0:
                ranges.append((self._starts[s], self._ends[s]))
            else:
                ranges.append((a, b))
            if first < len(self._starts):
                ranges.append((self._starts[first], self._pos))
        for start, end in ranges:
            self._copy(start, end, write)

    def _copy(self, start: int, end: int, write: Callable[[str], object]) -> None:
        import codecs

        decoder = codecs.getincrementaldecoder("utf-8")("surrogatepass")
        self._spool.seek(start)
        left = end - start
        while left > 0:
            chunk = self._spool.read(min(_COPY, left))
            if not chunk:
                break
            left -= len(chunk)
            write(decoder.decode(chunk, final=left <= 0))

    def close(self) -> None:
        self._spool.close()


def export_pass(lines: Iterable[bytes], *, context: bool) -> tuple[Summary, SpooledExport]:
    """Read a session file once: its summary, and its body rendered."""
    spool = SpooledExport(context=context)
    try:
        summary = summarize(lines, spool)
    except BaseException:
        spool.close()
        raise
    return summary, spool
