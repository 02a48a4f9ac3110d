"""One pass over a session file, rendering each message as it passes.

``list`` needs a summary of a file, ``export-md`` its messages as markdown,
``show --json`` as JSON: all three read records alike (tolerant lines,
duplicate ids read once, the latest meta wins; SPEC §6, §7), so they share
this pass. Rendered messages go to a spool (an unnamed temporary file): the
header, which needs the whole file, is written first, and memory stays
bounded by the largest record.

A big file is read in two halves at once when there are cores to spare: a
forked child scans the second half into its own spool while this process
scans the first, then the halves are joined. Joining is exact because every
fold here merges (meta fields: later wins, sticky ones only when set; first
and last times; counts, the second half's indexes offset). A message id in
both halves makes this process rescan the second half knowing the first
half's ids, so duplicates are dropped exactly as in one pass.
"""

from __future__ import annotations

import contextlib
import os
import threading
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


#: Files from this size up are read in two halves at once (when possible).
SPLIT_MIN = 16 << 20
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


# -- reading a file, maybe in two halves ----------------------------------------


class _Range:
    """``read(n)`` over bytes [start, end) of a file descriptor, by ``pread``:
    two processes sharing the descriptor each keep their own position."""

    def __init__(self, fd: int, start: int, end: int) -> None:
        self._fd, self._pos, self._end = fd, start, end

    def read(self, n: int) -> bytes:
        n = min(n, self._end - self._pos)
        if n <= 0:
            return b""
        data = os.pread(self._fd, n, self._pos)
        self._pos += len(data)
        if not data:
            self._end = self._pos  # the file shrank: stop here
        return data


def _split_point(fd: int, size: int) -> int | None:
    """The start of the first line past the middle, or ``None`` when the
    file is too small, there is one core, or this process cannot fork safely."""
    if size < SPLIT_MIN or not hasattr(os, "fork") or (os.cpu_count() or 1) < 2:
        return None
    if threading.active_count() > 1:
        return None  # forking a threaded process is unsafe
    mid = size // 2
    pos = mid
    while pos < size:
        chunk = os.pread(fd, min(1 << 16, size - pos), pos)
        if not chunk:
            return None
        nl = chunk.find(b"\n")
        if nl >= 0:
            cut = pos + nl + 1
            return cut if cut < size else None
        pos += len(chunk)
    return None


@dataclass
class Scanned:
    """A file scanned in one or two parts, seen as one."""

    parts: list[Part]
    spools: list[IO[bytes]]
    offsets: list[int] = field(default_factory=list)  # first message index of each part

    def __post_init__(self) -> None:
        n = 0
        for p in self.parts:
            self.offsets.append(n)
            n += p.count
        self.count = n
        mf = self.parts[0].mf
        for p in self.parts[1:]:
            mf = mf.followed_by(p.mf)
        self.mf = mf
        self.first_text = next((p.first_text for p in self.parts if p.first_text), "")
        self.cp_interaction = any(p.cp_interaction for p in self.parts)
        self.checkpoints: list[Checkpoint] = []
        self.tunnel_events: list[TunnelEvent] = []
        self.cost: JSON = None
        for off, p in zip(self.offsets, self.parts, strict=True):
            for cp in p.checkpoints:
                cp.after_message += off
            self.checkpoints.extend(p.checkpoints)
            self.tunnel_events.extend(p.tunnel_events)
            if p.has_cost:
                self.cost = p.cost
        self._ids: dict[str, int] | None = None

    @property
    def ids(self) -> dict[str, int]:
        """Message id -> its index in the whole file (built when first asked)."""
        if self._ids is None:
            index: dict[str, int] = {}
            for off, p in zip(self.offsets, self.parts, strict=True):
                for i, mid in enumerate(p.ids, off):
                    if mid:
                        index[mid] = i
            self._ids = index
        return self._ids

    def summary(self) -> Summary:
        return _summary(self.mf, self.count, self.first_text, self.cp_interaction)

    def copy_messages(self, start: int, stop: int, write: Callable[[bytes], object]) -> None:
        """Write the rendered messages ``start``..``stop - 1`` (file indexes)."""
        for off, p, spool in zip(self.offsets, self.parts, self.spools, strict=True):
            a, b = max(start, off) - off, min(stop, off + p.count) - off
            if a >= b:
                continue
            lo = p.ends[a - 1] if a > 0 else 0
            hi = p.ends[b - 1]
            spool.seek(lo)
            left = hi - lo
            while left > 0:
                chunk = spool.read(min(_COPY, left))
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
        for spool in self.spools:
            spool.close()


def scan_file(f: IO[bytes], render: Render | None, *, events: bool = False) -> Scanned:
    """Scan an open session file (see the module doc); close the result
    (its spools) when done."""
    import tempfile  # only exports pay for it, not list

    fd = f.fileno()
    cut = _split_point(fd, os.fstat(fd).st_size) if render is not None else None
    spools: list[IO[bytes]] = []
    try:
        if cut is None:
            spools.append(tempfile.TemporaryFile())  # noqa: SIM115 - Scanned closes it
            parts = [scan_lines(f, render, spools[0], events=events)]
        else:
            parts = _scan_halves(fd, cut, render, spools, events)
        return Scanned(parts, spools)
    except BaseException:
        for spool in spools:
            spool.close()
        raise


def _scan_halves(
    fd: int, cut: int, render: Render | None, spools: list[IO[bytes]], events: bool
) -> list[Part]:
    import pickle
    import signal
    import tempfile

    size = os.fstat(fd).st_size
    first, second = tempfile.TemporaryFile(), tempfile.TemporaryFile()  # noqa: SIM115
    spools.extend((first, second))
    result = tempfile.TemporaryFile()  # noqa: SIM115 - the child's findings, pickled
    try:
        pid = os.fork()
        if pid == 0:  # the child: scan the second half, report, exit
            code = 1
            try:
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                part = scan_lines(_Range(fd, cut, size), render, second, events=events)
                part.mf.compact()
                second.flush()
                result.write(pickle.dumps(part, protocol=pickle.HIGHEST_PROTOCOL))
                result.flush()
                code = 0
            finally:
                os._exit(code)
        try:
            seen: set[str] = set()
            head = scan_lines(_Range(fd, 0, cut), render, first, seen=seen, events=events)
        except BaseException:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
            raise
        finally:
            _pid, status = os.waitpid(pid, 0)
        tail: Part | None = None
        if os.waitstatus_to_exitcode(status) == 0:
            result.seek(0)
            with contextlib.suppress(Exception):
                tail = pickle.loads(result.read())
        if tail is None or any(mid in seen for mid in tail.ids if mid):
            # The child failed, or an id of the second half was read in the
            # first: read the second half here, knowing the first's ids.
            second.seek(0)
            second.truncate()
            tail = scan_lines(_Range(fd, cut, size), render, second, seen=seen, events=events)
        return [head, tail]
    finally:
        result.close()
