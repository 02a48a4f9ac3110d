"""Removing sessions for good: ``delete`` (all or nothing) and ``cleanup``
(by age, skipping what is in use), each with one index rewrite per batch.

Order of locks (SPEC §7, §8.5): ``<id>.lock`` first, then the session's
``.flock`` around the re-check and the unlink, released before
``index.json.flock`` is taken: sessionctl never holds a session's ``.flock``
and the index's at once (the agent's index repair takes them the other way
round). A removal whose index update fails still succeeds, with a warning:
the index is a cache that ``list`` and the agent both correct.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from ..core.ids import validate_id
from ..core.session import SessionInfo
from ..core.times import format_ns, from_datetime, now_ns
from ..errors import CorruptStore, SessionError, SessionLocked, SessionNotFound, StoreIOError
from . import locking
from .index import read_index, write_index
from .listing import Lister, info_of
from .summaries import FileKey, SummaryCache

__all__ = ["EMPTY_GRACE", "CleanupReport", "Remover"]

JSON = Any
#: How long writers wait for ``<id>.jsonl.flock`` / ``index.json.flock``.
LOCK_TIMEOUT = 30.0
#: ``cleanup --empty`` spares sessions touched within this window (an agent
#: may be about to write the first prompt).
EMPTY_GRACE = timedelta(hours=1)


def index_not_updated(done: str, err: Exception) -> str:
    """The warning of a change that succeeded but whose index.json update
    failed (SPEC §8.5): one wording for every command."""
    return (f"{done}, but index.json was not updated ({err}); it is only a cache: "
            "sessionctl reads the files and the agent repairs it")


@dataclass
class CleanupReport:
    """What a cleanup removed, skipped (in use) and failed to remove."""

    cutoff: datetime | None
    dry_run: bool
    removed: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    unreadable: list[tuple[str, str]] = field(default_factory=list)
    #: Problems that did not stop the removal (an index that could not be updated).
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, JSON]:
        return {
            "cutoff": format_ns(from_datetime(self.cutoff)) if self.cutoff else None,
            "dry_run": self.dry_run,
            "removed": list(self.removed),
            "skipped": [{"id": i, "reason": r} for i, r in self.skipped],
            "failed": [{"id": i, "reason": r} for i, r in self.failed],
        }


class Remover:
    """Removes sessions of the store that ``lister`` lists."""

    def __init__(self, lister: Lister) -> None:
        self.lister = lister
        self.layout = lister.layout

    def update_index(self, *, refresh: Iterable[str] = (), remove: Iterable[str] = ()) -> None:
        """Read-modify-write of ``index.json`` under ``index.json.flock``:
        ``remove``'s entries dropped (their files are gone), ``refresh``'s
        rebuilt from their files, files the index lacks added."""
        del remove  # entries of files that no longer exist are dropped anyway
        try:
            with locking.file_lock(self.layout.index_flock, timeout=LOCK_TIMEOUT, what="locked"):
                entries = self.lister.index_entries(read_index(self.layout.dir), refresh=refresh)
                write_index(self.layout.dir, entries)
        except OSError as err:
            raise StoreIOError.wrap("update index.json", err) from err

    def index_after_removal(self, removed: list[str]) -> list[str]:
        """Drop ``removed`` from the index; a warning (not an error) when that
        fails: the files are gone either way (SPEC §8.5)."""
        if not removed:
            return []
        try:
            self.update_index(remove=removed)
        except SessionError as err:
            return [index_not_updated("removed", err)]
        return []

    def delete_many(self, session_ids: Iterable[str]) -> list[str]:
        """Remove several sessions, all or nothing as far as locks go: every
        id is checked and every ``<id>.lock`` taken before anything is
        removed. Returns warnings (see :meth:`index_after_removal`)."""
        sids = list(dict.fromkeys(validate_id(s) for s in session_ids))
        for sid in sids:
            if not os.path.lexists(self.layout.session(sid)):
                raise SessionNotFound(sid)
        handles: list[locking.SessionLockHandle] = []
        try:
            for sid in sids:
                handles.append(locking.acquire_session_lock(
                    self.layout.session_lock(sid), sid, timeout=0.0))
            for sid in sids:
                self._unlink(sid)
            return self.index_after_removal(sids)
        finally:
            for h in handles:
                h.release()

    def _unlink(self, sid: str) -> None:
        try:
            with locking.file_lock(self.layout.session_flock(sid), timeout=LOCK_TIMEOUT,
                                   session_id=sid):
                path = self.layout.session(sid)
                unlink_locked(sid, os.lstat(path), path)
        except FileNotFoundError:
            pass  # already gone: the goal is reached
        except OSError as err:
            raise StoreIOError.wrap(f"remove session {sid}", err) from err

    def cleanup(
        self, *, before: datetime | None = None, empty: bool = False, dry_run: bool = False
    ) -> CleanupReport:
        """Remove sessions last updated before ``before`` (visible or hidden),
        and with ``empty`` also sessions without user text idle for an hour.

        Sessions held by another process are skipped; removals happen one
        after another in the listing's order; the index is rewritten once.
        """
        report = CleanupReport(cutoff=before, dry_run=dry_run)
        listing = self.lister.listing(include_hidden=True)
        report.unreadable = listing.skipped
        cut = from_datetime(before) if before is not None else None
        idle = now_ns() - int(EMPTY_GRACE.total_seconds()) * 10**9
        due_now, report.skipped = Due.select(listing.sessions, listing.keys, cut, empty, idle)
        candidates = [i.id for i in due_now]
        if dry_run:
            report.removed = candidates
            return report
        due = Due(self.lister, cut, empty, idle, listing.keys)
        dkey = locking.dir_key(self.layout.dir)  # once, not three stats per removal
        base = os.fspath(self.layout.dir)  # ids come from the listing: valid names
        for sid in candidates:
            outcome, reason = self._remove_if_due(sid, base, dkey, due)
            if outcome == "removed":
                report.removed.append(sid)
            elif outcome == "skipped":
                report.skipped.append((sid, reason))
            else:
                report.failed.append((sid, reason))
        due.cache.flush()
        report.warnings = self.index_after_removal(report.removed)
        return report

    def _remove_if_due(
        self, sid: str, base: str, dkey: str | None, due: Due
    ) -> tuple[str, str]:
        """(outcome, reason) for one candidate: removed, skipped or failed."""
        # Plain strings: building Paths was a tenth of a cleanup's time.
        path = f"{base}/{sid}.jsonl"
        try:
            handle = locking.acquire_session_lock(
                f"{base}/{sid}.lock", sid, timeout=0.0, directory=dkey)
        except SessionLocked as err:
            holder = f"process {err.pid}" if err.pid else "another process"
            return "skipped", f"in use by {holder}"
        except SessionError as err:
            return "failed", str(err)
        try:
            # The re-check and the unlink happen under <id>.jsonl.flock,
            # so no append can land between them and be deleted unseen.
            with locking.file_lock(f"{path}.flock", timeout=LOCK_TIMEOUT, session_id=sid,
                                   directory=dkey):
                try:
                    st = os.lstat(path)
                except FileNotFoundError:
                    return "skipped", "updated while cleaning up"  # gone meanwhile
                except OSError as err:
                    raise StoreIOError.wrap(f"remove session {sid}", err) from err
                if not due(sid, st):
                    return "skipped", "updated while cleaning up"
                unlink_locked(sid, st, path)
            return "removed", ""
        except SessionError as err:
            return "failed", str(err)
        finally:
            handle.release()


class Due:
    """Re-checks a cleanup candidate under its locks: an agent may have
    appended since the listing, and a session touched a minute ago must
    never go."""

    def __init__(
        self, lister: Lister, cut: int | None, empty: bool, idle: int,
        seen: dict[str, FileKey],
    ) -> None:
        self.lister, self.cut, self.empty, self.idle, self.seen = lister, cut, empty, idle, seen
        self.cache: SummaryCache = lister.summary_cache()
        self._index: dict[str, dict[str, JSON]] | None = None
        self._index_read = False

    @staticmethod
    def selects(
        info: SessionInfo, mtime_ns: int, cut: int | None, empty: bool, idle: int,
    ) -> bool:
        """The cleanup rule: last updated before ``cut``, or (with ``empty``)
        without user text and idle since ``idle``; either way the file
        itself not modified since, whatever times it records (SPEC §8.5: a
        file a writer appended to without recording times is not old)."""
        updated = info.updated[0]
        return (cut is not None and updated < cut and mtime_ns < cut) or (
            empty and info.hidden and updated < idle and mtime_ns < idle)

    @classmethod
    def select(
        cls, sessions: Iterable[SessionInfo], keys: dict[str, FileKey], cut: int | None,
        empty: bool, idle: int,
    ) -> tuple[list[SessionInfo], list[tuple[str, str]]]:
        """The listed sessions :meth:`selects` takes, and those kept only
        because their file was modified after the cutoff (reported as
        skipped: a user asking why an old session stayed gets the answer)."""
        due: list[SessionInfo] = []
        kept: list[tuple[str, str]] = []
        for i in sessions:
            mtime = keys[i.id].mtime_ns
            if cls.selects(i, mtime, cut, empty, idle):
                due.append(i)
            elif cut is not None and i.updated[0] < cut:
                kept.append((i.id, "file modified after the cutoff"))
        return due, kept

    def __call__(self, sid: str, st: os.stat_result) -> bool:
        key = FileKey.of(st)
        if key == self.seen.get(sid):
            return True  # the very version the listing judged (by selects)
        if not self._index_read:
            # Read once for the whole batch, and only if needed (re-reading
            # a 4 MB index per removal made cleanup quadratic).
            self._index, self._index_read = read_index(self.lister.layout.dir), True
        s = self.lister.summarize(sid, key, self.cache)
        info = info_of(sid, key, s, (self._index or {}).get(sid))
        return self.selects(info, st.st_mtime_ns, self.cut, self.empty, self.idle)


def unlink_locked(sid: str, st: os.stat_result, path: str | Path) -> None:
    """Remove the session file ``path`` (``st``: its lstat), its flock held."""
    if stat.S_ISDIR(st.st_mode):
        raise CorruptStore(f"cannot remove session {sid}: not a regular file")
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass  # already gone: the goal is reached
    except OSError as err:
        raise StoreIOError.wrap(f"remove session {sid}", err) from err
