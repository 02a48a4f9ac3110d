"""sessionctl: manage an AI coding agent's JSONL conversation sessions.

A loss-free Python implementation of the ggcode agent's ``session`` package,
safe to use on a store a running agent is writing.

Names are imported on first use (PEP 562), so ``sessionctl --help`` does not
pay for the store, orjson or rich.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from .api import (
        CleanupReport,
        JSONLStore,
        Listing,
        Store,
        export_session_markdown,
        new_default_store,
        new_session,
    )
    from .core.models import ContentBlock, Message, TunnelEvent
    from .core.paths import current_workspace_path, default_dir, normalize_workspace_path
    from .core.session import Checkpoint, Session, SessionInfo
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

_EXPORTS = {
    **dict.fromkeys(
        ["AmbiguousSessionId", "CorruptStore", "InvalidSessionId", "SessionError",
         "SessionLocked", "SessionNotFound", "StoreIOError", "UsageError"], ".errors"),
    **dict.fromkeys(["ContentBlock", "Message", "TunnelEvent"], ".core.models"),
    **dict.fromkeys(["Checkpoint", "Session", "SessionInfo"], ".core.session"),
    **dict.fromkeys(
        ["current_workspace_path", "default_dir", "normalize_workspace_path"], ".core.paths"),
    **dict.fromkeys(
        ["CleanupReport", "JSONLStore", "Listing", "Store", "export_session_markdown",
         "new_default_store", "new_session"], ".api"),
}

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


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'sessionctl' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
