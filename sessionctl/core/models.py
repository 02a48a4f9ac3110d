"""The session data model: records' payloads as typed, loss-free objects.

``ContentBlock``, ``Message`` and ``TunnelEvent`` wrap the JSON object they
were read from, so fields this version does not know (written by newer
agents) and the stored key order survive a load -> save round trip. Typed
properties read the known fields; a known field holding the wrong JSON type
reads as unset but is still written back unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from .text import is_blank
from .times import format_ns, from_datetime, parse_ns, to_datetime

__all__ = [
    "Checkpoint",
    "ContentBlock",
    "Message",
    "Session",
    "SessionInfo",
    "TunnelEvent",
]

JSON = Any
_BLOCK_FIELDS = (
    "type",
    "text",
    "image_mime",
    "image_data",
    "tool_name",
    "tool_id",
    "input",
    "output",
    "is_error",
    "images",
    "reasoning_content",
    "thinking_signature",
    "thinking_data",
)


# Record keys that are not "record fields" of the message they carry.
_RECORD_OWN = ("type", "session_id", "message")


def _str(raw: dict[str, JSON], key: str) -> str:
    v = raw.get(key)
    return v if isinstance(v, str) else ""


def _set(raw: dict[str, JSON], key: str, value: JSON) -> None:
    if value is None:
        raw.pop(key, None)
    else:
        raw[key] = value


class ContentBlock:
    """One block of a message: text, image, tool call, tool result, thinking..."""

    __slots__ = ("_raw",)
    _raw: dict[str, JSON]

    def __init__(self, type: str = "text", **fields: JSON) -> None:
        self._raw = {"type": type}
        for key, value in fields.items():
            if value is not None:
                self._raw[key] = value

    @classmethod
    def from_dict(cls, d: dict[str, JSON]) -> ContentBlock:
        """A block from its on-disk JSON object (copied; unknown keys kept)."""
        if not isinstance(d, dict):
            raise TypeError("a content block is a JSON object")
        return cls._wrap(dict(d))

    @classmethod
    def _wrap(cls, d: dict[str, JSON]) -> ContentBlock:
        obj = cls.__new__(cls)
        obj._raw = d
        return obj

    def to_dict(self) -> dict[str, JSON]:
        """The on-disk JSON object, key order as read."""
        return dict(self._raw)

    @property
    def type(self) -> str:
        return _str(self._raw, "type")

    @type.setter
    def type(self, value: str) -> None:
        self._raw["type"] = value

    @property
    def text(self) -> str:
        return _str(self._raw, "text")

    @text.setter
    def text(self, value: str | None) -> None:
        _set(self._raw, "text", value)

    @property
    def image_mime(self) -> str:
        return _str(self._raw, "image_mime")

    @property
    def image_data(self) -> str:
        return _str(self._raw, "image_data")

    @property
    def tool_name(self) -> str:
        return _str(self._raw, "tool_name")

    @property
    def tool_id(self) -> str:
        return _str(self._raw, "tool_id")

    @property
    def input(self) -> JSON:
        return self._raw.get("input")

    @property
    def output(self) -> str:
        return _str(self._raw, "output")

    @property
    def is_error(self) -> bool:
        return self._raw.get("is_error") is True

    @property
    def images(self) -> list[JSON]:
        v = self._raw.get("images")
        return v if isinstance(v, list) else []

    @property
    def reasoning_content(self) -> str:
        return _str(self._raw, "reasoning_content")

    @property
    def thinking_signature(self) -> str:
        return _str(self._raw, "thinking_signature")

    @property
    def thinking_data(self) -> str:
        return _str(self._raw, "thinking_data")

    @property
    def extra(self) -> dict[str, JSON]:
        """Fields this version does not know, as written by a newer agent."""
        return {k: v for k, v in self._raw.items() if k not in _BLOCK_FIELDS}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ContentBlock) and other._raw == self._raw

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"ContentBlock({self._raw!r})"


def is_message_object(m: object) -> bool:
    """Whether a parsed JSON value is a message: a string role, a list of
    block objects (or null) and a string id if any (what the reference's
    typed decoding accepts)."""
    if not isinstance(m, dict) or not isinstance(m.get("role"), str):
        return False
    content = m.get("content")
    if content is not None:
        if not isinstance(content, list):
            return False
        for b in content:
            if not isinstance(b, dict):
                return False
    mid = m.get("id")
    return mid is None or isinstance(mid, str)


class Message:
    """One conversation message: a role and its content blocks.

    ``record_fields`` holds the record-level fields that travel with the
    message on disk (``timestamp``, ``token_usage``, ...), so they survive a
    round trip too.

    A message read from a file wraps the parsed objects as they are: the
    ``content`` blocks and ``record_fields`` are only built when first used,
    so loading 100,000 messages costs little more than parsing them.
    """

    __slots__ = ("_content", "_raw", "_rec", "_rf")
    _raw: dict[str, JSON]
    _content: list[ContentBlock] | None
    _rf: dict[str, JSON] | None
    _rec: dict[str, JSON] | None

    def __init__(
        self,
        role: str,
        content: list[ContentBlock] | None = None,
        *,
        id: str | None = None,
        timestamp: str | None = None,
    ) -> None:
        self._raw = {"role": role, "content": None}
        if id is not None:
            self._raw = {"id": id, "role": role, "content": None}
        self._content = list(content or [])
        self._rec = None
        self._rf = {}
        if timestamp is not None:
            self._rf["timestamp"] = timestamp

    @classmethod
    def text_message(cls, role: str, text: str) -> Message:
        """A message holding one text block."""
        return cls(role, [ContentBlock("text", text=text)])

    @classmethod
    def from_dict(cls, d: dict[str, JSON]) -> Message:
        """A message from its on-disk JSON shape; raises ``ValueError`` if not one."""
        msg = cls._wrap(dict(d))
        if msg is None:
            raise ValueError("not a message object: needs a string role and a list of blocks")
        msg._content = [ContentBlock.from_dict(b._raw) for b in msg.content]
        return msg

    @classmethod
    def _wrap(cls, d: object, record: dict[str, JSON] | None = None) -> Message | None:
        """Wrap a parsed object without copying; ``None`` if it is no message.

        ``record`` is the record it came from (its other fields become
        ``record_fields`` when asked for).
        """
        if not is_message_object(d):
            return None
        assert isinstance(d, dict)
        obj = cls.__new__(cls)
        obj._raw = d
        obj._content = None
        obj._rec = record
        obj._rf = None if record is not None else {}
        return obj

    @classmethod
    def _wrap_checked(cls, d: dict[str, JSON]) -> Message:
        """Wrap an object already known to be a valid message (hot path)."""
        obj = cls.__new__(cls)
        obj._raw = d
        obj._content = None
        obj._rec = None
        obj._rf = {}
        return obj

    @property
    def content(self) -> list[ContentBlock]:
        """The message's blocks (a list you may change)."""
        if self._content is None:
            raw = self._raw.get("content") or []
            new = ContentBlock.__new__
            blocks = []
            for b in raw:
                block = new(ContentBlock)
                block._raw = b
                blocks.append(block)
            self._content = blocks
        return self._content

    @content.setter
    def content(self, value: list[ContentBlock]) -> None:
        self._content = value

    @property
    def record_fields(self) -> dict[str, JSON]:
        """Record-level fields kept with the message (a dict you may change)."""
        if self._rf is None:
            rec = self._rec or {}
            self._rf = {k: v for k, v in rec.items() if k not in _RECORD_OWN}
        return self._rf

    @record_fields.setter
    def record_fields(self, value: dict[str, JSON]) -> None:
        self._rf = value

    def to_dict(self) -> dict[str, JSON]:
        """The on-disk message object (``{"id"?, "role", "content", ...}``)."""
        d = dict(self._raw)
        if self._content is None:
            d["content"] = list(d.get("content") or [])
        else:
            d["content"] = [b._raw for b in self._content]
        return d

    @property
    def role(self) -> str:
        return _str(self._raw, "role")

    @role.setter
    def role(self, value: str) -> None:
        self._raw["role"] = value

    @property
    def id(self) -> str:
        return _str(self._raw, "id")

    @id.setter
    def id(self, value: str) -> None:
        if "id" in self._raw:
            self._raw["id"] = value
        else:
            self._raw = {"id": value, **self._raw}

    @property
    def timestamp(self) -> str:
        """The record-level ``timestamp`` (RFC 3339) or ``""``."""
        fields = self._rf if self._rf is not None else self._rec or {}
        v = fields.get("timestamp")
        return v if isinstance(v, str) else ""

    @property
    def extra(self) -> dict[str, JSON]:
        """Message fields this version does not know."""
        return {k: v for k, v in self._raw.items() if k not in ("id", "role", "content")}

    def texts(self) -> list[str]:
        """The text of every ``text`` block, in order."""
        if self._content is None:
            out = []
            for b in self._raw.get("content") or ():
                if b.get("type") == "text":
                    t = b.get("text")
                    out.append(t if isinstance(t, str) else "")
            return out
        return [b.text for b in self._content if b.type == "text"]

    def ensure_identity(self, now: int) -> None:
        """Give the message an id and a timestamp if it lacks them (SPEC §6)."""
        if not self.id:
            import uuid  # only writers pay for it

            self.id = f"msg_{uuid.uuid4()}"
        if parse_ns(self.record_fields.get("timestamp")) is None:
            self.record_fields["timestamp"] = format_ns(now)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Message) and other.to_dict() == self.to_dict()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Message({self.to_dict()!r})"


