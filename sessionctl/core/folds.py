"""The one reader of a session file's records, and the passes over them.

Every reader of the format goes through :func:`read_records`: tolerant
lines (blank, torn and malformed ones skipped), message records checked
once and read once per ``message.id`` (SPEC §6), metadata folded as the
reference does (the latest meta wins, sticky fields only when set), times
from meta and record timestamps (SPEC §7), checkpoints of both generations.
What every pass needs of a file (the listing's :class:`Summary`) comes out
of the reader itself; anything more is a :class:`Fold` that the reader
calls record by record: :class:`SessionFold` builds a loaded Session, the
export's spool renders messages as they pass, search and usage collect
their own. A new pass over the records is one more fold.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .models import Message, TunnelEvent, is_message_object
from .records import Readable, iter_lines, reread_exact
from .session import Checkpoint, Session
from .text import derive_title, is_blank
from .times import ZERO_TIME, parse_ns

__all__ = [
    "Fold",
    "MetaFold",
    "Reading",
    "SessionFold",
    "Summary",
    "checkpoint_of",
    "read_records",
    "read_session",
    "summarize",
    "user_text",
]

JSON = Any

# Meta fields that a later meta only changes when it has a value (SPEC §6).
_STICKY = ("workspace", "permission_mode", "sidebar_visible", "context_window", "max_tokens")
_META_STR = ("title", "workspace", "vendor", "endpoint", "model", "preview")
_UNSET = (None, "", 0, False)  # a sticky field with such a value is not set


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


class Fold:
    """A pass over a file's records, called by :func:`read_records` in file
    order. Each hook does nothing unless overridden.

    ``message`` gets every kept message (valid, not a duplicate), with its
    0-based index in the full history; ``other`` gets every record no other
    hook took (duplicates, unknown types such as ``usage`` and ``metric``,
    malformed records that are still JSON objects), so that a fold sees
    each record exactly once.
    """

    def message(self, index: int, m: dict[str, JSON], rec: dict[str, JSON], line: bytes) -> None:
        """A kept message record (``m`` is its message object)."""

    def meta(self, rec: dict[str, JSON]) -> None:
        """A ``meta`` record."""

    def checkpoint(self, cp: Checkpoint, rec: dict[str, JSON]) -> None:
        """A checkpoint (after the messages read so far)."""

    def tunnel_event(self, ev: dict[str, JSON], rec: dict[str, JSON], line: bytes) -> None:
        """A tunnel event record (``ev`` is its event object)."""

    def cost(self, rec: dict[str, JSON], line: bytes) -> None:
        """A ``cost`` record."""

    def other(self, rec: dict[str, JSON], line: bytes) -> None:
        """Any other record (duplicates, unknown or malformed ones)."""


@dataclass
class Reading:
    """What one read of a file found, whatever the fold."""

    mf: MetaFold = field(default_factory=lambda: MetaFold())
    ids: list[str] = field(default_factory=list)  # per kept message ("" if none)
    checkpoints: list[Checkpoint] = field(default_factory=list)
    first_text: str = ""  # the first user text of a message
    cp_interaction: bool = False  # user text in a checkpoint's own messages

    @property
    def count(self) -> int:
        """Messages in the full history (duplicates read once)."""
        return len(self.ids)

    @property
    def user_interaction(self) -> bool:
        """SPEC §1: some user text, before a checkpoint or after (SPEC §5)."""
        return bool(self.first_text) or self.cp_interaction

    def summary(self) -> Summary:
        """What ``list`` keeps of the file."""
        created, updated = self.mf.times()
        f = self.mf.fields
        return Summary(
            title=f.get("title", ""),
            workspace=f.get("workspace", ""),
            vendor=f.get("vendor", ""),
            endpoint=f.get("endpoint", ""),
            model=f.get("model", ""),
            preview=f.get("preview", ""),
            created=created,
            updated=updated,
            msg_count=self.count,
            has_meta=self.mf.has_meta,
            user_interaction=self.user_interaction,
            first_user_text=derive_title(self.first_text) if self.first_text else "",
        )


_NO_FOLD = Fold()


def read_records(
    lines: Iterable[bytes] | Readable, fold: Fold | None = None, *,
    exact: bool = False, exact_shown: bool = False,
) -> Reading:
    """Read a file's records once, calling ``fold`` for each; what every
    pass needs comes back as a :class:`Reading`. Memory: the longest line.

    ``exact``: every line that may hold an integer beyond 64 bits is read
    exactly (the load -> save path). ``exact_shown``: only the records an
    export shows besides messages (checkpoints, tunnel events, the cost);
    a fold that shows messages re-reads their lines itself when needed
    (:func:`~sessionctl.core.records.reread_exact`).
    """
    fold = fold or _NO_FOLD
    reading = Reading()
    mf = reading.mf
    ids, checkpoints = reading.ids, reading.checkpoints
    seen: set[str] = set()
    # The hot loop of every read (one pass per line of a file of 100,000s
    # of lines): lookups hoisted, the timestamp fold inlined.
    keep_ts, add_id, on_message = mf._raw_ts.append, ids.append, fold.message
    for line, rec in iter_lines(lines, exact=exact):
        rtype = rec.get("type")
        if rtype == "message":
            m: JSON = rec.get("message")
            if is_message_object(m):
                mid = m.get("id")
                if mid:
                    if mid in seen:
                        fold.other(rec, line)  # a duplicate: read once
                        continue
                    seen.add(mid)
                ts = rec.get("timestamp")
                if isinstance(ts, str) and ts and ts != ZERO_TIME:
                    keep_ts(ts)
                if not reading.first_text and m.get("role") == "user":
                    reading.first_text = user_text(m)
                on_message(len(ids), m, rec, line)
                add_id(mid or "")
                continue
        elif rtype == "meta":
            mf.meta(rec)
            fold.meta(rec)
            continue
        elif rtype == "checkpoint":
            if exact_shown:
                rec = reread_exact(line, rec)
            mf.timestamp(rec)
            cp = checkpoint_of(rec, len(ids))
            if cp is not None:
                if not reading.cp_interaction and cp.messages:
                    reading.cp_interaction = any(user_text(c._raw) for c in cp.messages)
                checkpoints.append(cp)
                fold.checkpoint(cp, rec)
                continue
        elif rtype == "tunnel_event":
            ev = rec.get("tunnel_event")
            if isinstance(ev, dict):
                if exact_shown:
                    rec = reread_exact(line, rec)
                    ev = rec.get("tunnel_event")
                    assert isinstance(ev, dict)
                mf.timestamp(rec)
                fold.tunnel_event(ev, rec, line)
                continue
        elif rtype == "cost":
            fold.cost(reread_exact(line, rec) if exact_shown else rec, line)
            continue
        elif rtype in ("usage", "metric"):
            mf.timestamp(rec)
        fold.other(rec, line)
    return reading


def summarize(lines: Iterable[bytes] | Readable) -> Summary:
    """What ``list`` needs of a file, in one pass; memory bounded by the
    longest line."""
    return read_records(lines).summary()


_MSG = ("msg", None)
_CP = ("cp", None)
_TEV = ("tev", None)


class SessionFold(Fold):
    """Builds the loaded :class:`Session`, keeping every record in its place
    (``Session._layout``) so that ``save`` writes back what was read."""

    def __init__(self, session_id: str) -> None:
        self.session = Session(session_id)
        self._messages = self.session.messages
        self._layout = self.session._layout
        self._wrap = Message.of_record

    def message(self, index: int, m: dict[str, JSON], rec: dict[str, JSON], line: bytes) -> None:
        self._messages.append(self._wrap(m, rec))
        self._layout.append(_MSG)

    def meta(self, rec: dict[str, JSON]) -> None:
        self._layout.append(("meta", rec))

    def checkpoint(self, cp: Checkpoint, rec: dict[str, JSON]) -> None:
        self.session.checkpoints.append(cp)
        self._layout.append(_CP)

    def tunnel_event(self, ev: dict[str, JSON], rec: dict[str, JSON], line: bytes) -> None:
        tev = TunnelEvent.from_dict(ev)
        tev.record_fields = record_fields_of(rec, "tunnel_event")
        self.session.tunnel_events.append(tev)
        self._layout.append(_TEV)

    def cost(self, rec: dict[str, JSON], line: bytes) -> None:
        self.session.cost = rec.get("cost")
        self._layout.append(("cost", rec))

    def other(self, rec: dict[str, JSON], line: bytes) -> None:
        self._layout.append(("raw", rec))  # kept verbatim in place


def read_session(session_id: str, lines: Iterable[bytes] | Readable) -> tuple[Session, Reading]:
    """Build a :class:`Session` from a file's lines, read exactly (times
    and index fallbacks are left to the caller)."""
    fold = SessionFold(session_id)
    reading = read_records(lines, fold, exact=True)
    ses = fold.session
    f = reading.mf.fields
    ses.title = f.get("title", "")
    ses.workspace = f.get("workspace", "")
    ses.vendor = f.get("vendor", "")
    ses.endpoint = f.get("endpoint", "")
    ses.model = f.get("model", "")
    ses.tunnel_events_complete = reading.mf.tunnel_events_complete
    return ses, reading


def user_text(message: JSON) -> str:
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



def record_fields_of(rec: dict[str, JSON], payload: str = "message") -> dict[str, JSON]:
    return {k: v for k, v in rec.items() if k not in ("type", "session_id", payload)}



def checkpoint_of(rec: dict[str, JSON], after: int) -> Checkpoint | None:
    """A checkpoint record as a :class:`Checkpoint` after message ``after``;
    ``None`` for a malformed one (kept verbatim as an unknown record)."""
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


