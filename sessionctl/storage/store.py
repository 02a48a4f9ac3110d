"""``JSONLStore``: the seed's session store, safe to share with a running agent.

Reading and writing one session (load, save, the appends), the agent's
locks, and the entry points to listing (:mod:`.listing`) and removal
(:mod:`.removal`). Reads both generations of the reference's format, writes
records both read, appends without rewriting the index (SPEC §6-§7).
Exports live a layer above (:mod:`sessionctl.export`); the public class
with the seed's whole API, exports included, is :class:`sessionctl.api.JSONLStore`.
"""

from __future__ import annotations

import builtins
import contextlib
import os
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from ..core.folds import Fold, Reading, read_records, read_session
from ..core.ids import new_id, resolve, validate_id
from ..core.models import Message, TunnelEvent
from ..core.paths import cache_dir, current_workspace_path
from ..core.records import (
    checkpoint_record,
    dumps_line,
    message_record,
    meta_fields,
    meta_record,
    serialize,
    tunnel_record,
)
from ..core.session import Checkpoint, Session, SessionInfo
from ..core.text import derive_title
from ..core.times import format_ns, now_ns
from ..errors import CorruptStore, SessionLocked, StoreIOError
from . import fsio, locking
from .layout import Layout
from .listing import Lister, Listing, info_of, open_session, scan_dir, select, session_times
from .removal import LOCK_TIMEOUT, CleanupReport, Remover
from .summaries import FileKey

__all__ = ["CleanupReport", "FileStore", "Listing", "new_session"]

JSON = Any


