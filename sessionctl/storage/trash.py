"""The trash, ``<store>/.trash/`` (SPEC §8.1): removals that can be undone.

A session goes to the trash by ``rename(2)`` of its file (same file system:
atomic), so a crash at any moment leaves it whole in exactly one place.
The move protocol, per session::

    <id>.lock (non-blocking: held -> refused or skipped)
      -> <id>.jsonl.flock -> rename into .trash/ -> release the .flock
      -> remove the index entry under index.json.flock (never nested with a
         .jsonl.flock: the agent takes those two the other way round, §8.5)
      -> release <id>.lock (unlink while holding) -> append the audit record

A batch fsyncs both directories once, rewrites the index once and appends
its audit records in one write. ``restore`` is the same protocol backwards.
The shared steps are in :mod:`.trashio`; purging and cleanup in :mod:`.purge`.
Only directories (``.trash/``, ``.sessionctl/``) are added to the store's
top level: the agent deletes unheld top-level ``*.lock`` files and may
rewrite or delete any top-level ``*.jsonl`` (§8.0).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.ids import is_valid_id, validate_id
from ..core.times import format_ns
from ..errors import (
    CorruptStore,
    SessionExists,
    SessionNotFound,
    SessionPinned,
    StoreIOError,
)
from . import fsio, locking
from .audit import AuditLog, AuditRecord, make_record
from .labels import Labels
from .layout import TRASH_DIR
from .trashio import (
    LOCK_TIMEOUT,
    append_audit,
    index_update,
    move_out,
    prepare,
    session_titles,
    sync_dirs,
    trash_dir,
)

if TYPE_CHECKING:
    from ..core.folds import Summary
    from .store import FileStore as JSONLStore

__all__ = [
    "TRASH_DIR",
    "RestoreReport",
    "TrashEntry",
    "TrashListing",
    "TrashReport",
    "check_pins",
    "restore",
    "trash",
    "trashed",
]

JSON = Any
#: An audit record is written after its rename; allow for a coarse ctime.
_SLACK_NS = 50_000_000


@dataclass(frozen=True)
class TrashEntry:
    """One copy of a session in the trash."""

    id: str
    file: str  # the name inside .trash/
    title: str
    deleted_at: tuple[int, str]
    by: str | None  # None: no audit record (deleted time is the file's ctime)
    bytes: int
    ino: int = field(default=0, repr=False, compare=False)

    def to_dict(self) -> dict[str, JSON]:
        """``trash --json``'s row (§8.1)."""
        return {"id": self.id, "title": self.title, "deleted_at": self.deleted_at[1],
                "by": self.by, "bytes": self.bytes, "file": self.file}


@dataclass
class TrashListing:
    """The trash, newest deletion first, and lines about what was odd."""

    entries: list[TrashEntry] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


@dataclass
class TrashReport:
    """What ``trash(ids)`` moved; ``warnings``: the index or the audit log
    could not be updated (the sessions are in the trash all the same)."""

    trashed: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
class RestoreReport:
    """What ``restore`` moved back, and warnings as for :class:`TrashReport`."""

    restored: list[TrashEntry] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


# -- trash -------------------------------------------------------------------
def trash(
    store: JSONLStore, session_ids: Iterable[str], *, force: bool = False, by: str = "library",
) -> TrashReport:
    """Move sessions to the trash, all or nothing as far as checks go: every
    id must exist, none may be pinned (unless ``force``) or held by another
    live process (never overridden), else nothing moves."""
    sids = list(dict.fromkeys(validate_id(s) for s in session_ids))
    base = os.fspath(store.dir)
    for sid in sids:
        if not os.path.lexists(f"{base}/{sid}.jsonl"):
            raise SessionNotFound(sid)
    if not force:
        check_pins(store, sids)
    tdir = prepare(store.dir)
    titles = session_titles(store, sids)
    dkey = locking.dir_key(store.dir)
    handles: list[locking.SessionLockHandle] = []
    report = TrashReport()
    records: list[dict[str, JSON]] = []
    try:
        for sid in sids:
            handles.append(locking.acquire_session_lock(
                f"{base}/{sid}.lock", sid, timeout=0.0, directory=dkey))
        for sid in sids:
            outcome, _name, size = move_out(sid, base, os.fspath(tdir), dkey)
            if outcome == "moved":
                report.trashed.append(sid)
                records.append(make_record("trash", sid, title=titles.get(sid, ""),
                                           size=size, by=by))
    finally:
        if report.trashed:
            report.warnings += sync_dirs(store.dir, tdir)
            report.warnings += index_update(store, remove=report.trashed)
        for h in handles:
            h.release()
        report.warnings += append_audit(store.dir, records)
    return report


