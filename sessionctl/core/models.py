"""The session data model: records' payloads as typed, loss-free objects.

``ContentBlock``, ``Message`` and ``TunnelEvent`` wrap the JSON object they
were read from, so fields this version does not know (written by newer
agents) and the stored key order survive a load -> save round trip. Typed
properties read the known fields; a known field holding the wrong JSON type
reads as unset but is still written back unchanged.
"""

from __future__ import annotations

from typing import Any

from .times import format_ns, parse_ns

__all__ = ["ContentBlock", "Message", "TunnelEvent", "is_message_object"]

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

    @classmethod
    def of_record(cls, d: dict[str, JSON], record: dict[str, JSON]) -> Message:
        """Wrap, without copying, a message object already known to be valid
        (:func:`is_message_object`) and the record it came from (its other
        fields become ``record_fields`` when asked for)."""
        obj = cls.__new__(cls)
        obj._raw = d
        obj._content = None
        obj._rec = record
        obj._rf = None
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