class TunnelEvent:
    """A persisted tunnel event: ``event_id``, ``stream_id``, ``type``, ``data``."""

    __slots__ = ("_raw", "record_fields")
    _raw: dict[str, JSON]
    record_fields: dict[str, JSON]

    def __init__(
        self, event_id: str, type: str, *, stream_id: str | None = None, data: JSON = None
    ) -> None:
        self._raw = {"event_id": event_id}
        if stream_id:
            self._raw["stream_id"] = stream_id
        self._raw["type"] = type
        if data is not None:
            self._raw["data"] = data
        self.record_fields = {}

    @classmethod
    def from_dict(cls, d: dict[str, JSON]) -> TunnelEvent:
        """An event from its on-disk JSON object (unknown keys kept)."""
        if not isinstance(d, dict):
            raise TypeError("a tunnel event is a JSON object")
        obj = cls.__new__(cls)
        obj._raw = dict(d)
        obj.record_fields = {}
        return obj

    def to_dict(self) -> dict[str, JSON]:
        return dict(self._raw)

    @property
    def event_id(self) -> str:
        return _str(self._raw, "event_id")

    @property
    def stream_id(self) -> str:
        return _str(self._raw, "stream_id")

    @property
    def type(self) -> str:
        return _str(self._raw, "type")

    @property
    def data(self) -> JSON:
        return self._raw.get("data")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TunnelEvent) and other._raw == self._raw

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"TunnelEvent({self._raw!r})"


