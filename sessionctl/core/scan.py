"""One pass over a session file, rendering each message as it passes.

``list`` needs a summary of a file, ``export-md`` its messages as markdown,
``show --json`` as JSON: all three read records alike (tolerant lines,
duplicate ids read once, the latest meta wins; SPEC §6, §7), so they share
this pass. Rendered messages go to a spool (an unnamed temporary file): the
header, which needs the whole file, is written first, and memory stays
bounded by the largest record.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import IO, Any, Protocol

from .models import Checkpoint, TunnelEvent, is_message_object
from .records import (
    InexactNumber,
    MetaFold,
    Readable,
    Summary,
    _checkpoint,
    _user_text,
    iter_lines,
    reread_exact,
)
from .text import derive_title
from .times import ZERO_TIME

__all__ = ["Part", "Scanned", "scan_file", "scan_lines", "summarize"]

JSON = Any


class RecordFold(Protocol):
    """Another fold riding along one pass (one method per record type;
    ``message`` sees only the messages kept after de-duplication, with the
    line they were read from)."""

    def meta(self, rec: dict[str, JSON], /) -> None: ...
    def message(self, rec: dict[str, JSON], m: dict[str, JSON], line: bytes, /) -> None: ...
    def usage(self, rec: dict[str, JSON], /) -> None: ...
    def metric(self, rec: dict[str, JSON], /) -> None: ...


class Render(Protocol):
    """Renders one message object as bytes for the spool; ``None`` when the
    value is not a message (see :func:`~sessionctl.models.is_message_object`):
    checking and rendering are one pass. Unless the object was read
    ``exact``, it may raise :class:`~sessionctl.records.InexactNumber`."""

    def __call__(self, m: object, /, *, exact: bool = ...) -> bytes | None: ...


_COPY = 1 << 20
_BATCH = 1 << 18  # rendered bytes collected before a spool write


@dataclass
class Part:
    """What a scan of a file, or of one part of it, found."""

    mf: MetaFold = field(default_factory=MetaFold)
    ids: list[str] = field(default_factory=list)  # per kept message ("" if none)
    ends: list[int] = field(default_factory=list)  # spool offset after each message
    checkpoints: list[Checkpoint] = field(default_factory=list)  # after_message: local
    first_text: str = ""  # the first user text of a message
    cp_interaction: bool = False  # user text in a checkpoint's own messages
    tunnel_events: list[TunnelEvent] = field(default_factory=list)
    has_cost: bool = False
    cost: JSON = None

    @property
    def count(self) -> int:
        return len(self.ids)

    def summary(self) -> Summary:
        """What ``list`` keeps of the file."""
        return _summary(self.mf, self.count, self.first_text, self.cp_interaction)


def _summary(mf: MetaFold, count: int, first_text: str, cp_interaction: bool) -> Summary:
    created, updated = mf.times()
    f = mf.fields
    return Summary(
        title=f.get("title", ""),
        workspace=f.get("workspace", ""),
        vendor=f.get("vendor", ""),
        endpoint=f.get("endpoint", ""),
        model=f.get("model", ""),
        preview=f.get("preview", ""),
        created=created,
        updated=updated,
        msg_count=count,
        has_meta=mf.has_meta,
        user_interaction=bool(first_text) or cp_interaction,
        first_user_text=derive_title(first_text) if first_text else "",
    )


def summarize(lines: Iterable[bytes] | Readable, fold: RecordFold | None = None) -> Summary:
    """What ``list`` needs of a file, in one pass; memory bounded by the
    longest line. ``fold`` sees the same records on the way (e.g. usage)."""
    return scan_lines(lines, fold=fold).summary()


def scan_lines(
    lines: Iterable[bytes] | Readable,
    render: Render | None = None,
    spool: IO[bytes] | None = None,
    *,
    seen: set[str] | None = None,
    events: bool = False,
    fold: RecordFold | None = None,
) -> Part:
    """Fold ``lines`` as ``load`` does, writing ``render(message)`` of each
    kept message to ``spool``. ``seen``: ids already read (earlier in the
    file); ``events``: keep tunnel events and the cost (``show --json``)."""
    part = Part()
    mf = part.mf
    seen = set() if seen is None else seen
    ids, ends = part.ids, part.ends
    # Rendered messages are collected and written to the spool in batches
    # (one write call per message cost more than the join).
    batch: list[bytes] = []
    write = batch.append if spool is not None and render is not None else None
    pos = flushed = 0
    keep_ts = mf._raw_ts.append
    # Numbers beyond 64 bits matter only where they are shown: rendered
    # messages (the renderer says when one may have lost digits) and the
    # other records an export shows; only those lines are read again.
    for line, rec in iter_lines(lines, exact=False):
        rtype = rec.get("type")
        if rtype == "message":
            m: JSON = rec.get("message")
            if render is not None:
                try:
                    data = render(m)
                except InexactNumber:
                    rec = reread_exact(line, rec)
                    m = rec.get("message")
                    data = render(m, exact=True)
                if data is None:
                    continue
            elif not is_message_object(m):
                continue
            mid = m.get("id")
            if mid:
                if mid in seen:
                    continue  # a duplicate: read once (rendered in vain, rarely)
                seen.add(mid)
            ids.append(mid or "")
            if fold is not None:
                fold.message(rec, m, line)
            if write is not None:
                assert data is not None
                write(data)
                pos += len(data)
                ends.append(pos)
                if pos - flushed >= _BATCH:  # bytes, so memory stays bounded
                    assert spool is not None
                    spool.write(b"".join(batch))
                    batch.clear()
                    flushed = pos
            ts = rec.get("timestamp")
            if isinstance(ts, str) and ts and ts != ZERO_TIME:
                keep_ts(ts)
            if not part.first_text and m.get("role") == "user":
                part.first_text = _user_text(m)
        elif rtype == "meta":
            mf.meta(rec)
            if fold is not None:
                fold.meta(rec)
        elif rtype == "checkpoint":
            if render is not None:
                rec = reread_exact(line, rec)
            mf.timestamp(rec)
            cp = _checkpoint(rec, len(ids))
            if cp is not None:
                if not part.cp_interaction and cp.messages:
                    part.cp_interaction = any(_user_text(m._raw) for m in cp.messages)
                part.checkpoints.append(cp)
        elif rtype == "tunnel_event":
            ev = rec.get("tunnel_event")
            if isinstance(ev, dict):
                mf.timestamp(rec)
                if events:
                    ev = reread_exact(line, rec).get("tunnel_event")
                    assert isinstance(ev, dict)
                    part.tunnel_events.append(TunnelEvent.from_dict(ev))
        elif rtype in ("usage", "metric"):
            mf.timestamp(rec)
            if fold is not None:
                if rtype == "usage":
                    fold.usage(rec)
                else:
                    fold.metric(rec)
        elif rtype == "cost" and events:
            part.has_cost, part.cost = True, reread_exact(line, rec).get("cost")
    if batch:
        assert spool is not None
        spool.write(b"".join(batch))
    return part


# -- reading a file ---------------------------------------------------------


class Scanned:
    """A scanned file: what the pass found, and its rendered messages in a
    spool (closed by :meth:`close`)."""

    def __init__(self, part: Part, spool: IO[bytes]) -> None:
        self.part = part
        self.spool = spool
        self.count = part.count
        self.mf = part.mf
        self.first_text = part.first_text
        self.cp_interaction = part.cp_interaction
        self.checkpoints: list[Checkpoint] = part.checkpoints
        self.tunnel_events: list[TunnelEvent] = part.tunnel_events
        self.cost: JSON = part.cost if part.has_cost else None
        self._ids: dict[str, int] | None = None

    @property
    def ids(self) -> dict[str, int]:
        """Message id -> its index in the file (built when first asked)."""
        if self._ids is None:
            self._ids = {mid: i for i, mid in enumerate(self.part.ids) if mid}
        return self._ids

    def summary(self) -> Summary:
        return self.part.summary()

    def copy_messages(self, start: int, stop: int, write: Callable[[bytes], object]) -> None:
        """Write the rendered messages ``start``..``stop - 1``."""
        stop = min(stop, self.count)
        if start >= stop:
            return
        ends = self.part.ends
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


def scan_file(f: IO[bytes], render: Render | None, *, events: bool = False) -> Scanned:
    """Scan an open session file (see the module doc); close the result
    (its spool) when done."""
    import tempfile  # only exports pay for it, not list

    spool = tempfile.TemporaryFile()  # noqa: SIM115 - Scanned closes it
    try:
        return Scanned(scan_lines(f, render, spool, events=events), spool)
    except BaseException:
        spool.close()
        raise
