"""One line <-> one record, and records -> a session.

Reading is tolerant: a blank, malformed, torn or wrongly typed line is
skipped, never fatal. Folding follows the reference's Load (latest ``meta``
wins, checkpoints set the resume context, duplicate message ids read once)
while keeping every record it does not model, in file order, so ``save``
writes back what it read.
"""

from __future__ import annotations

import json
import math
import re
import sys
from collections.abc import Iterable, Iterator
from typing import Any, Protocol, cast

import orjson

from ..errors import CorruptStore
from .models import Message, TunnelEvent
from .session import Checkpoint, Session

__all__ = [
    "InexactNumber",
    "Readable",
    "dumps_line",
    "exact_lines",
    "iter_lines",
    "iter_records",
    "json_bytes",
    "loads_line",
    "message_json",
    "read_blocks",
    "reread_exact",
]

JSON = Any

# Meta fields that a later meta only changes when it has a value (SPEC §6).
_STICKY = ("workspace", "permission_mode", "sidebar_visible", "context_window", "max_tokens")
_META_STR = ("title", "workspace", "vendor", "endpoint", "model", "preview")
_UNSET = (None, "", 0, False)  # a sticky field with such a value is not set


def loads_line(line: bytes, *, exact: bool = False) -> dict[str, JSON] | None:
    """Parse one line; ``None`` for blank, malformed or non-object lines.

    orjson refuses invalid UTF-8, lone surrogate escapes and nesting deeper
    than 1024; the standard library then reads the line the way the
    reference does (invalid bytes and lone surrogates become U+FFFD, so no
    string ever holds a surrogate that cannot be written back as UTF-8).
    ``NaN``/``Infinity`` and lines too deep to read are malformed.

    orjson reads integers beyond 64 bits as floats; with ``exact`` (the
    load -> save path) a line holding such a number is read by the
    standard library instead, so the number is written back unchanged.
    """
    obj = None
    if exact and _has_long_digits(line):
        obj = _std_loads(line)
    if obj is None:
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError:
            obj = None if not line.strip() else _std_loads(line)
    return obj if isinstance(obj, dict) else None


# Digits -> "0", everything else -> "x": a run of 19 digits is then a plain
# substring search (a regex over every line of a 100 MB file costs seconds).
_DIGIT_MAP = bytes(0x30 if 0x30 <= c <= 0x39 else 0x78 for c in range(256))
_NINETEEN = b"0" * 19


class InexactNumber(Exception):
    """A record read without the exact parser shows a number in exponent
    form, which may be an integer beyond 64 bits that lost digits: read its
    line again with :func:`reread_exact`."""


def reread_exact(line: bytes, rec: dict[str, JSON]) -> dict[str, JSON]:
    """``rec`` (parsed from ``line`` by orjson), or the line read exactly
    when it may hold a number beyond 64 bits."""
    if not _has_long_digits(line):
        return rec
    return loads_line(line, exact=True) or rec


def _has_long_digits(line: bytes) -> bool:
    """True when ``line`` holds a run of 19+ digits (a number beyond 64 bits?)."""
    return _NINETEEN in line.translate(_DIGIT_MAP)


_BLOCK = 1 << 18  # bytes read at a time by read_blocks


class Readable(Protocol):
    """Something to read bytes from (a file, or a range of one)."""

    def read(self, n: int, /) -> bytes: ...


def read_blocks(lines: Iterable[bytes] | Readable) -> Iterator[tuple[list[bytes], bytes | None]]:
    """A file's lines in blocks: (the lines, the bytes they were split from).

    A file object is read 256 KB at a time and split in C (a large share of
    reading a 100 MB session was per-line work); a line longer than a block
    is assembled whole. Any other iterable of lines is one block, with
    ``None`` for its bytes. Lines read from a file lose their ``\n``, which
    no reader needs.
    """
    read = getattr(lines, "read", None)
    if read is None:
        yield list(cast("Iterable[bytes]", lines)), None
        return
    pending: list[bytes] = []  # the start of a line not yet ended
    while True:
        data = read(_BLOCK)
        if not data:
            break
        end = data.rfind(b"\n")
        if end < 0:
            pending.append(data)
            continue
        head = data[: end + 1]
        if pending:
            pending.append(head)
            head = b"".join(pending)
            pending = []
        if end + 1 < len(data):
            pending.append(data[end + 1:])
        block = head.split(b"\n")
        block.pop()  # the empty piece after the last newline
        yield block, head
    if pending:
        tail = b"".join(pending)
        yield [tail], tail


def exact_lines(block: list[bytes], data: bytes | None) -> set[bytes]:
    """The lines of a block (split from ``data``) that may hold a number
    beyond 64 bits: those holding a run of 19+ digits."""
    if data is None:
        return {ln for ln in block if _has_long_digits(ln)}
    return _long_digit_lines(data)  # one C-speed scan of the block