@dataclass(eq=False)
class Checkpoint:
    """Where the agent compacted its history, and what it compacted it to.

    ``after_message`` is the number of full-history messages before the
    checkpoint. A legacy checkpoint carries its ``messages``; a v1.3.2xx one
    names a summary message (``summary_msg_id``) and the last message it
    covers (``last_msg_id``) instead.
    """

    after_message: int
    tokens: int = 0
    messages: list[Message] | None = None
    summary_msg_id: str = ""
    last_msg_id: str = ""
    record: dict[str, JSON] = field(default_factory=dict)

    @property
    def is_legacy(self) -> bool:
        return self.messages is not None


class Session:
    """One conversation: metadata, the full message history and its checkpoints.

    ``messages`` is every message in file order; ``context_messages`` is what
    ``--resume`` feeds the agent (derived from ``messages`` and
    ``checkpoints``, never a second copy).
    """

    def __init__(
        self,
        id: str,
        *,
        created_at: datetime | None = None,
        updated_at: datetime | None = None,
        title: str = "",
        workspace: str = "",
        vendor: str = "",
        endpoint: str = "",
        model: str = "",
        messages: list[Message] | None = None,
        tunnel_events: list[TunnelEvent] | None = None,
        tunnel_events_complete: bool = False,
        cost: JSON = None,
        checkpoints: list[Checkpoint] | None = None,
    ) -> None:
        self.id = id
        self.title = title
        self.workspace = workspace
        self.vendor = vendor
        self.endpoint = endpoint
        self.model = model
        self.messages: list[Message] = list(messages or [])
        self.tunnel_events: list[TunnelEvent] = list(tunnel_events or [])
        self.tunnel_events_complete = tunnel_events_complete
        self.cost: JSON = cost
        self.checkpoints: list[Checkpoint] = list(checkpoints or [])
        # Times are kept as nanoseconds plus the string they were read from,
        # so they are written back exactly (datetime has no nanoseconds).
        self._created: tuple[int, str] | None = None
        self._updated: tuple[int, str] | None = None
        if created_at is not None:
            self.created_at = created_at
        if updated_at is not None:
            self.updated_at = updated_at
        # The records as loaded, for a loss-free save (see records.py), and
        # the metadata of the file's last meta (appends compare against it).
        self._layout: list[tuple[str, JSON]] = []
        self._disk_meta: tuple[str, str, str, str, str, bool] | None = None
        self._disk_meta_raw: dict[str, JSON] | None = None

    # -- times ---------------------------------------------------------
    @property
    def created_at(self) -> datetime:
        return to_datetime(self._created[0]) if self._created else to_datetime(0)

    @created_at.setter
    def created_at(self, value: datetime) -> None:
        ns = from_datetime(value)
        self._created = (ns, format_ns(ns))

    @property
    def updated_at(self) -> datetime:
        return to_datetime(self._updated[0]) if self._updated else to_datetime(0)

    @updated_at.setter
    def updated_at(self, value: datetime) -> None:
        ns = from_datetime(value)
        self._updated = (ns, format_ns(ns))

    def _set_times(self, created: tuple[int, str] | None, updated: tuple[int, str] | None) -> None:
        self._created = created
        self._updated = updated

    @property
    def created_ns(self) -> int:
        return self._created[0] if self._created else 0

    @property
    def updated_ns(self) -> int:
        return self._updated[0] if self._updated else 0

    @property
    def created_at_str(self) -> str:
        """``created_at`` as stored (RFC 3339, nanoseconds kept)."""
        return self._created[1] if self._created else format_ns(0)

    @property
    def updated_at_str(self) -> str:
        return self._updated[1] if self._updated else format_ns(0)

    # -- derived views ------------------------------------------------
    @property
    def context_messages(self) -> list[Message]:
        """The resume context: the last usable checkpoint's messages + later ones."""
        return context_of(self.messages, self.checkpoints)

    def has_user_interaction(self) -> bool:
        """True if a ``user`` message (anywhere in the history) has non-blank text."""
        if self.first_user_text():
            return True
        return any(
            _user_text(m) for cp in self.checkpoints if cp.messages for m in cp.messages
        )

    def first_user_text(self) -> str:
        """The first non-blank user text, from which an empty title is derived."""
        for m in self.messages:
            text = _user_text(m)
            if text:
                return text
        return ""

    def checkpoint_summaries(self) -> list[dict[str, int]]:
        """``[{"after_message", "tokens", "messages"}]`` for each usable checkpoint."""
        return checkpoint_summaries_of(self.checkpoints, _id_index(self.messages))

    def to_dict(self) -> dict[str, JSON]:
        """The loaded session as ``show --json`` prints it (SPEC §5)."""
        return {
            "id": self.id,
            "title": self.title,
            "workspace": self.workspace,
            "vendor": self.vendor,
            "endpoint": self.endpoint,
            "model": self.model,
            "created_at": self.created_at_str,
            "updated_at": self.updated_at_str,
            "messages": [m.to_dict() for m in self.messages],
            "context_messages": [m.to_dict() for m in self.context_messages],
            "checkpoints": self.checkpoint_summaries(),
            "tunnel_events": [e.to_dict() for e in self.tunnel_events],
            "tunnel_events_complete": self.tunnel_events_complete,
            "cost": self.cost,
            "has_user_interaction": self.has_user_interaction(),
        }

    @classmethod
    def from_dict(cls, d: dict[str, JSON]) -> Session:
        """Rebuild what :meth:`to_dict` shows (checkpoints become legacy ones).

        Raises ``ValueError`` when ``d`` is not a session object.
        """
        if not isinstance(d, dict) or not isinstance(d.get("id"), str):
            raise ValueError("not a session object: needs a string id")
        ses = cls(
            d["id"],
            title=str(d.get("title") or ""),
            workspace=str(d.get("workspace") or ""),
            vendor=str(d.get("vendor") or ""),
            endpoint=str(d.get("endpoint") or ""),
            model=str(d.get("model") or ""),
            messages=[Message.from_dict(m) for m in d.get("messages") or []],
            tunnel_events=[TunnelEvent.from_dict(e) for e in d.get("tunnel_events") or []],
            tunnel_events_complete=bool(d.get("tunnel_events_complete")),
            cost=d.get("cost"),
        )
        for key in ("created_at", "updated_at"):
            raw = d.get(key)
            ns = parse_ns(raw)
            if ns is not None and isinstance(raw, str):
                setattr(ses, "_created" if key == "created_at" else "_updated", (ns, raw))
        # A checkpoint's messages are the context it established: the
        # context_messages list only holds the last one's, so rebuild that.
        summaries = d.get("checkpoints") or []
        if summaries:
            last = summaries[-1]
            after = int(last.get("after_message", 0))
            ctx = [Message.from_dict(m) for m in d.get("context_messages") or []]
            tail = len(ses.messages) - after
            kept = ctx[: len(ctx) - tail] if tail > 0 else ctx
            ses.checkpoints.append(
                Checkpoint(after_message=after, tokens=int(last.get("tokens", 0)), messages=kept)
            )
        return ses

    def __repr__(self) -> str:
        return f"Session(id={self.id!r}, title={self.title!r}, messages={len(self.messages)})"


