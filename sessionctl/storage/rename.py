"""``rename ID TITLE`` as the agent's own ``/title`` does it (SPEC §8.2).

A copy of the session's latest full ``meta`` record with the new title is
appended under ``<id>.jsonl.flock`` (latest meta wins, so the agent shows
the new name too); then the title of its ``index.json`` entry is updated
under ``index.json.flock`` -- never while holding the ``.flock`` (§8.5).
A session another live process holds is refused: that process would write
its old title back with its next meta.
"""

from __future__ import annotations

import os
import unicodedata
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..core.ids import validate_id
from ..core.records import dumps_line, meta_record
from ..errors import SessionError, SessionNotFound, StoreIOError, UsageError
from . import fsio, locking
from .audit import AuditLog, make_record

if TYPE_CHECKING:
    from .store import FileStore as JSONLStore

__all__ = ["MAX_TITLE", "RenameReport", "check_title", "rename"]

JSON = Any
MAX_TITLE = 120
LOCK_TIMEOUT = 30.0


@dataclass
class RenameReport:
    id: str
    old_title: str
    title: str
    warnings: list[str] = field(default_factory=list)


def check_title(title: str) -> str:
    """``title`` if usable; :class:`UsageError` when blank, longer than
    120 characters (code points) or holding control characters."""
    if not title.strip():
        raise UsageError("the title must not be empty")
    if len(title) > MAX_TITLE:
        raise UsageError(f"the title is {len(title)} characters long; at most {MAX_TITLE}")
    bad = next((c for c in title if unicodedata.category(c) == "Cc"
                or c in "\u2028\u2029"), None)
    if bad is not None:
        raise UsageError(f"the title holds a control character (U+{ord(bad):04X})")
    return title


def rename(store: JSONLStore, session_id: str, title: str, *, by: str = "library") -> RenameReport:
    """Give a session a new title (see the module's docstring)."""
    sid = validate_id(session_id)
    check_title(title)
    path = store.dir / f"{sid}.jsonl"
    if not os.path.lexists(path):
        raise SessionNotFound(sid)
    handle = locking.acquire_session_lock(store.dir / f"{sid}.lock", sid, timeout=0.0)
    try:
        session = store.load(sid)
        report = RenameReport(sid, session.title, title)
        try:
            with locking.file_lock(f"{path}.flock", timeout=LOCK_TIMEOUT, session_id=sid):
                _fields, last_meta = store._disk_meta_of(sid)
                if last_meta is not None:
                    record: dict[str, JSON] = dict(last_meta)
                    record["title"] = title
                else:  # no meta yet: a fresh full one from the loaded state
                    session.title = title
                    record = meta_record(session)
                fsio.durable_append(path, dumps_line(record), create=False)
        except FileNotFoundError:
            raise SessionNotFound(sid) from None
        except OSError as err:
            raise StoreIOError.wrap(f"rename session {sid}", err) from err
        try:
            from .removal import Remover

            Remover(store.lister).update_index(refresh=[sid])
        except SessionError as err:
            from .removal import index_not_updated

            report.warnings.append(index_not_updated("renamed", err))
    finally:
        handle.release()
    try:
        AuditLog(store.dir).append([make_record(
            "rename", sid, title=title, size=_size(path), by=by, old_title=report.old_title)])
    except SessionError as err:
        report.warnings.append(f"audit log not written: {err}")
    return report


def _size(path: os.PathLike[str]) -> int | None:
    try:
        return os.stat(path).st_size
    except OSError:
        return None
