"""Streamed exports of one session file: markdown, and the JSON of ``show``.

Both are written from a single scan of the file (:mod:`sessionctl.scan`):
each message is rendered as it is read into a spool, then the header (which
needs the whole file: message count, last meta, resume point) is written and
the spooled messages copied after it, with checkpoint sections or the resume
context put in their places. Memory stays bounded by the largest record.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable
from dataclasses import replace
from typing import IO, Any

from ..core.models import Message
from ..core.records import InexactNumber, json_bytes, message_json
from ..core.session import Checkpoint, checkpoint_summaries_of, resume_point
from .markdown import (
    CheckpointMark,
    ExportHeader,
    message_section,
    nest_section,
    render_header,
    render_item,
)
from .spool import Scanned

__all__ = ["json_section", "markdown_message", "text_writer", "write_json", "write_markdown"]

JSON = Any
WriteBytes = Callable[[bytes], object]


def _item_bytes(item: Message | CheckpointMark) -> bytes:
    return _rendered(render_item, item)


def _header_bytes(header: ExportHeader) -> bytes:
    return _rendered(render_header, header)


def _rendered(render: Callable[[Any, Callable[[str], object]], None], obj: Any) -> bytes:
    """What ``render(obj, write)`` writes, as UTF-8."""
    parts: list[str] = []
    render(obj, parts.append)
    return "".join(parts).encode("utf-8", "surrogatepass")


def markdown_message(m: dict[str, JSON], *, exact: bool = False) -> bytes:
    """A message object's markdown section (the spool's renderer for
    ``export-md``). See :func:`~sessionctl.export.markdown.message_section`
    for ``exact``."""
    return message_section(m, exact=exact).encode("utf-8", "surrogatepass")


# -- markdown ---------------------------------------------------------------------


def _context(sc: Scanned) -> tuple[Checkpoint | None, int, int | None]:
    """Where the resume context starts, as ``Session.context_messages``:
    (the checkpoint, the first later message, the summary message's index)."""
    if not sc.checkpoints:
        return None, 0, None
    return resume_point(sc.checkpoints, sc.ids, sc.count)


def _context_size(sc: Scanned) -> int:
    """``len(Session.context_messages)``."""
    found, start, s = _context(sc)
    if found is None:
        return sc.count
    return (len(found.messages or ()) if s is None else 1) + max(0, sc.count - start)


def _copy_context(
    sc: Scanned, spooled: WriteBytes, item: Callable[[Message], object]
) -> None:
    """The resume context in order: rendered messages copied from the spool
    through ``spooled``, a legacy checkpoint's own messages through ``item``."""
    found, start, s = _context(sc)
    if found is None:
        sc.copy_messages(0, sc.count, spooled)
        return
    if s is None:
        for m in found.messages or ():
            item(m)
    else:
        sc.copy_messages(s, s + 1, spooled)
    sc.copy_messages(start, sc.count, spooled)


def write_markdown(
    sc: Scanned, header: ExportHeader, write: WriteBytes, *, context: bool = False
) -> None:
    """The document, exactly as :func:`~sessionctl.store.export_session_markdown`
    renders the loaded session: ``header`` (with the message count set here),
    then the messages with their checkpoint sections, or only the resume
    context."""
    if context:
        write(_header_bytes(replace(header, message_count=_context_size(sc))))
        _copy_context(sc, write, lambda m: write(_item_bytes(m)))
        return
    write(_header_bytes(replace(header, message_count=sc.count)))
    ids = sc.ids if sc.checkpoints else {}
    marks = {c["after_message"]: c for c in checkpoint_summaries_of(sc.checkpoints, ids)}
    done = 0
    for cp in sc.checkpoints:
        k = cp.after_message
        if k not in marks:
            continue
        sc.copy_messages(done, k, write)
        done = max(done, k)
        n = marks[k]["messages"]
        if cp.messages:
            mark = CheckpointMark(cp.tokens, n, list(cp.messages))
        else:
            i = ids.get(cp.summary_msg_id) if cp.summary_msg_id else None
            nested = () if i is None else (nest_section(sc.message_bytes(i).decode(
                "utf-8", "surrogatepass")),)
            mark = CheckpointMark(cp.tokens, n, [], nested)
        write(_item_bytes(mark))
    sc.copy_messages(done, sc.count, write)


# -- JSON (show --json) -------------------------------------------------------------


def write_json(
    sc: Scanned, head: dict[str, JSON], write: WriteBytes, *, context: bool = False
) -> None:
    """``show --json`` of a scanned file: exactly what ``Session.to_dict()``
    of the loaded session gives (``head`` holds its first fields)."""
    write(json_bytes(head)[:-2])  # without the closing brace and newline
    for key, only_context in (("messages", context), ("context_messages", True)):
        write(b',"' + key.encode() + b'":[')
        out = _ArrayWriter(write)
        if only_context:
            _copy_context(sc, out.spooled, out.message)
        else:
            sc.copy_messages(0, sc.count, out.spooled)
        write(b"]")
    ids = sc.ids if sc.checkpoints else {}
    tail = {
        "checkpoints": checkpoint_summaries_of(sc.checkpoints, ids),
        "tunnel_events": [e.to_dict() for e in sc.tunnel_events],
        "tunnel_events_complete": sc.mf.tunnel_events_complete,
        "cost": sc.cost,
        "has_user_interaction": bool(sc.first_text) or sc.cp_interaction,
    }
    write(b"," + json_bytes(tail)[1:])


class _ArrayWriter:
    """Writes a JSON array's elements: spooled sections (each starts with a
    comma, see :func:`json_section`) and single messages, comma-separated."""

    def __init__(self, write: WriteBytes) -> None:
        self._write = write
        self._empty = True

    def spooled(self, chunk: bytes) -> None:
        if self._empty and chunk:
            chunk = chunk[1:]  # the first element's comma
            self._empty = False
        if chunk:
            self._write(chunk)

    def message(self, m: Message) -> None:
        """One message, not spooled (a legacy checkpoint's own)."""
        self._write(message_json(m) if self._empty else b"," + message_json(m))
        self._empty = False


def json_section(m: dict[str, JSON], *, exact: bool = False) -> bytes:
    """A message object's JSON with a leading comma (the spool's renderer
    for ``show --json``: joined spool ranges are then valid array bodies).

    Unless ``m`` was read ``exact``, JSON showing a number in exponent form
    raises :class:`~sessionctl.core.records.InexactNumber` (it may be an
    integer beyond 64 bits that orjson read as a float): the line is read
    again.
    """
    data = message_json(Message._wrap_checked(m))
    if not exact and b"e+" in data:
        raise InexactNumber
    return b"," + data


def text_writer(out: IO[str]) -> tuple[WriteBytes, Callable[[], None]]:
    """A bytes writer onto the text stream ``out`` (UTF-8 documents), and
    what to call at the end. A UTF-8 file or stdout gets the bytes
    directly; any other stream, text decoded on the way."""
    buffer = getattr(out, "buffer", None)
    encoding = getattr(out, "encoding", None) or ""
    if buffer is not None and codecs.lookup(encoding).name == "utf-8":
        out.flush()
        return buffer.write, buffer.flush
    decoder = codecs.getincrementaldecoder("utf-8")("surrogatepass")

    def write(data: bytes) -> None:
        text = decoder.decode(data)
        if text:
            out.write(text)

    def finish() -> None:
        text = decoder.decode(b"", final=True)
        if text:
            out.write(text)

    return write, finish
