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
from dataclasses import dataclass, field
from typing import Any, Protocol, cast

import orjson

from ..errors import CorruptStore
from .models import Checkpoint, Message, Session, TunnelEvent
from .text import is_blank
from .times import ZERO_TIME, parse_ns

__all__ = [
    "InexactNumber",
    "MetaFold",
    "Readable",
    "Summary",
    "dumps_line",
    "exact_lines",
    "fold",
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


@dataclass
class MetaFold:
    """Metadata and times folded from a file's records in order."""

    has_meta: bool = False
    #: The last non-empty value of each sticky field (the plain fields are
    #: the last meta's own, read from it when asked).
    sticky: dict[str, JSON] = field(default_factory=dict)
    meta_created: tuple[int, str] | None = None
    meta_updated: tuple[int, str] | None = None
    first_ts: tuple[int, str] | None = None
    last_ts: tuple[int, str] | None = None
    last_meta: dict[str, JSON] | None = None

    @property
    def fields(self) -> dict[str, JSON]:
        """The metadata as read: each plain field from the last meta, each
        sticky one from the last meta that set it."""
        f: dict[str, JSON] = {}
        last = self.last_meta
        if last is not None:
            for key in _META_STR:
                if key not in _STICKY:
                    v = last.get(key)
                    f[key] = v if isinstance(v, str) else ""
        f.update(self.sticky)
        return f

    @property
    def tunnel_events_complete(self) -> bool:
        return self.last_meta is not None and self.last_meta.get("tunnel_events_complete") is True

    def meta(self, rec: dict[str, JSON]) -> None:
        # Hot path (a long session has thousands of metas): only the sticky
        # fields are looked at here.
        self.has_meta = True
        self.last_meta = rec
        for key in _STICKY:
            v = rec.get(key)
            if v is None:
                continue
            if key == "workspace":
                if isinstance(v, str) and v:
                    self.sticky[key] = v
            elif v not in _UNSET:
                self.sticky[key] = v
        # A meta with zero times counts as having none (SPEC §5); parsing
        # waits until the end (a long session has thousands of metas).
        c, u = rec.get("created_at"), rec.get("updated_at")
        if isinstance(c, str) and c and c != ZERO_TIME:
            self._raw_created.append(c)
        if isinstance(u, str) and u and u != ZERO_TIME:
            self._raw_updated.append(u)

    def timestamp(self, rec: dict[str, JSON]) -> None:
        ts = rec.get("timestamp")
        # Hot path (every record): only strings that can be times are kept
        # here; parsing waits until the end, and then only until the first
        # and the last *valid* ones are found (a bad one must not hide them).
        if isinstance(ts, str) and ts and ts != ZERO_TIME:
            self._raw_ts.append(ts)

    _raw_ts: list[str] = field(default_factory=list)
    _raw_created: list[str] = field(default_factory=list)
    _raw_updated: list[str] = field(default_factory=list)

    def _resolve(self) -> None:
        raws = self._raw_ts
        for attr, order in (
            ("first_ts", raws),
            ("last_ts", reversed(raws)),
            ("meta_created", reversed(self._raw_created)),
            ("meta_updated", reversed(self._raw_updated)),
        ):
            for raw in order:
                ns = parse_ns(raw)
                if ns is not None:
                    setattr(self, attr, (ns, raw))
                    break

    def compact(self) -> None:
        """Resolve the times and drop the raw strings (before pickling)."""
        self._resolve()
        self._raw_ts, self._raw_created, self._raw_updated = [], [], []

    def times(self) -> tuple[tuple[int, str] | None, tuple[int, str] | None]:
        """(created, updated) from the file alone (SPEC §7); ``None`` when unknown."""
        self._resolve()
        created = self.meta_created or self.first_ts
        candidates = [t for t in (self.meta_updated, self.last_ts) if t is not None]
        updated = max(candidates) if candidates else None
        return created, updated


def _user_text(message: JSON) -> str:
    """The first non-blank text of a ``user`` message object, else ``""``."""
    if not isinstance(message, dict) or message.get("role") != "user":
        return ""
    content = message.get("content")
    if not isinstance(content, list):
        return ""
    for b in content:
        if isinstance(b, dict) and b.get("type") == "text":
            t = b.get("text")
            if isinstance(t, str) and not is_blank(t):
                return t
    return ""


_MSG = ("msg", None)


def fold(session_id: str, lines: Iterable[bytes]) -> tuple[Session, MetaFold]:
    """Build a :class:`Session` from a file's lines (times left to the caller)."""
    return _fold(session_id, lines)


def _fold(session_id: str, lines: Iterable[bytes]) -> tuple[Session, MetaFold]:
    ses = Session(session_id)
    mf = MetaFold()
    layout = ses._layout
    seen_ids: set[str] = set()
    messages = ses.messages
    # The hot loop of load (one pass per line of a file of 100,000s of
    # lines): parsing and the timestamp fold are inlined.
    wrap, keep_ts, add_layout = Message._wrap, mf._raw_ts.append, layout.append
    for rec in iter_records(lines, exact=True):
        rtype = rec.get("type")
        if rtype == "message":
            msg = wrap(rec.get("message"), rec)
            if msg is not None:
                mid = msg._raw.get("id")
                if mid:
                    if mid in seen_ids:
                        add_layout(("raw", rec))  # a duplicate: read once, kept
                        continue
                    seen_ids.add(mid)
                ts = rec.get("timestamp")
                if isinstance(ts, str) and ts and ts != ZERO_TIME:
                    keep_ts(ts)
                messages.append(msg)
                add_layout(_MSG)
                continue
        elif rtype == "meta":
            mf.meta(rec)
            add_layout(("meta", rec))
            continue
        elif rtype == "checkpoint":
            cp = _checkpoint(rec, len(messages))
            mf.timestamp(rec)
            if cp is not None:
                ses.checkpoints.append(cp)
                add_layout(("cp", None))
                continue
        elif rtype == "tunnel_event":
            ev = rec.get("tunnel_event")
            if isinstance(ev, dict):
                tev = TunnelEvent.from_dict(ev)
                tev.record_fields = _record_fields(rec, "tunnel_event")
                ses.tunnel_events.append(tev)
                mf.timestamp(rec)
                add_layout(("tev", None))
                continue
        elif rtype == "cost":
            ses.cost = rec.get("cost")
            add_layout(("cost", rec))
            continue
        # Anything else (usage, metric, unknown or malformed-but-JSON
        # records) is kept verbatim in place.
        if isinstance(rtype, str) and rtype in ("usage", "metric"):
            mf.timestamp(rec)
        add_layout(("raw", rec))
    f = mf.fields
    ses.title = f.get("title", "")
    ses.workspace = f.get("workspace", "")
    ses.vendor = f.get("vendor", "")
    ses.endpoint = f.get("endpoint", "")
    ses.model = f.get("model", "")
    ses.tunnel_events_complete = mf.tunnel_events_complete
    return ses, mf


def _record_fields(rec: dict[str, JSON], payload: str = "message") -> dict[str, JSON]:
    return {k: v for k, v in rec.items() if k not in ("type", "session_id", payload)}


def _checkpoint(rec: dict[str, JSON], after: int) -> Checkpoint | None:
    tokens = rec.get("checkpoint_tokens")
    tokens = tokens if isinstance(tokens, int) and not isinstance(tokens, bool) else 0
    cm = rec.get("checkpoint_messages")
    if "checkpoint_messages" in rec and not isinstance(cm, list):
        return None  # malformed: kept verbatim as an unknown record
    if isinstance(cm, list):
        msgs = [Message._wrap(m) for m in cm]
        if any(m is None for m in msgs):
            return None
        return Checkpoint(after, tokens, [m for m in msgs if m is not None], record=rec)
    sid, lid = rec.get("checkpoint_summary_msg_id"), rec.get("checkpoint_last_msg_id")
    if isinstance(sid, str) and sid:
        return Checkpoint(
            after, tokens, None, summary_msg_id=sid,
            last_msg_id=lid if isinstance(lid, str) else "",
            record=rec,
        )
    # No messages and no summary: nothing to resume from, but kept as read.
    return Checkpoint(after, tokens, [], record=rec)


@dataclass
class Summary:
    """What ``list`` needs of one file, read without keeping messages."""

    title: str = ""
    workspace: str = ""
    vendor: str = ""
    endpoint: str = ""
    model: str = ""
    preview: str = ""
    created: tuple[int, str] | None = None
    updated: tuple[int, str] | None = None
    msg_count: int = 0
    has_meta: bool = False
    user_interaction: bool = False
    first_user_text: str = ""

    def to_json(self) -> list[JSON]:
        return [
            self.title, self.workspace, self.vendor, self.endpoint, self.model, self.preview,
            list(self.created) if self.created else None,
            list(self.updated) if self.updated else None,
            self.msg_count, self.has_meta, self.user_interaction, self.first_user_text,
        ]

    @classmethod
    def from_json(cls, v: list[JSON]) -> Summary:
        return cls(
            v[0], v[1], v[2], v[3], v[4], v[5],
            (v[6][0], v[6][1]) if v[6] else None,
            (v[7][0], v[7][1]) if v[7] else None,
            v[8], v[9], v[10], v[11],
        )


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