def _user_text(m: Message) -> str:
    """The first non-blank text of a ``user`` message, else ``""``."""
    if m.role == "user":
        for t in m.texts():
            if not is_blank(t):
                return t
    return ""


def _id_index(messages: list[Message]) -> dict[str, int]:
    """Message id -> index of its first occurrence (one pass, not one per lookup)."""
    ids: dict[str, int] = {}
    for i, m in enumerate(messages):
        mid = m._raw.get("id")
        if isinstance(mid, str) and mid and mid not in ids:
            ids[mid] = i
    return ids


def _resume_point(
    checkpoints: list[Checkpoint], ids: dict[str, int], limit: int
) -> tuple[Checkpoint | None, int, int | None]:
    """The last usable checkpoint among the first ``limit`` messages: (it,
    index of the first message after it, index of its summary message)."""
    for cp in reversed(checkpoints):
        if cp.is_legacy:
            if cp.messages:
                return cp, cp.after_message, None
            continue
        s = ids.get(cp.summary_msg_id) if cp.summary_msg_id else None
        if s is None or s >= limit:
            continue
        last = ids.get(cp.last_msg_id) if cp.last_msg_id else None
        if last is not None and last >= limit:
            last = None
        return cp, (last + 1 if last is not None and last > s else s + 1), s
    return None, 0, None