class FileStore:
    """Sessions as ``<id>.jsonl`` files in one directory, plus ``index.json``.

    ``cache``: sessionctl's cache directory (``True``: the user's; ``False``:
    none). ``parallel``: a first listing of a big store may read files in
    worker processes (the command line opts in; a library call by default
    starts no process).
    """

    def __init__(
        self, directory: str | os.PathLike[str], *, create: bool = True,
        cache: Path | bool | None = True, parallel: bool = False,
    ) -> None:
        self._layout = Layout(directory)
        try:
            if create:
                fsio.ensure_dir(self._layout.dir)
            elif not self._layout.dir.is_dir():
                raise StoreIOError(f"no session store at {self._layout.dir}")
        except OSError as err:
            raise StoreIOError.wrap("create store", err) from err
        if cache is True:
            cdir: Path | None = cache_dir()
        elif cache is False:
            cdir = None
        else:
            cdir = cache
        self._lister = Lister(self._layout, cdir, parallel=parallel)
        self._remover = Remover(self._lister)

    @property
    def dir(self) -> Path:
        """The store's directory."""
        return self._layout.dir

    @property
    def layout(self) -> Layout:
        """Where each file of the store lives."""
        return self._layout

    @property
    def lister(self) -> Lister:
        """The store's listing (and its caches)."""
        return self._lister

    # -- ids ---------------------------------------------------------------
    def ids(self) -> builtins.list[str]:
        """Every session id in the store, hidden and unreadable ones included."""
        files, odd = scan_dir(self.dir)
        return sorted([*files, *(sid for sid, _ in odd)])

    def resolve_id(self, arg: str) -> str:
        """A full id or a unique prefix of an id or of its hex part -> the id."""
        path = self._layout.session(arg)  # validates
        if path.exists() or os.path.lexists(path):
            return arg
        return resolve(arg, self.ids())

    # -- listing -----------------------------------------------------------
    def listing(self, *, include_hidden: bool = False) -> Listing:
        """Every session, newest first, checked against the files; never
        writes into the store (see :class:`~.listing.Lister`)."""
        return self._lister.listing(include_hidden=include_hidden)

    def query(
        self, *, include_hidden: bool = False, workspace: str | None = None,
        model: str | None = None, vendor: str | None = None,
        since: datetime | None = None, until: datetime | None = None, limit: int | None = None,
    ) -> Listing:
        """The listing, filtered (see :func:`~.listing.select`)."""
        return select(self.listing(include_hidden=include_hidden), workspace=workspace,
                      model=model, vendor=vendor, since=since, until=until, limit=limit)

    def list(self, *, include_hidden: bool = False) -> builtins.list[SessionInfo]:
        """Sessions newest first; hidden ones (no user text) only if asked."""
        return self.listing(include_hidden=include_hidden).sessions

    # -- reading -----------------------------------------------------------
    def load(self, session_id: str) -> Session:
        """The whole session: full history, checkpoints, events, cost, metadata."""
        sid = validate_id(session_id)
        with open_session(self._layout, sid) as f:
            try:
                st = os.fstat(f.fileno())
                ses, reading = read_session(sid, f)
            except OSError as err:
                # A partly read session must never be returned: a save would
                # drop the unread rest.
                raise CorruptStore(f"cannot read session {sid}: {err.strerror or err}") from err
        mf = reading.mf
        created, updated = mf.times()
        entry = self._lister.entry_if_needed(sid, mf.has_meta, created, updated)
        if not mf.has_meta and entry is not None:
            for name in ("title", "workspace", "vendor", "endpoint", "model"):
                v = entry.get(name)
                setattr(ses, name, v if isinstance(v, str) else "")
        if not ses.title:
            ses.title = derive_title(ses.first_user_text())
        ses._set_times(*session_times(created, updated, entry, FileKey.of(st)))
        ses._disk_meta = meta_fields(ses) if mf.has_meta else None
        ses._disk_meta_raw = mf.last_meta
        return ses

    def read(
        self, session_id: str, fold: Fold | None = None, *, exact_shown: bool = False
    ) -> tuple[Reading, SessionInfo]:
        """Read the session's file once through ``fold`` (see
        :func:`~sessionctl.core.folds.read_records`): what the reading found,
        and the session's metadata as ``list`` shows it."""
        sid = validate_id(session_id)
        with open_session(self._layout, sid) as f:
            try:
                key = FileKey.of(os.fstat(f.fileno()))
                reading = read_records(f, fold, exact_shown=exact_shown)
            except OSError as err:
                raise CorruptStore(f"cannot read session {sid}: {err.strerror or err}") from err
        s = reading.summary()
        entry = self._lister.entry_if_needed(sid, s.has_meta, s.created, s.updated)
        return reading, info_of(sid, key, s, entry)

    def in_use(self, session_id: str) -> int | None:
        """The PID holding ``<id>.lock`` (0 if it has not written one yet), or
        ``None`` when no other process has the session open."""
        try:
            with self.lock(session_id, timeout=0.0):
                return None
        except SessionLocked as err:
            return err.pid or 0

    # -- writing -----------------------------------------------------------
    def save(self, session: Session) -> None:
        """Write the whole session, replacing its file atomically.

        Sets ``updated_at`` to now. What other processes appended after this
        Session was loaded is not in it (as the reference). A session with no
        records and no file yet is not written. Never deletes. An empty title
        is written as the derived one (SPEC §8.5), so the agent shows it too.
        """
        sid = validate_id(session.id)
        path = self._layout.session(sid)
        has_records = bool(
            session._layout or session.messages or session.tunnel_events
            or session.checkpoints or session.cost is not None
        )
        if not has_records and not os.path.lexists(path):
            return
        now = now_ns()
        stamp = format_ns(now)
        session._updated = (now, stamp)
        if session._created is None:
            session._created = (now, stamp)
        for m in session.messages:
            m.ensure_identity(now)
        if not session.title:
            session.title = derive_title(session.first_user_text())
        try:
            with self._writing(sid):
                fsio.atomic_write(path, serialize(session, stamp))
        except OSError as err:
            raise StoreIOError.wrap(f"save session {sid}", err) from err
        session._disk_meta = meta_fields(session)
        self._remover.update_index(refresh=[sid])

    def ensure_meta(self, session: Session) -> None:
        """Create the session's file with its meta record, if it has none yet.

        Like the reference, does nothing for a session without user text.
        """
        sid = validate_id(session.id)
        if not session.has_user_interaction():
            return
        path = self._layout.session(sid)
        if session._created is None:
            session.created_at = datetime.now().astimezone()
        data = dumps_line(meta_record(session, updated=format_ns(now_ns())))
        try:
            with self._writing(sid):
                created = fsio.create_exclusive(path, data)
        except OSError as err:
            raise StoreIOError.wrap(f"write session {sid}", err) from err
        if created:
            session._disk_meta = meta_fields(session)
            self._remover.update_index(refresh=[sid])

    def _append(self, session: Session, records: builtins.list[dict[str, JSON]], now: int) -> None:
        """Append records (one write, one fsync) under ``<id>.jsonl.flock``.

        A fresh ``meta`` goes first when the file is new or the session's
        metadata differs from the file's last meta (so a title set after the
        first message is not lost). The index is not rewritten, except once
        when the file is created.
        """
        sid = validate_id(session.id)
        path = self._layout.session(sid)
        stamp = format_ns(now)
        if session._created is None:
            session._created = (now, stamp)
        try:
            with self._writing(sid):
                exists = os.path.lexists(path)
                if exists and session._disk_meta is None:
                    session._disk_meta, session._disk_meta_raw = self._disk_meta_of(sid)
                lines = []
                if not exists or session._disk_meta != meta_fields(session):
                    lines.append(dumps_line(
                        meta_record(session, session._disk_meta_raw, updated=stamp)))
                lines.extend(dumps_line(r) for r in records)
                fsio.durable_append(path, b"".join(lines))
        except OSError as err:
            raise StoreIOError.wrap(f"append to session {sid}", err) from err
        # The index is not touched, not even for a new file: list finds new
        # files in the directory, and the agent's own index repair adds them.
        session._disk_meta = meta_fields(session)

    def _disk_meta_of(self, sid: str) -> tuple[Any, dict[str, JSON] | None]:
        with open_session(self._layout, sid) as f:
            ses, reading = read_session(sid, (ln for ln in f if b'"meta"' in ln))
        mf = reading.mf
        return (meta_fields(ses) if mf.has_meta else None), mf.last_meta

    def append_message(self, session: Session, message: Message) -> None:
        """Append one message to disk and to ``session`` (title derived if empty)."""
        now = now_ns()
        message.ensure_identity(now)
        if not session.title and message.role == "user":
            text = next((t for t in message.texts() if t), "")
            if text:
                session.title = derive_title(text)
        self._append(session, [message_record(session.id, message)], now)
        session.messages.append(message)
        session._updated = (now, format_ns(now))

    def append_message_to_disk(self, session: Session, message: Message) -> None:
        """Append one message to disk only; ``session`` is left as it is."""
        now = now_ns()
        message.ensure_identity(now)
        self._append(session, [message_record(session.id, message)], now)

    def append_checkpoint(
        self, session: Session, compacted: builtins.list[Message], tokens: int
    ) -> None:
        """Record a compaction (legacy form) on disk and in ``session``."""
        now = now_ns()
        cp = _compacted(session, compacted, tokens, now)
        self._append(session, [checkpoint_record(session.id, cp, format_ns(now))], now)
        session.checkpoints.append(cp)
        session._updated = (now, format_ns(now))

    def append_checkpoint_to_disk(
        self, session: Session, compacted: builtins.list[Message], tokens: int
    ) -> None:
        """Record a compaction on disk only."""
        now = now_ns()
        cp = _compacted(session, compacted, tokens, now)
        self._append(session, [checkpoint_record(session.id, cp, format_ns(now))], now)

    def append_tunnel_event_to_disk(self, session: Session, event: TunnelEvent) -> None:
        """Append one tunnel event to disk only."""
        now = now_ns()
        rec = tunnel_record(session.id, event)
        rec["timestamp"] = format_ns(now)
        self._append(session, [rec], now)

    def _writing(self, sid: str) -> contextlib.AbstractContextManager[bool]:
        """``<id>.jsonl.flock``, held around every append and rewrite."""
        return locking.file_lock(self._layout.session_flock(sid), timeout=LOCK_TIMEOUT,
                                 session_id=sid)

    # -- removing ----------------------------------------------------------
    @contextlib.contextmanager
    def lock(self, session_id: str, timeout: float = 0.0) -> Iterator[locking.SessionLockHandle]:
        """Hold ``<id>.lock`` as an agent does while it has the session open.

        Raises :class:`SessionLocked` (naming the holder's PID) when another
        process still holds it after ``timeout`` seconds.
        """
        sid = validate_id(session_id)
        handle = locking.acquire_session_lock(self._layout.session_lock(sid), sid, timeout=timeout)
        try:
            yield handle
        finally:
            handle.release()

    def delete(self, session_id: str) -> None:
        """Remove a session; refuses one held by another live process."""
        self.delete_many([session_id])

    def delete_many(self, session_ids: Iterable[str]) -> builtins.list[str]:
        """Remove several sessions, all or nothing as far as locks go; the
        warnings of a removal that succeeded all the same (see
        :meth:`~.removal.Remover.delete_many`)."""
        return self._remover.delete_many(session_ids)

    def cleanup(
        self, *, before: datetime | None = None, empty: bool = False, dry_run: bool = False
    ) -> CleanupReport:
        """Remove sessions last updated before ``before`` (visible or hidden),
        and with ``empty`` also sessions without user text idle for an hour;
        sessions in use are skipped (see :meth:`~.removal.Remover.cleanup`)."""
        return self._remover.cleanup(before=before, empty=empty, dry_run=dry_run)

    def cleanup_older_than(self, before: datetime) -> int:
        """The seed's cleanup: remove sessions updated before ``before``; the count."""
        return len(self.cleanup(before=before).removed)


def _compacted(
    session: Session, compacted: builtins.list[Message], tokens: int, now: int
) -> Checkpoint:
    """A legacy checkpoint after the session's messages, holding copies of
    ``compacted`` (each with an id and a timestamp, no record fields)."""
    msgs = [Message.from_dict(m.to_dict()) for m in compacted]
    for m in msgs:
        if not m.id:
            m.ensure_identity(now)
        m.record_fields = {}
    return Checkpoint(after_message=len(session.messages), tokens=tokens, messages=msgs)


def new_session(vendor: str = "", endpoint: str = "", model: str = "") -> Session:
    """A new, unsaved session in the current workspace with a fresh id."""
    now = now_ns()
    ses = Session(new_id(now / 1e9), vendor=vendor, endpoint=endpoint, model=model,
                  workspace=current_workspace_path())
    ses._set_times((now, format_ns(now)), (now, format_ns(now)))
    return ses
