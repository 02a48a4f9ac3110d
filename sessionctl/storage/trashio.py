"""The steps a batch move into or out of ``.trash/`` shares (SPEC §8.1):
preparing the trash, moving a file under its locks, syncing directories,
the index and audit updates, and the titles the audit records carry.

Index and audit failures are warnings, never errors: the move happened.
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import CorruptStore, SessionError, StoreIOError
from . import fsio, locking
from .audit import AUDIT_NAME, STATE_DIR, AuditLog
from .layout import TRASH_DIR

if TYPE_CHECKING:
    from .store import FileStore as JSONLStore

__all__ = [
    "LOCK_TIMEOUT",
    "append_audit",
    "index_update",
    "move_out",
    "prepare",
    "session_titles",
    "sync_dirs",
    "trash_dir",
]

JSON = Any
LOCK_TIMEOUT = 30.0


# -- layout ------------------------------------------------------------------
def trash_dir(store_dir: Path) -> Path:
    """``<store>/.trash/``."""
    return store_dir / TRASH_DIR


def prepare(store_dir: Path) -> Path:
    """Before anything moves: ``.trash/`` exists (0700, created on first
    use) and the audit log can take a record. One-line error otherwise."""
    tdir = trash_dir(store_dir)
    audit = store_dir / STATE_DIR / AUDIT_NAME
    try:
        st = os.lstat(audit)
    except FileNotFoundError:
        pass
    except OSError as err:
        raise StoreIOError.wrap("use the audit log", err) from err
    else:
        if not stat.S_ISREG(st.st_mode):
            raise StoreIOError(f"cannot write the audit log {audit}: it is not a regular "
                               "file (move it away); nothing was changed")
    try:
        fsio.ensure_dir(tdir)
        if not stat.S_ISDIR(os.lstat(tdir).st_mode):
            raise StoreIOError(f"cannot use the trash {tdir}: not a directory")
    except OSError as err:
        raise StoreIOError.wrap("create the trash", err) from err
    return tdir


def _free_name(tdir: str, sid: str) -> str:
    """``<id>.jsonl``, or when taken ``<id>.<ns>.jsonl``. The caller holds
    ``<id>.lock``, so no other sessionctl picks a name for this id now."""
    name = f"{sid}.jsonl"
    while os.path.lexists(f"{tdir}/{name}"):
        name = f"{sid}.{time.time_ns()}.jsonl"
    return name

def move_out(
    sid: str, base: str, tdir: str, dkey: str | None,
    check: Callable[[os.stat_result], bool] | None = None,
) -> tuple[str, str, int]:
    """Move ``<id>.jsonl`` into the trash under its ``.flock`` (the caller
    holds ``<id>.lock``). (outcome, trash name or reason, bytes); outcome is
    ``moved``, ``gone`` or ``skipped`` (``check`` said no)."""
    path = f"{base}/{sid}.jsonl"
    with locking.file_lock(f"{path}.flock", timeout=LOCK_TIMEOUT, session_id=sid,
                           directory=dkey):
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            return "gone", "", 0
        except OSError as err:
            raise StoreIOError.wrap(f"move session {sid} to the trash", err) from err
        if stat.S_ISDIR(st.st_mode):
            raise CorruptStore(f"cannot move session {sid} to the trash: not a regular file")
        if check is not None and not check(st):
            return "skipped", "updated while cleaning up", 0
        name = _free_name(tdir, sid)
        try:
            os.rename(path, f"{tdir}/{name}")
        except OSError as err:
            raise StoreIOError.wrap(f"move session {sid} to the trash", err) from err
    return "moved", name, st.st_size


def sync_dirs(*dirs: Path) -> list[str]:
    """fsync each directory (the renames of a batch); failures are warnings:
    the renames happened, only their durability over a power cut is unsure."""
    out = []
    for d in dirs:
        try:
            fsio.fsync_dir(d)
        except OSError as err:
            out.append(f"cannot sync {d}: {err.strerror or err}")
    return out


def index_update(store: JSONLStore, *, remove: Sequence[str] = (),
                  refresh: Sequence[str] = ()) -> list[str]:
    """One index rewrite for the batch; a failure is a warning (§8.5: the
    index is a cache that ``list`` and the agent's repair both correct)."""
    if not remove and not refresh:
        return []
    try:
        _remover(store).update_index(remove=remove, refresh=refresh)
    except SessionError as err:
        from .removal import index_not_updated

        return [index_not_updated("moved", err)]
    return []


def append_audit(store_dir: Path, records: list[dict[str, JSON]]) -> list[str]:
    """Append ``records`` to the audit log; a failure is a warning."""
    try:
        AuditLog(store_dir).append(records)
    except SessionError as err:
        return [f"audit log not written: {err}"]
    return []


def session_titles(store: JSONLStore, sids: Sequence[str]) -> dict[str, str]:
    """The titles ``list`` shows for ``sids``: from the summary cache when
    current, else read from their files (never a listing of the whole store:
    deleting one session of 10,000 must not read them all)."""
    if len(sids) > 256:
        try:
            listing = store.listing(include_hidden=True)
        except SessionError:
            return {}
        wanted = set(sids)
        return {i.id: i.title for i in listing.sessions if i.id in wanted}
    return _titles_of(store, sids)


# -- the store's internals this module uses -----------------------------------
def _remover(store: JSONLStore) -> Any:
    from .removal import Remover

    return Remover(store.lister)


def _titles_of(store: JSONLStore, sids: Sequence[str]) -> dict[str, str]:
    from .index import read_index
    from .listing import info_of
    from .summaries import FileKey

    cache = store.lister.summary_cache()
    index: dict[str, Any] | None = None
    out: dict[str, str] = {}
    for sid in sids:
        try:
            key = FileKey.of(os.stat(store.layout.session(sid)))
            summary = store.lister.summarize(sid, key, cache)
        except (OSError, SessionError):
            continue
        entry = None
        if not summary.has_meta:  # the index entry names a session without meta
            if index is None:
                index = read_index(store.dir) or {}
            entry = index.get(sid)
        out[sid] = info_of(sid, key, summary, entry).title
    return out