def _long_digit_lines(data: bytes) -> set[bytes]:
    """The lines of ``data`` holding a run of 19+ digits (one scan of all)."""
    digits = data.translate(_DIGIT_MAP)  # newlines become "x": runs end at lines
    found: set[bytes] = set()
    pos = digits.find(_NINETEEN)
    while pos >= 0:
        start = data.rfind(b"\n", 0, pos) + 1
        end = data.find(b"\n", pos)
        end = len(data) if end < 0 else end
        found.add(data[start:end])
        pos = digits.find(_NINETEEN, end)
    return found


def iter_lines(
    lines: Iterable[bytes] | Readable, *, exact: bool
) -> Iterator[tuple[bytes, dict[str, JSON]]]:
    """(line, record) of a file's lines, in order; blank, malformed and
    non-object lines are skipped (see :func:`loads_line`). With ``exact``, a
    line that may hold a number beyond 64 bits is read exactly; without, the
    caller has the line to read again (:func:`reread_exact`) where it finds
    a number that may have lost digits."""
    loads, bad_json = orjson.loads, orjson.JSONDecodeError
    for block, data in read_blocks(lines):
        suspects = exact_lines(block, data) if exact else None
        for line in block:
            if suspects and line in suspects:
                rec = loads_line(line, exact=True)
            else:
                try:
                    rec = loads(line)
                except bad_json:
                    rec = None if not line.strip() else _std_loads(line)
            if isinstance(rec, dict):
                yield line, rec


def iter_records(lines: Iterable[bytes] | Readable, *, exact: bool) -> Iterator[dict[str, JSON]]:
    """The records of :func:`iter_lines`, without their lines."""
    for _line, rec in iter_lines(lines, exact=exact):
        yield rec


def _reject_constant(name: str) -> Any:
    raise ValueError(f"not JSON: {name}")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"number out of range: {text}")
    return value


def _std_loads(line: bytes) -> JSON:
    """The standard library's reading of a line orjson refused (or ``None``)."""
    try:
        obj = json.loads(
            line.decode("utf-8", "replace"),
            parse_constant=_reject_constant, parse_float=_finite_float,
        )
    except (ValueError, RecursionError):
        return None
    return _scrub(obj)


_SURROGATE = re.compile("[\ud800-\udfff]")


def _fix(s: str) -> str:
    return _SURROGATE.sub("\ufffd", s)


def _scrub(obj: JSON) -> JSON:
    """Replace lone surrogates (from ``\\ud800`` escapes) with U+FFFD, as
    Go's decoder does; iterative, since the object may be deep."""
    if isinstance(obj, str):
        return _fix(obj)
    if not isinstance(obj, (dict, list)):
        return obj
    stack: list[JSON] = [obj]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for k in list(node):
                v = node[k]
                if isinstance(v, str):
                    v = _fix(v)
                elif isinstance(v, (dict, list)):
                    stack.append(v)
                if isinstance(k, str) and _fix(k) != k:
                    del node[k]
                    node[_fix(k)] = v
                else:
                    node[k] = v
        else:
            for i, v in enumerate(node):
                if isinstance(v, str):
                    node[i] = _fix(v)
                elif isinstance(v, (dict, list)):
                    stack.append(v)
    return obj


def dumps_line(record: dict[str, JSON]) -> bytes:
    """One record as a JSON line (with its newline)."""
    try:
        return orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE)
    except TypeError:
        pass
    # What orjson cannot write (integers beyond 64 bits, nesting deeper than
    # 254): the standard library writes it as valid JSON.
    try:
        return _std_dumps(record)
    except RecursionError:
        limit = sys.getrecursionlimit()
        sys.setrecursionlimit(max(limit, 20_000))
        try:
            return _std_dumps(record)
        except RecursionError:
            raise CorruptStore("a record is nested too deeply to write") from None
        finally:
            sys.setrecursionlimit(limit)


def json_bytes(obj: Any) -> bytes:
    """Compact JSON with a final newline (what ``--json`` prints)."""
    try:
        return orjson.dumps(obj, option=orjson.OPT_APPEND_NEWLINE)
    except TypeError:
        # Values orjson cannot write (integers beyond 64 bits kept exact by
        # load): the standard library writes the same JSON, only slower.
        import json

        return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode(
            "utf-8", "surrogatepass") + b"\n"


def message_json(m: Message) -> bytes:
    """One message as JSON, from its parsed object when it was not changed
    (no copy: ``show --json`` of 100,000 messages stays lean)."""
    raw = m._raw
    obj: Any = raw if m._content is None and isinstance(raw.get("content"), list) else m.to_dict()
    try:
        return orjson.dumps(obj)
    except TypeError:
        return json_bytes(obj)[:-1]


def _std_dumps(record: dict[str, JSON]) -> bytes:
    return json.dumps(record, ensure_ascii=True, separators=(",", ":")).encode() + b"\n"


# -- writing ------------------------------------------------------------------

_META_KEYS = ("title", "workspace", "vendor", "endpoint", "model")


def meta_fields(ses: Session) -> tuple[str, str, str, str, str, bool]:
    """The metadata a ``meta`` record carries, to tell whether it changed."""
    return (
        ses.title, ses.workspace, ses.vendor, ses.endpoint, ses.model, ses.tunnel_events_complete
    )


