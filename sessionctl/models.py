"""The session data model: records' payloads as typed, loss-free objects.

``ContentBlock``, ``Message`` and ``TunnelEvent`` wrap the JSON object they
were read from, so fields this version does not know (written by newer
agents) and the stored key order survive a load -> save round trip. Typed
properties read the known fields; a known field holding the wrong JSON type
reads as unset but is still written back unchanged.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .text import derive_title, is_blank
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


class Message:
    """One conversation message: a role and its content blocks.

    ``record_fields`` holds the record-level fields that travel with the
    message on disk (``timestamp``, ``token_usage``, ...), so they survive a
    round trip too.
    """

    __slots__ = ("_raw", "content", "record_fields")
    _raw: dict[str, JSON]
    content: list[ContentBlock]
    record_fields: dict[str, JSON]

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
        self.content = list(content or [])
        self.record_fields = {}
        if timestamp is not None:
            self.record_fields["timestamp"] = timestamp

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
        msg.content = [ContentBlock.from_dict(b._raw) for b in msg.content]
        return msg

    @classmethod
    def _wrap(cls, d: object, record_fields: dict[str, JSON] | None = None) -> Message | None:
        """Wrap a parsed object without copying; ``None`` if it is no message."""
        if not isinstance(d, dict) or not isinstance(d.get("role"), str):
            return None
        content = d.get("content")
        blocks: list[ContentBlock] = []
        if content is not None:
            if not isinstance(content, list):
                return None
            new = ContentBlock.__new__
            for b in content:
                if not isinstance(b, dict):
                    return None
                block = new(ContentBlock)
                block._raw = b
                blocks.append(block)
        mid = d.get("id")
        if mid is not None and not isinstance(mid, str):
            return None
        obj = cls.__new__(cls)
        obj._raw = d
        obj.content = blocks
        obj.record_fields = record_fields if record_fields is not None else {}
        return obj

    def to_dict(self) -> dict[str, JSON]:
        """The on-disk message object (``{"id"?, "role", "content", ...}``)."""
        d = dict(self._raw)
        d["content"] = [b._raw for b in self.content]
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
        v = self.record_fields.get("timestamp")
        return v if isinstance(v, str) else ""

    @property
    def extra(self) -> dict[str, JSON]:
        """Message fields this version does not know."""
        return {k: v for k, v in self._raw.items() if k not in ("id", "role", "content")}

    def texts(self) -> list[str]:
        """The text of every ``text`` block, in order."""
        return [b.text for b in self.content if b.type == "text"]

    def ensure_identity(self, now: int) -> None:
        """Give the message an id and a timestamp if it lacks them (SPEC §6)."""
        if not self.id:
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
        return any(
            m.role == "user" and any(not is_blank(t) for t in m.texts()) for m in self.messages
        ) or any(
            m.role == "user" and any(not is_blank(t) for t in m.texts())
            for cp in self.checkpoints
            if cp.messages
            for m in cp.messages
        )

    def first_user_text(self) -> str:
        """The first non-blank user text, from which an empty title is derived."""
        for m in self.messages:
            if m.role == "user":
                for t in m.texts():
                    if not is_blank(t):
                        return t
        return ""

    def checkpoint_summaries(self) -> list[dict[str, int]]:
        """``[{"after_message", "tokens", "messages"}]`` for each usable checkpoint."""
        out = []
        for i, cp in enumerate(self.checkpoints):
            ctx = context_of(self.messages[: cp.after_message], self.checkpoints[: i + 1])
            if cp.is_legacy and not cp.messages:
                continue
            if not cp.is_legacy and not _find(self.messages, cp.summary_msg_id):
                continue
            out.append({"after_message": cp.after_message, "tokens": cp.tokens, "messages": len(ctx)})
        return out

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
        """Rebuild what :meth:`to_dict` shows (checkpoints become legacy ones)."""
        ses = cls(
            str(d["id"]),
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


def _find(messages: list[Message], msg_id: str) -> int | None:
    if not msg_id:
        return None
    for i, m in enumerate(messages):
        if m.id == msg_id:
            return i
    return None


def context_of(messages: list[Message], checkpoints: list[Checkpoint]) -> list[Message]:
    """Resume context: the last usable checkpoint's messages, then later ones.

    A legacy checkpoint with no messages, or a v1.3.2xx one whose summary is
    not in the history, is skipped (SPEC §6), as the agent skips it.
    """
    for cp in reversed(checkpoints):
        if cp.is_legacy:
            if not cp.messages:
                continue
            return list(cp.messages) + messages[cp.after_message :]
        s = _find(messages, cp.summary_msg_id)
        if s is None:
            continue
        last = _find(messages, cp.last_msg_id)
        start = last + 1 if last is not None and last > s else s + 1
        return [messages[s], *messages[start:]]
    return list(messages)


@dataclass(frozen=True)
class SessionInfo:
    """One row of ``list``: a session's metadata without its messages.

    ``created``/``updated`` are (nanoseconds, RFC 3339 string as stored).
    ``hidden`` marks sessions without user text.
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
        return {
            "id": self.id,
            "title": self.title,
            "workspace": self.workspace,
            "vendor": self.vendor,
            "endpoint": self.endpoint,
            "model": self.model,
            "created_at": self.created[1],
            "updated_at": self.updated[1],
            "msg_count": self.msg_count,
            "hidden": self.hidden,
        }
