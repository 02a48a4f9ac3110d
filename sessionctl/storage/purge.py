"""Removal for good (SPEC §8.1-§8.2): ``purge`` of trash entries, the
permanent ``delete --purge``, and ``cleanup`` of old or empty sessions into
the trash (or for good), with the trash's retention.

Labels of ids with no copy left, in the store or in the trash, go too.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.ids import validate_id
from ..core.times import from_datetime, now_ns
from ..errors import CorruptStore, SessionError, SessionLocked
from . import locking
from .audit import make_record
from .labels import Labels
from .removal import EMPTY_GRACE, CleanupReport, Due
from .trash import TrashEntry, TrashReport, check_pins, trashed
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
    from .store import FileStore as JSONLStore

__all__ = [
    "PurgeReport",
    "TrashCleanupReport",
    "cleanup",
    "delete_for_good",
    "purge",
]

JSON = Any


@dataclass
class PurgeReport:
    """What ``purge`` removed, or would (dry run); ``failed``: (file, reason)."""

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


def delete_for_good(
    store: JSONLStore, session_ids: Iterable[str], *, force: bool = False, by: str = "library",
) -> TrashReport:
    """The seed's permanent delete (all or nothing), with pins refused unless
    ``force`` and a ``purge`` audit record per session."""
    sids = list(dict.fromkeys(validate_id(s) for s in session_ids))
    if not force:
        check_pins(store, sids)
    titles = session_titles(store, sids)
    sizes = {}
    for sid in sids:
        with contextlib.suppress(OSError):
            sizes[sid] = os.lstat(store.dir / f"{sid}.jsonl").st_size
    report = TrashReport(trashed=sids)
    report.warnings += store.delete_many(sids)
    report.warnings += _forget_labels(store, sids)
    report.warnings += append_audit(store.dir, [
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
        report.warnings += sync_dirs(tdir)
        report.warnings += _forget_labels(store, [e.id for e in report.purged])
        report.warnings += append_audit(store.dir, [
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
    due, report.skipped = Due.select(listing.sessions, listing.keys, cut, empty, idle)
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
    if retention_cut is not None:
        # Before the batch: what this cleanup moves is never past the
        # retention, and the trash is read before it grows (the same
        # entries a dry run reports).
        pr = purge(store, before=_dt(retention_cut), by=by)
        report.purged = [e.id for e in pr.purged]
        report.failed += pr.failed
        report.warnings += pr.warnings
    if candidates:
        _cleanup_batch(store, report, candidates, listing.keys, cut, empty, idle,
                       purge_now=purge_now, by=by)
    else:
        # A cleanup killed after its renames left index entries of sessions
        # now in the trash: this one finishes that job.
        from .index import read_index

        stale = set(read_index(store.dir) or ()) - set(listing.keys)
        if stale:
            report.warnings += index_update(store, remove=sorted(stale))
    return report


def _dt(ns: int) -> datetime:
    from ..core.times import to_datetime

    return to_datetime(ns)


def _cleanup_batch(
    store: JSONLStore, report: TrashCleanupReport, candidates: list[Any],
    keys: dict[str, Any], cut: int | None, empty: bool, idle: int, *,
    purge_now: bool, by: str,
) -> None:
    tdir = os.fspath(prepare(store.dir)) if not purge_now else ""
    still_due = Due(store.lister, cut, empty, idle, keys)
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
                outcome, reason, size = move_out(sid, base, tdir, dkey, due(sid))
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
        still_due.cache.flush()
        if report.removed:
            report.warnings += sync_dirs(store.dir, *([] if purge_now else [Path(tdir)]))
            report.warnings += index_update(store, remove=report.removed)
            if purge_now:
                report.warnings += _forget_labels(store, report.removed)
    finally:
        report.warnings += append_audit(store.dir, records)


def _unlink_locked(sid: str, st: os.stat_result, path: str) -> None:
    """removal's unlink, looked up when called (one place to stub a failing
    removal, for delete and cleanup alike)."""
    from . import removal

    removal.unlink_locked(sid, st, path)