def check_pins(store: JSONLStore, session_ids: Sequence[str]) -> None:
    """:class:`SessionPinned` for the first pinned id; :class:`CorruptStore`
    when ``labels.json`` is damaged (which sessions are pinned is unknown)."""
    labels = Labels(store.dir).read()
    if labels.problem:
        raise CorruptStore(f"cannot tell which sessions are pinned: {labels.problem} "
                           "(use --force to go ahead)")
    for sid in session_ids:
        if labels.get(sid).pinned:
            raise SessionPinned(sid)


# -- listing -------------------------------------------------------------------
def trashed(store: JSONLStore) -> TrashListing:
    """Every copy in the trash, newest deletion first. Read-only: creates
    nothing, locks nothing. Deleted time and ``by`` come from the audit
    record (the k-th ``trash`` record of an id maps to its k-th copy in
    order of trashing), else the file's ctime and ``None``."""
    tdir = trash_dir(store.dir)
    out = TrashListing()
    copies: dict[str, list[tuple[int, str, int, int]]] = {}
    try:
        with os.scandir(tdir) as it:
            for de in it:
                name = de.name
                if not name.endswith(".jsonl"):
                    continue
                sid = name.split(".", 1)[0]
                if not is_valid_id(sid):
                    continue
                try:
                    st = de.stat(follow_symlinks=False)
                except FileNotFoundError:
                    continue
                if not stat.S_ISREG(st.st_mode):
                    out.problems.append(f"ignoring {tdir / name}: not a regular file")
                    continue
                copies.setdefault(sid, []).append((st.st_ctime_ns, name, st.st_size, st.st_ino))
    except FileNotFoundError:
        return out
    except OSError as err:
        out.problems.append(f"cannot read the trash {tdir}: {err.strerror or err}")
        return out
    if not copies:
        return out
    read = AuditLog(store.dir).read(actions=("trash", "restore", "purge"), ids=copies)
    if read.problem:
        out.problems.append(read.problem)
    history: dict[str, list[AuditRecord]] = {}
    for r in reversed(read.records):  # oldest first
        history.setdefault(r.id, []).append(r)
    for sid, cs in copies.items():
        cs.sort()  # in order of trashing (a rename sets the ctime)
        for (ctime, name, size, ino), rec in zip(cs, _match(history.get(sid, []), cs),
                                                  strict=True):
            if rec is not None:
                title = rec.title or _title_of(tdir / name)
                out.entries.append(TrashEntry(sid, name, title, (rec.time_ns, rec.time),
                                              rec.by or None, size, ino))
            else:
                out.entries.append(TrashEntry(sid, name, _title_of(tdir / name),
                                              (ctime, format_ns(ctime)), None, size, ino))
    out.entries.sort(key=lambda e: (e.deleted_at[0], e.id, e.file), reverse=True)
    return out


