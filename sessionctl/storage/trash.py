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
Only directories (``.trash/``, ``.sessionctl/``) are added to the store's
top level: the agent deletes unheld top-level ``*.lock`` files and may
rewrite or delete any top-level ``*.jsonl`` (§8.0).
"""

from __future__ import annotations

import contextlib
import os
import stat
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.ids import is_valid_id, validate_id
from ..core.times import format_ns, from_datetime, now_ns
from ..errors import (
    CorruptStore,
    SessionError,
    SessionExists,
    SessionLocked,
    SessionNotFound,
    SessionPinned,
    StoreIOError,
)
from . import fsio, locking
from .audit import AUDIT_NAME, STATE_DIR, AuditLog, AuditRecord, make_record
from .labels import Labels
from .layout import TRASH_DIR
from .removal import EMPTY_GRACE, CleanupReport

if TYPE_CHECKING:
    from ..core.folds import Summary
    from .store import FileStore as JSONLStore

__all__ = [
    "TRASH_DIR",
    "PurgeReport",
    "RestoreReport",
    "TrashCleanupReport",
    "TrashEntry",
    "TrashListing",
    "TrashReport",
    "check_pins",
    "cleanup",
    "delete_for_good",
    "purge",
    "restore",
    "trash",
    "trashed",
]

JSON = Any
LOCK_TIMEOUT = 30.0
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
    restored: list[TrashEntry] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
class PurgeReport:
    purged: list[TrashEntry] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
class TrashCleanupReport(CleanupReport):
    """A cleanup into the trash: ``removed`` went to the trash, ``purged``
    are trash entries past the retention that were removed for good."""

    purged: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, JSON]:
        d = super().to_dict()
        d["purged"] = list(self.purged)
        return d


# -- layout ------------------------------------------------------------------
def trash_dir(store_dir: Path) -> Path:
    return store_dir / TRASH_DIR


def _prepare(store_dir: Path) -> Path:
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


def _move_out(
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


def _sync(*dirs: Path) -> list[str]:
    """fsync each directory (the renames of a batch); failures are warnings:
    the renames happened, only their durability over a power cut is unsure."""
    out = []
    for d in dirs:
        try:
            fsio.fsync_dir(d)
        except OSError as err:
            out.append(f"cannot sync {d}: {err.strerror or err}")
    return out


def _index_update(store: JSONLStore, *, remove: Sequence[str] = (),
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


def _audit(store_dir: Path, records: list[dict[str, JSON]]) -> list[str]:
    try:
        AuditLog(store_dir).append(records)
    except SessionError as err:
        return [f"audit log not written: {err}"]
    return []


def _titles(store: JSONLStore, sids: Sequence[str]) -> dict[str, str]:
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
    tdir = _prepare(store.dir)
    titles = _titles(store, sids)
    dkey = locking.dir_key(store.dir)
    handles: list[locking.SessionLockHandle] = []
    report = TrashReport()
    records: list[dict[str, JSON]] = []
    try:
        for sid in sids:
            handles.append(locking.acquire_session_lock(
                f"{base}/{sid}.lock", sid, timeout=0.0, directory=dkey))
        for sid in sids:
            outcome, _name, size = _move_out(sid, base, os.fspath(tdir), dkey)
            if outcome == "moved":
                report.trashed.append(sid)
                records.append(make_record("trash", sid, title=titles.get(sid, ""),
                                           size=size, by=by))
    finally:
        if report.trashed:
            report.warnings += _sync(store.dir, tdir)
            report.warnings += _index_update(store, remove=report.trashed)
        for h in handles:
            h.release()
        report.warnings += _audit(store.dir, records)
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


def delete_for_good(
    store: JSONLStore, session_ids: Iterable[str], *, force: bool = False, by: str = "library",
) -> TrashReport:
    """The seed's permanent delete (all or nothing), with pins refused unless
    ``force`` and a ``purge`` audit record per session."""
    sids = list(dict.fromkeys(validate_id(s) for s in session_ids))
    if not force:
        check_pins(store, sids)
    titles = _titles(store, sids)
    sizes = {}
    for sid in sids:
        with contextlib.suppress(OSError):
            sizes[sid] = os.lstat(store.dir / f"{sid}.jsonl").st_size
    report = TrashReport(trashed=sids)
    report.warnings += store.delete_many(sids)
    report.warnings += _forget_labels(store, sids)
    report.warnings += _audit(store.dir, [
        make_record("purge", sid, title=titles.get(sid, ""), size=sizes.get(sid), by=by)
        for sid in sids])
    return report


def _forget_labels(store: JSONLStore, purged: Sequence[str]) -> list[str]:
    """Labels go with a purge (§8.2): those of ids with no copy left, in the
    store or in the trash."""
    left = {e.id for e in trashed(store).entries}
    base = os.fspath(store.dir)
    gone = [sid for sid in dict.fromkeys(purged)
            if sid not in left and not os.path.lexists(f"{base}/{sid}.jsonl")]
    try:
        Labels(store.dir).forget(gone)
    except SessionError as err:
        return [f"labels of purged sessions kept: {err}"]
    return []


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
    tdir = _prepare(store.dir)
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
            report.warnings[:0] = _sync(store.dir, tdir)
            report.warnings[:0] = _index_update(store, refresh=done)
        for h in handles:
            h.release()
        report.warnings += _audit(store.dir, records)
    return report


# -- purge ---------------------------------------------------------------------
def purge(
    store: JSONLStore, session_ids: Iterable[str] | None = None, *,
    before: datetime | None = None, dry_run: bool = False, by: str = "library",
    entries: Sequence[TrashEntry] | None = None,
) -> PurgeReport:
    """Remove trash entries for good: those of ``session_ids`` (all when
    ``None``) deleted before ``before`` (any time when ``None``). Labels of
    ids with no copy left anywhere go too."""
    wanted = None if session_ids is None else {validate_id(s) for s in session_ids}
    cut = from_datetime(before) if before is not None else None
    listing = entries if entries is not None else trashed(store).entries
    chosen = [e for e in listing
              if (wanted is None or e.id in wanted) and (cut is None or e.deleted_at[0] < cut)]
    report = PurgeReport()
    if dry_run or not chosen:
        report.purged = chosen
        return report
    tdir = trash_dir(store.dir)
    base = os.fspath(store.dir)
    dkey = locking.dir_key(store.dir)
    for e in chosen:
        path = tdir / e.file
        try:
            # Under <id>.jsonl.flock, which trash and restore hold around
            # their renames: the name still holds the copy that was listed.
            with locking.file_lock(f"{base}/{e.id}.jsonl.flock", timeout=LOCK_TIMEOUT,
                                   session_id=e.id, directory=dkey):
                try:
                    st = os.lstat(path)
                except FileNotFoundError:
                    continue  # restored or purged meanwhile
                if e.ino and st.st_ino != e.ino:
                    continue  # another copy took the name since the listing
                os.unlink(path)
        except OSError as err:
            report.failed.append((e.file, err.strerror or str(err)))
            continue
        except SessionError as err:
            report.failed.append((e.file, str(err)))
            continue
        report.purged.append(e)
    if report.purged:
        report.warnings += _sync(tdir)
        report.warnings += _forget_labels(store, [e.id for e in report.purged])
        report.warnings += _audit(store.dir, [
            make_record("purge", e.id, title=e.title, size=e.bytes, by=by)
            for e in report.purged])
    return report


# -- cleanup -------------------------------------------------------------------
def cleanup(
    store: JSONLStore, *, before: datetime | None = None, empty: bool = False,
    dry_run: bool = False, purge_now: bool = False, trash_retention: timedelta | None = None,
    by: str = "library",
) -> TrashCleanupReport:
    """Move old sessions (and with ``empty`` idle ones without user text) to
    the trash, or remove them for good with ``purge_now``; pinned sessions
    are skipped (reason ``pinned``), held ones too. With ``trash_retention``,
    trash entries deleted longer ago than that are purged."""
    report = TrashCleanupReport(cutoff=before, dry_run=dry_run)
    labels = Labels(store.dir).read()
    if labels.problem:
        raise CorruptStore(f"cannot tell which sessions are pinned: {labels.problem}")
    listing = store.listing(include_hidden=True)
    report.unreadable = listing.skipped
    cut = from_datetime(before) if before is not None else None
    now = now_ns()
    idle = now - int(EMPTY_GRACE.total_seconds()) * 10**9
    due = [i for i in listing.sessions
           if (cut is not None and i.updated[0] < cut)
           or (empty and i.hidden and i.updated[0] < idle)]
    pinned = labels.pinned
    candidates = []
    for info in due:
        if info.id in pinned:
            report.skipped.append((info.id, "pinned"))
        else:
            candidates.append(info)
    retention_cut = (None if trash_retention is None
                     else now - int(trash_retention.total_seconds() * 10**9))
    if dry_run:
        report.removed = [i.id for i in candidates]
        if retention_cut is not None:
            report.purged = [e.id for e in trashed(store).entries
                             if e.deleted_at[0] < retention_cut]
        return report
    if candidates:
        _cleanup_batch(store, report, candidates, listing.keys, cut, empty, idle,
                       purge_now=purge_now, by=by)
    else:
        # A cleanup killed after its renames left index entries of sessions
        # now in the trash: this one finishes that job.
        from .index import read_index

        stale = set(read_index(store.dir) or ()) - set(listing.keys)
        if stale:
            report.warnings += _index_update(store, remove=sorted(stale))
    if retention_cut is not None:
        pr = purge(store, before=_dt(retention_cut), by=by)
        report.purged = [e.id for e in pr.purged]
        report.failed += pr.failed
        report.warnings += pr.warnings
    return report


def _dt(ns: int) -> datetime:
    from ..core.times import to_datetime

    return to_datetime(ns)


def _cleanup_batch(
    store: JSONLStore, report: TrashCleanupReport, candidates: list[Any],
    keys: dict[str, Any], cut: int | None, empty: bool, idle: int, *,
    purge_now: bool, by: str,
) -> None:
    tdir = os.fspath(_prepare(store.dir)) if not purge_now else ""
    still_due = _due(store, cut, empty, idle, keys)
    dkey = locking.dir_key(store.dir)
    base = os.fspath(store.dir)
    titles = {i.id: i.title for i in candidates}

    def due(sid: str) -> Callable[[os.stat_result], bool]:
        # Re-checked under the session's locks: an agent may have appended
        # since the listing; a session touched since never goes.
        return lambda st: bool(still_due(sid, st))

    def remove(sid: str) -> tuple[str, str, int]:
        try:
            handle = locking.acquire_session_lock(
                f"{base}/{sid}.lock", sid, timeout=0.0, directory=dkey)
        except SessionLocked as err:
            holder = f"process {err.pid}" if err.pid else "another process"
            return "skipped", f"in use by {holder}", 0
        except SessionError as err:
            return "failed", str(err), 0
        try:
            if purge_now:
                path = f"{base}/{sid}.jsonl"
                with locking.file_lock(f"{path}.flock", timeout=LOCK_TIMEOUT, session_id=sid,
                                       directory=dkey):
                    try:
                        st = os.lstat(path)
                    except FileNotFoundError:
                        return "skipped", "updated while cleaning up", 0
                    if not due(sid)(st):
                        return "skipped", "updated while cleaning up", 0
                    _unlink_locked(sid, st, path)
                    outcome, reason, size = "moved", "", st.st_size
            else:
                outcome, reason, size = _move_out(sid, base, tdir, dkey, due(sid))
                if outcome == "gone":
                    return "skipped", "updated while cleaning up", 0
            return outcome, reason, size
        except SessionError as err:
            return "failed", str(err), 0
        finally:
            # Released at once, not held until the batch's index update (as
            # delete does): thousands of lock files held at once made the
            # store's directory grow and every create in it slower (a
            # cleanup of 4,300 sessions took 3x longer). The index is a
            # cache: an entry left for a moment names a session in the trash.
            handle.release()

    # One after another: with the PID no longer fsync'd (§8.5) a removal is
    # a handful of system calls, and threads only added GIL contention.
    ids = [i.id for i in candidates]
    records: list[dict[str, JSON]] = []
    try:
        outcomes = [remove(sid) for sid in ids]
        action = "purge" if purge_now else "trash"
        stamp = now_ns()
        for sid, (outcome, reason, size) in zip(ids, outcomes, strict=True):
            if outcome == "moved":
                report.removed.append(sid)
                records.append(make_record(action, sid, title=titles.get(sid, ""), size=size,
                                           by=by, time_ns=stamp))
            elif outcome == "skipped":
                report.skipped.append((sid, reason))
            else:
                report.failed.append((sid, reason))
        _flush(store, still_due)
        if report.removed:
            report.warnings += _sync(store.dir, *([] if purge_now else [Path(tdir)]))
            report.warnings += _index_update(store, remove=report.removed)
            if purge_now:
                report.warnings += _forget_labels(store, report.removed)
    finally:
        report.warnings += _audit(store.dir, records)


# -- the store's internals this module uses (one place, for the reshape) ------
def _remover(store: JSONLStore) -> Any:
    from .removal import Remover

    return Remover(store.lister)


def _due(store: JSONLStore, cut: int | None, empty: bool, idle: int,
         keys: dict[str, Any]) -> Any:
    """cleanup's re-check of a candidate under its locks (removal's own)."""
    from .removal import _Due

    return _Due(store.lister, cut, empty, idle, keys)


def _flush(store: JSONLStore, due: Any) -> None:
    due.cache.flush(store.lister.real)


def _unlink_locked(sid: str, st: os.stat_result, path: str) -> None:
    from .removal import _unlink_locked as unlink

    unlink(sid, st, path)


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
