"""A conversation as loaded: metadata, the full history, its checkpoints,
and where ``--resume`` picks up (SPEC §1, §5, §6); and ``SessionInfo``,
one row of ``list``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from .models import Message, TunnelEvent
from .text import is_blank
from .times import format_ns, from_datetime, parse_ns, to_datetime

__all__ = ["Checkpoint", "Session", "SessionInfo", "context_of", "resume_point"]

JSON = Any


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


def resume_point(
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
        found, start, s = resume_point(checkpoints[: i + 1], ids, limit)
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
    found, start, s = resume_point(checkpoints, _id_index(messages), len(messages))
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
