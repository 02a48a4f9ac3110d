"""The export's pass over a file: each message rendered as it is read.

``export-md`` and ``show --json`` need the whole file before their first
byte (the header counts messages; the resume point may be anywhere), yet
memory must stay bounded by the largest record. So the file is read once
(:func:`~sessionctl.core.folds.read_records`) with a :class:`SpoolFold`
that writes each message's rendering to a spool (an unnamed temporary
file); the document is then the header followed by ranges of the spool.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import IO, Any, Protocol

from ..core.folds import Fold, Reading, Summary
from ..core.models import TunnelEvent
from ..core.records import InexactNumber, reread_exact
from ..core.session import Checkpoint

__all__ = ["Render", "Scanned", "SpoolFold"]

JSON = Any

_COPY = 1 << 20
_BATCH = 1 << 18  # rendered bytes collected before a spool write


class Render(Protocol):
    """Renders one message object (known to be a message) as bytes. Unless
    the object was read ``exact``, it may raise
    :class:`~sessionctl.core.records.InexactNumber` (its line is then read
    again exactly)."""

    def __call__(self, m: dict[str, JSON], /, *, exact: bool = ...) -> bytes: ...


class SpoolFold(Fold):
    """Renders each kept message into ``spool`` and remembers where each
    ends; with ``events``, keeps tunnel events and the cost (``show --json``)."""

    def __init__(self, render: Render, spool: IO[bytes], *, events: bool = False) -> None:
        self.render = render
        self.spool = spool
        self.events = events
        self.ends: list[int] = []  # spool offset after each message
        self.tunnel_events: list[TunnelEvent] = []
        self.has_cost = False
        self.cost_value: JSON = None
        # Rendered messages are collected and written in batches (one write
        # call per message cost more than the join).
        self._batch: list[bytes] = []
        self._pos = self._flushed = 0

    def message(self, index: int, m: dict[str, JSON], rec: dict[str, JSON], line: bytes) -> None:
        try:
            data = self.render(m)
        except InexactNumber:
            exact = reread_exact(line, rec).get("message")
            assert isinstance(exact, dict)
            data = self.render(exact, exact=True)
        self._batch.append(data)
        self._pos += len(data)
        self.ends.append(self._pos)
        if self._pos - self._flushed >= _BATCH:  # bytes, so memory stays bounded
            self.flush()

    def tunnel_event(self, ev: dict[str, JSON], rec: dict[str, JSON], line: bytes) -> None:
        if self.events:
            self.tunnel_events.append(TunnelEvent.from_dict(ev))

    def cost(self, rec: dict[str, JSON], line: bytes) -> None:
        if self.events:
            self.has_cost, self.cost_value = True, rec.get("cost")

    def flush(self) -> None:
        if self._batch:
            self.spool.write(b"".join(self._batch))
            self._batch.clear()
            self._flushed = self._pos


class Scanned:
    """A file read through a :class:`SpoolFold`: what the reading found,
    and its rendered messages (the spool, closed by :meth:`close`)."""

    def __init__(self, reading: Reading, fold: SpoolFold) -> None:
        fold.flush()
        self.reading = reading
        self.spool = fold.spool
        self._ends = fold.ends
        self.count = reading.count
        self.mf = reading.mf
        self.first_text = reading.first_text
        self.cp_interaction = reading.cp_interaction
        self.checkpoints: list[Checkpoint] = reading.checkpoints
        self.tunnel_events: list[TunnelEvent] = fold.tunnel_events
        self.cost: JSON = fold.cost_value if fold.has_cost else None
        self._ids: dict[str, int] | None = None

    @property
    def ids(self) -> dict[str, int]:
        """Message id -> its index in the file (built when first asked)."""
        if self._ids is None:
            self._ids = {mid: i for i, mid in enumerate(self.reading.ids) if mid}
        return self._ids

    def summary(self) -> Summary:
        return self.reading.summary()

    def copy_messages(self, start: int, stop: int, write: Callable[[bytes], object]) -> None:
        """Write the rendered messages ``start``..``stop - 1``."""
        stop = min(stop, self.count)
        if start >= stop:
            return
        ends = self._ends
        lo = ends[start - 1] if start > 0 else 0
        left = ends[stop - 1] - lo
        self.spool.seek(lo)
        while left > 0:
            chunk = self.spool.read(min(_COPY, left))
            if not chunk:
                break
            left -= len(chunk)
            write(chunk)

    def message_bytes(self, i: int) -> bytes:
        """The rendered message ``i``."""
        out: list[bytes] = []
        self.copy_messages(i, i + 1, out.append)
        return b"".join(out)

    def close(self) -> None:
        self.spool.close()
