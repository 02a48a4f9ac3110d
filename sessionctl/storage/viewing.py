"""What ``show`` needs of the store to stream a session: its ``list`` row
when that is cheap to know (the summary cache, or a small file), without
reading a big file twice. The storage internals this uses are here only.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from ..core.session import SessionInfo
from ..errors import CorruptStore, SessionNotFound
from .listing import info_of
from .summaries import FileKey

if TYPE_CHECKING:
    from .store import FileStore

__all__ = ["known_info"]


def known_info(store: FileStore, sid: str, *, read_up_to: int) -> tuple[SessionInfo | None, int]:
    """The session's ``list`` row, from the summary cache or by reading a
    file of at most ``read_up_to`` bytes; ``None`` for a bigger file the
    cache lacks (reading it first would hold up a streamed view). Also the
    file's size."""
    try:
        st = os.stat(store.layout.session(sid))
    except FileNotFoundError:
        raise SessionNotFound(sid) from None
    except OSError as err:
        raise CorruptStore(f"cannot read session {sid}: {err.strerror or err}") from err
    key = FileKey.of(st)
    lister = store.lister
    summary = lister.summary_cache().get(sid, key)
    if summary is None:
        if key.size > read_up_to:
            return None, key.size
        summary = lister.summarize(sid, key, lister.summary_cache(persistent=False))
    entry = lister.entry_if_needed(sid, summary.has_meta, summary.created, summary.updated)
    return info_of(sid, key, summary, entry), key.size