def meta_record(
    ses: Session, base: dict[str, JSON] | None = None, *, updated: str | None = None
) -> dict[str, JSON]:
    """A ``meta`` record for ``ses``; fields of ``base`` it does not set are kept."""
    rec: dict[str, JSON] = {"type": "meta", "session_id": ses.id}
    if base:
        rec.update(base)
        rec["type"], rec["session_id"] = "meta", ses.id
    for key in _META_KEYS:
        value = getattr(ses, key)
        if value:
            rec[key] = value
        else:
            rec.pop(key, None)
    rec["created_at"] = ses.created_at_str
    rec["updated_at"] = updated or ses.updated_at_str
    if ses.tunnel_events_complete:
        rec["tunnel_events_complete"] = True
    else:
        rec.pop("tunnel_events_complete", None)
    return rec


def message_record(sid: str, msg: Message) -> dict[str, JSON]:
    """``{"type": "message", ...}`` with the message's record fields kept."""
    rec: dict[str, JSON] = {"type": "message", "session_id": sid}
    rf = msg.record_fields
    for k, v in rf.items():
        if k != "timestamp":
            rec[k] = v
    rec["message"] = msg.to_dict()
    if "timestamp" in rf:
        rec["timestamp"] = rf["timestamp"]
    return rec


def checkpoint_record(sid: str, cp: Checkpoint, now: str) -> dict[str, JSON]:
    """A checkpoint record: as read when it came from a file, else legacy form."""
    rec: dict[str, JSON] = {"type": "checkpoint", "session_id": sid}
    if cp.record:
        rec.update(cp.record)
        rec["type"], rec["session_id"] = "checkpoint", sid
        if cp.messages is not None and "checkpoint_messages" in cp.record:
            rec["checkpoint_messages"] = [m.to_dict() for m in cp.messages]
        return rec
    if cp.messages is not None:
        rec["checkpoint_messages"] = [m.to_dict() for m in cp.messages]
    else:
        rec["checkpoint_summary_msg_id"] = cp.summary_msg_id
        if cp.last_msg_id:
            rec["checkpoint_last_msg_id"] = cp.last_msg_id
    if cp.tokens:
        rec["checkpoint_tokens"] = cp.tokens
    rec["timestamp"] = now
    return rec


def tunnel_record(sid: str, ev: TunnelEvent) -> dict[str, JSON]:
    rec: dict[str, JSON] = {"type": "tunnel_event", "session_id": sid}
    for k, v in ev.record_fields.items():
        if k != "timestamp":
            rec[k] = v
    rec["tunnel_event"] = ev.to_dict()
    if "timestamp" in ev.record_fields:
        rec["timestamp"] = ev.record_fields["timestamp"]
    return rec


def serialize(ses: Session, now: str) -> Iterator[bytes]:
    """Every line of ``ses``'s file: the records as loaded, in place, with the
    session's current messages, checkpoints, events, metadata and cost."""
    sid = ses.id
    layout = ses._layout
    kinds = [k for k, _ in layout]
    last_meta = max((i for i, k in enumerate(kinds) if k == "meta"), default=-1)
    last_cost = max((i for i, k in enumerate(kinds) if k == "cost"), default=-1)
    if last_meta < 0:
        yield dumps_line(meta_record(ses))  # every file starts self-describing
    msgs, cps, tevs = ses.messages, ses.checkpoints, ses.tunnel_events
    mi = ci = ti = 0
    for i, (kind, rec) in enumerate(layout):
        if kind == "meta":
            yield dumps_line(meta_record(ses, rec) if i == last_meta else rec)
        elif kind == "msg":
            if mi < len(msgs):
                yield dumps_line(message_record(sid, msgs[mi]))
            mi += 1
        elif kind == "cp":
            if ci < len(cps):
                yield dumps_line(checkpoint_record(sid, cps[ci], now))
            ci += 1
        elif kind == "tev":
            if ti < len(tevs):
                yield dumps_line(tunnel_record(sid, tevs[ti]))
            ti += 1
        elif kind == "cost":
            if i == last_cost and ses.cost is not None:
                yield dumps_line({**rec, "cost": ses.cost})
            elif i != last_cost or rec.get("cost") is None:
                yield dumps_line(rec)  # (a last cost record without cost is kept too)
        else:
            yield dumps_line(rec)
    # What was added since the load: messages with the checkpoints taken
    # between them, then events, then a cost record if there was none.
    pending = cps[ci:]
    for k in range(mi, len(msgs)):
        while pending and pending[0].after_message <= k:
            yield dumps_line(checkpoint_record(sid, pending.pop(0), now))
        yield dumps_line(message_record(sid, msgs[k]))
    for cp in pending:
        yield dumps_line(checkpoint_record(sid, cp, now))
    for ev in tevs[ti:]:
        yield dumps_line(tunnel_record(sid, ev))
    if last_cost < 0 and ses.cost is not None:
        yield dumps_line({"type": "cost", "session_id": sid, "cost": ses.cost})