def _match(
    history: list[AuditRecord], copies: list[tuple[int, str, int, int]]
) -> list[AuditRecord | None]:
    """The ``trash`` record of each copy (``copies`` in order of trashing).

    The log is replayed: ``trash`` adds a copy, ``restore`` takes the newest,
    ``purge`` the oldest of that size. When as many records remain as there
    are copies, they map in order. Otherwise (records lost, files moved by
    hand) each copy takes the first unused record written after its rename.
    """
    live: list[AuditRecord] = []
    for rec in history:
        if rec.action == "trash":
            live.append(rec)
        elif rec.action == "restore" and live:
            live.pop()
        elif rec.action == "purge" and live:
            k = next((i for i, r in enumerate(live) if r.bytes == rec.bytes), 0)
            del live[k]
    if len(live) == len(copies):
        return list(live)
    trashes = [r for r in history if r.action == "trash"]
    out: list[AuditRecord | None] = []
    j = 0
    for ctime, *_rest in copies:
        while j < len(trashes) and trashes[j].time_ns < ctime - _SLACK_NS:
            j += 1
        out.append(trashes[j] if j < len(trashes) else None)
        j += 1
    return out


def _summary_of(path: Path) -> Summary | None:
    from ..core.folds import summarize

    try:
        with fsio.open_regular(path) as f:
            return summarize(f)
    except OSError:
        return None


def _title_of(path: Path) -> str:
    s = _summary_of(path)
    return (s.title or s.first_user_text) if s is not None else ""


# -- restore -------------------------------------------------------------------
def restore(store: JSONLStore, session_ids: Iterable[str], *, by: str = "library") -> RestoreReport:
    """Move the copy of each id trashed last back into the store, all or
    nothing as far as checks go. An id not in the trash: :class:`SessionNotFound`
    (exit 3); in the store already: :class:`SessionExists` (exit 1); held by
    another process: :class:`SessionLocked`. The index entries are re-added;
    a session without user text gets a warning (the agent's index repair
    deletes such files)."""
    sids = list(dict.fromkeys(validate_id(s) for s in session_ids))
    listing = trashed(store)
    newest: dict[str, TrashEntry] = {}
    for e in listing.entries:  # newest first: keep the first seen per id
        newest.setdefault(e.id, e)
    base = os.fspath(store.dir)
    for sid in sids:
        if sid not in newest:
            raise SessionNotFound(sid, f"session {sid} is not in the trash")
    for sid in sids:
        if os.path.lexists(f"{base}/{sid}.jsonl"):
            raise SessionExists(sid)
    tdir = prepare(store.dir)
    dkey = locking.dir_key(store.dir)
    summaries = {sid: _summary_of(tdir / newest[sid].file) for sid in sids}
    handles: list[locking.SessionLockHandle] = []
    report = RestoreReport()
    records: list[dict[str, JSON]] = []
    try:
        for sid in sids:
            handles.append(locking.acquire_session_lock(
                f"{base}/{sid}.lock", sid, timeout=0.0, directory=dkey))
        for sid in sids:
            entry = newest[sid]
            path = f"{base}/{sid}.jsonl"
            with locking.file_lock(f"{path}.flock", timeout=LOCK_TIMEOUT, session_id=sid,
                                   directory=dkey):
                # Checked again under the locks: an agent may have created
                # the session since. rename(2) would replace it silently.
                if os.path.lexists(path):
                    raise SessionExists(sid)
                try:
                    os.rename(tdir / entry.file, path)
                except FileNotFoundError:
                    raise SessionNotFound(
                        sid, f"session {sid} left the trash meanwhile") from None
                except OSError as err:
                    raise StoreIOError.wrap(f"restore session {sid}", err) from err
            report.restored.append(entry)
            s = summaries[sid]
            records.append(make_record("restore", sid, title=entry.title, size=entry.bytes,
                                       by=by))
            if s is None or not s.user_interaction:
                report.warnings.append(
                    f"session {sid} has no user text: the agent's index repair deletes "
                    "such sessions (sessionctl delete moves it back to the trash)")
    finally:
        done = [e.id for e in report.restored]
        if done:
            report.warnings[:0] = sync_dirs(store.dir, tdir)
            report.warnings[:0] = index_update(store, refresh=done)
        for h in handles:
            h.release()
        report.warnings += append_audit(store.dir, records)
    return report
