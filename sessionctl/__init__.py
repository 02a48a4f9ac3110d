"""sessionctl: manage an AI coding agent's JSONL conversation sessions.

A loss-free Python implementation of the ggcode agent's ``session`` package,
safe to use on a store a running agent is writing.
"""

from __future__ import annotations

from .errors import (
    AmbiguousSessionId,
    CorruptStore,
    InvalidSessionId,
    SessionError,
    SessionLocked,
    SessionNotFound,
    StoreIOError,
    UsageError,
)
from .models import Checkpoint, ContentBlock, Message, Session, SessionInfo, TunnelEvent
from .paths import current_workspace_path, default_dir, normalize_workspace_path
from .store import (
    CleanupReport,
    JSONLStore,
    Listing,
    Store,
    export_session_markdown,
    new_default_store,
    new_session,
)

__version__ = "0.1.0"

__all__ = [
    "AmbiguousSessionId",
    "Checkpoint",
    "CleanupReport",
    "ContentBlock",
    "CorruptStore",
    "InvalidSessionId",
    "JSONLStore",
    "Listing",
    "Message",
    "Session",
    "SessionError",
    "SessionInfo",
    "SessionLocked",
    "SessionNotFound",
    "Store",
    "StoreIOError",
    "TunnelEvent",
    "UsageError",
    "__version__",
    "current_workspace_path",
    "default_dir",
    "export_session_markdown",
    "new_default_store",
    "new_session",
    "normalize_workspace_path",
]

