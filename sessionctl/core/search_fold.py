"""The text search sees in a session: one more fold over the records.

For each message ``load`` keeps (full history, duplicates dropped by
``message.id``), the fold gives its 1-based place ``N`` in the full
history (what ``show --json`` lists and ``show --from N`` starts at), its
role, its text (text and thinking blocks) and its tool text (tool call
names and inputs, tool result output). Image data is never searched, nor
the legacy ``checkpoint_messages`` copies (the history has them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

from .folds import Fold
from .models import is_message_object

__all__ = ["SearchDoc", "SearchDocs", "SearchFold", "SeenIds", "message_parts"]

JSON = Any


class SearchDoc(NamedTuple):
    """One message as search indexes it (a tuple: one per message of every
    session is made when an index is built)."""

    n: int  # 1-based place in the full history
    role: str
    text: str  # text and thinking blocks
    tool: str  # tool call names and inputs, tool result output
    mid: str = ""


def _leaves(value: JSON, out: list[str]) -> None:
    """The strings and numbers of a JSON value (a tool call's input), keys
    included, in order; iterative (inputs may be deep)."""
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, str):
            out.append(v)
        elif isinstance(v, dict):
            items = list(v.items())
            for k, x in reversed(items):
                stack.append(x)
                stack.append(k)
        elif isinstance(v, list):
            stack.extend(reversed(v))
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            out.append(str(v))


def message_parts(message: dict[str, JSON]) -> tuple[str, str]:
    """(text, tool text) of a message object, each part's pieces joined by
    newlines."""
    text: list[str] = []
    tool: list[str] = []
    for b in message.get("content") or ():
        btype = b.get("type")
        if btype == "tool_use" or (btype != "tool_result" and "tool_name" in b and "input" in b):
            name = b.get("tool_name")
            if isinstance(name, str) and name:
                tool.append(name)
            if "input" in b:
                _leaves(b["input"], tool)
        elif btype == "tool_result":
            name = b.get("tool_name")
            if isinstance(name, str) and name:
                tool.append(name)
            for key in ("output", "text"):
                v = b.get(key)
                if isinstance(v, str) and v:
                    tool.append(v)
        elif btype == "image":
            continue
        else:
            for key in ("text", "reasoning_content"):
                v = b.get(key)
                if isinstance(v, str) and v:
                    text.append(v)
    return "\n".join(text), "\n".join(tool)


class SeenIds(Protocol):
    """Message ids read so far (a set, or a lookup in an index)."""

    def __contains__(self, mid: object, /) -> bool: ...

    def add(self, mid: str, /) -> None: ...


@dataclass
class SearchFold:
    """Numbers messages as ``load`` does; fed record by record, it may start
    part-way through a file (``count`` messages and ``seen`` ids so far)."""

    count: int = 0
    seen: SeenIds = field(default_factory=lambda: set[str]())

    def record(self, rec: dict[str, JSON]) -> SearchDoc | None:
        """The search document of a record, or ``None`` (not a message, or a
        duplicate of one already read)."""
        if rec.get("type") != "message":
            return None
        return self.message(rec.get("message"))

    def message(self, msg: JSON) -> SearchDoc | None:
        """The search document of one message object (``None`` if it is no
        message or a duplicate)."""
        if not is_message_object(msg):
            return None
        assert isinstance(msg, dict)
        mid = msg.get("id")
        if mid:
            if mid in self.seen:
                return None
            self.seen.add(mid)
        self.count += 1
        text, tool = message_parts(msg)
        return SearchDoc(self.count, msg["role"], text, tool, mid or "")


class SearchDocs(Fold):
    """The same documents as a :class:`~sessionctl.core.folds.Fold` of the
    one record reader (a whole file read by ``read_records``). The index
    itself reads with :class:`SearchFold`, which can start part-way through
    a file (after what it indexed before) and keeps each line's offset."""

    def __init__(self) -> None:
        self.docs: list[SearchDoc] = []

    def message(self, index: int, m: dict[str, JSON], rec: dict[str, JSON], line: bytes) -> None:
        text, tool = message_parts(m)
        mid = m.get("id")
        self.docs.append(SearchDoc(index + 1, m["role"], text, tool, mid or ""))
