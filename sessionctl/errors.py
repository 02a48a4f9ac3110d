"""The one error hierarchy of sessionctl.

Every failure the library reports is a :class:`SessionError`; each subclass
carries the CLI exit code it maps to, so the command line turns any of them
into ``sessionctl: <message>`` and the right code in one place.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "AmbiguousSessionId",
    "CorruptStore",
    "InvalidSessionId",
    "SessionError",
    "SessionExists",
    "SessionLocked",
    "SessionNotFound",
    "SessionPinned",
    "StoreIOError",
    "UsageError",
]


class SessionError(Exception):
    """Base of every error sessionctl raises on purpose."""

    exit_code: int = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class UsageError(SessionError):
    """A bad argument: an unparsable duration or date, a bad option value."""

    exit_code = 2


class InvalidSessionId(UsageError):
    """An id that could escape the store or is not an id at all."""

    def __init__(self, session_id: str) -> None:
        shown = repr(session_id) if len(session_id) <= 80 else repr(session_id[:77] + "...")
        super().__init__(f"invalid session id {shown}")
        self.session_id = session_id


class SessionNotFound(SessionError):
    """No session has that id (or id prefix)."""

    exit_code = 3

    def __init__(self, session_id: str, message: str | None = None) -> None:
        super().__init__(message or f"session {session_id} not found")
        self.session_id = session_id


class AmbiguousSessionId(SessionError):
    """A prefix that matches several sessions; ``candidates`` lists them."""

    exit_code = 3

    def __init__(self, prefix: str, candidates: Sequence[str]) -> None:
        super().__init__(
            f"session id prefix {prefix!r} is ambiguous: {len(candidates)} sessions match"
        )
        self.prefix = prefix
        self.candidates = list(candidates)


class SessionLocked(SessionError):
    """Another live process holds the session (``pid`` is ``None`` when unknown)."""

    def __init__(self, session_id: str, pid: int | None, what: str = "in use") -> None:
        holder = f"process {pid}" if pid is not None else "another process"
        super().__init__(f"session {session_id} is {what} by {holder}")
        self.session_id = session_id
        self.pid = pid


class SessionPinned(SessionError):
    """A pinned session asked to go without ``--force``."""

    def __init__(self, session_id: str) -> None:
        super().__init__(f"session {session_id} is pinned (unpin it, or use --force)")
        self.session_id = session_id


class SessionExists(SessionError):
    """A restore whose id is already in the store: nothing is overwritten."""

    def __init__(self, session_id: str) -> None:
        super().__init__(
            f"session {session_id} exists in the store; not restored (nothing overwritten)")
        self.session_id = session_id


class CorruptStore(SessionError):
    """Data that cannot be read safely (a read failing half-way, say)."""


class StoreIOError(SessionError):
    """An operating-system failure while reading or writing the store."""

    def __init__(self, message: str, cause: OSError | None = None) -> None:
        super().__init__(message)
        self.cause = cause

    @classmethod
    def wrap(cls, action: str, err: OSError) -> StoreIOError:
        """Describe ``err`` as a one-line message about ``action``."""
        reason = err.strerror or err.__class__.__name__
        where = f" {err.filename}" if err.filename else ""
        return cls(f"cannot {action}:{where}: {reason}", err)