def checkpoint_summaries_of(
    checkpoints: list[Checkpoint], ids: dict[str, int]
) -> list[dict[str, int]]:
    """:meth:`Session.checkpoint_summaries`, given the message id index."""
    out = []
    for i, cp in enumerate(checkpoints):
        if cp.is_legacy and not cp.messages:
            continue
        if not cp.is_legacy and ids.get(cp.summary_msg_id) is None:
            continue
        limit = cp.after_message
        found, start, s = _resume_point(checkpoints[: i + 1], ids, limit)
        if found is None:
            n = limit
        else:
            n = (1 if s is not None else len(found.messages or ())) + max(0, limit - start)
        out.append({"after_message": limit, "tokens": cp.tokens, "messages": n})
    return out


def context_of(messages: list[Message], checkpoints: list[Checkpoint]) -> list[Message]:
    """Resume context: the last usable checkpoint's messages, then later ones.

    A legacy checkpoint with no messages, or a v1.3.2xx one whose summary is
    not in the history, is skipped (SPEC §6), as the agent skips it.
    """
    if not checkpoints:
        return list(messages)
    found, start, s = _resume_point(checkpoints, _id_index(messages), len(messages))
    if found is None:
        return list(messages)
    if s is None:
        return list(found.messages or ()) + messages[start:]
    return [messages[s], *messages[start:]]


class SessionInfo(NamedTuple):
    """One row of ``list``: a session's metadata without its messages.

    ``created``/``updated`` are (nanoseconds, RFC 3339 string as stored).
    ``hidden`` marks sessions without user text. A named tuple rather than
    a dataclass: ``list`` builds one per session, and a tuple is built
    several times faster.
    """

    id: str
    title: str
    workspace: str
    vendor: str
    endpoint: str
    model: str
    created: tuple[int, str]
    updated: tuple[int, str]
    msg_count: int
    hidden: bool
    preview: str = ""

    @property
    def created_at(self) -> datetime:
        return to_datetime(self.created[0])

    @property
    def updated_at(self) -> datetime:
        return to_datetime(self.updated[0])

    def to_dict(self) -> dict[str, JSON]:
        """The row as ``list --json`` prints it (SPEC §7)."""
        # Unpacked at once: list --json calls this 10,000s of times.
        sid, title, workspace, vendor, endpoint, model, created, updated, count, hidden, _ = self
        return {
            "id": sid,
            "title": title,
            "workspace": workspace,
            "vendor": vendor,
            "endpoint": endpoint,
            "model": model,
            "created_at": created[1],
            "updated_at": updated[1],
            "msg_count": count,
            "hidden": hidden,
        }
