"""``JSONLStore``: the seed's session store, safe to share with a running agent.

Every file operation of sessionctl goes through this class. It reads both
generations of the reference's format, writes records both read, appends
without rewriting the index, and takes the agent's own locks (SPEC §6-§7).
"""

from __future__ import annotations

import builtins
import contextlib
import functools
import io
import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Protocol

from ..core.ids import new_id, resolve, session_ids_in, validate_id
from ..core.models import Checkpoint, Message, Session, SessionInfo, TunnelEvent, gc_paused
from ..core.paths import cache_dir, current_workspace_path, default_dir
from ..core.records import (
    Summary,
    checkpoint_record,
    dumps_line,
    fold,
    message_record,
    meta_fields,
    meta_record,
    serialize,
    tunnel_record,
)
from ..core.text import derive_title
from ..core.times import format_ns, from_datetime, now_ns, parse_ns
from ..errors import CorruptStore, SessionError, SessionLocked, SessionNotFound, StoreIOError
from . import bulk, fsio, locking
from .index import (
    FileKey,
    ListingSnapshot,
    SummaryCache,
    make_entry,
    read_index,
    write_index,
)

if TYPE_CHECKING:  # scan is imported where a file is read: list seldom reads one
    from ..core.scan import Render, Scanned

__all__ = [
    "CleanupReport",
    "JSONLStore",
    "Listing",
    "Store",
    "export_session_markdown",
    "new_default_store",
    "new_session",
]

JSON = Any
#: How long writers wait for ``<id>.jsonl.flock`` / ``index.json.flock``.
LOCK_TIMEOUT = 30.0
_REMOVERS = 8  # cleanup's removal threads
_new_tuple = tuple.__new__
#: ``cleanup --empty`` spares sessions touched within this window (an agent
#: may be about to write the first prompt).
EMPTY_GRACE = timedelta(hours=1)


class Store(Protocol):
    """The seed's ``Store`` interface."""

    def save(self, session: Session) -> None: ...
    def load(self, session_id: str) -> Session: ...
    def list(self, *, include_hidden: bool = False) -> builtins.list[SessionInfo]: ...
    def delete(self, session_id: str) -> None: ...
    def export_markdown(self, session_id: str, *, context: bool = False) -> str: ...
    def cleanup_older_than(self, before: datetime) -> int: ...
    def append_checkpoint(
        self, session: Session, compacted: builtins.list[Message], tokens: int
    ) -> None: ...


@dataclass
class Listing:
    """What ``list`` found: the sessions, and the files it could not read."""

    sessions: builtins.list[SessionInfo]
    skipped: builtins.list[tuple[str, str]] = field(default_factory=list)
    #: The version of each file the listing read (for cleanup's re-check).
    keys: dict[str, FileKey] = field(default_factory=dict, repr=False)


@dataclass
class CleanupReport:
    """What a cleanup removed, skipped (in use) and failed to remove."""

    cutoff: datetime | None
    dry_run: bool
    removed: builtins.list[str] = field(default_factory=list)
    skipped: builtins.list[tuple[str, str]] = field(default_factory=list)
    failed: builtins.list[tuple[str, str]] = field(default_factory=list)
    unreadable: builtins.list[tuple[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, JSON]:
        return {
            "cutoff": format_ns(from_datetime(self.cutoff)) if self.cutoff else None,
            "dry_run": self.dry_run,
            "removed": list(self.removed),
            "skipped": [{"id": i, "reason": r} for i, r in self.skipped],
            "failed": [{"id": i, "reason": r} for i, r in self.failed],
        }


class JSONLStore:
    """Sessions as ``<id>.jsonl`` files in one directory, plus ``index.json``."""

    def __init__(
        self, directory: str | os.PathLike[str], *, create: bool = True,
        cache: Path | bool | None = True,
    ) -> None:
        self._dir = Path(directory)
        try:
            if create:
                fsio.ensure_dir(self._dir)
            elif not self._dir.is_dir():
                raise StoreIOError(f"no session store at {self._dir}")
        except OSError as err:
            raise StoreIOError.wrap("create store", err) from err
        if cache is True:
            self._cache_dir: Path | None = cache_dir()
        elif cache is False:
            self._cache_dir = None
        else:
            self._cache_dir = cache

    # -- paths -------------------------------------------------------------
    @property
    def dir(self) -> Path:
        """The store's directory."""
        return self._dir

    def _path(self, sid: str) -> Path:
        return self._dir / f"{validate_id(sid)}.jsonl"

    def _flock(self, sid: str) -> Path:
        return self._dir / f"{sid}.jsonl.flock"

    def _lockfile(self, sid: str) -> Path:
        return self._dir / f"{sid}.lock"

    @property
    def _index_flock(self) -> Path:
        return self._dir / "index.json.flock"

    # -- scanning ----------------------------------------------------------
    def _scan(self) -> tuple[dict[str, FileKey], builtins.list[tuple[str, str]]]:
        """Session files by id, and names that look like sessions but are not
        regular files of the store (directories, symlinks).

        The hot loop of every ``list``: the session names are picked out of
        the directory listing in one pass, and each is stat'ed relative to an
        open directory descriptor (no path building, shorter kernel lookups).
        """
        files: dict[str, FileKey] = {}
        odd: builtins.list[tuple[str, str]] = []
        try:
            names = os.listdir(self._dir)
            dfd = os.open(self._dir, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except FileNotFoundError:
            raise StoreIOError(f"no session store at {self._dir}") from None
        except OSError as err:
            raise StoreIOError.wrap("read store", err) from err
        sids = session_ids_in(names)
        stat_at, is_reg, new = os.stat, stat.S_ISREG, _new_tuple
        try:
            for sid in sids:
                try:
                    st = stat_at(sid + ".jsonl", dir_fd=dfd, follow_symlinks=False)
                except FileNotFoundError:
                    continue  # removed between readdir and stat
                except OSError as err:
                    odd.append((sid, err.strerror or "cannot stat"))
                    continue
                mode = st.st_mode
                if is_reg(mode):
                    files[sid] = new(FileKey, (st.st_size, st.st_mtime_ns, st.st_ino))
                elif stat.S_ISLNK(mode):
                    odd.append((sid, "a symbolic link (not followed)"))
                else:
                    odd.append((sid, "not a regular file"))
        finally:
            os.close(dfd)
        return files, odd

    @functools.cached_property
    def _real(self) -> Path:
        """The store's resolved path (names its cache files)."""
        return self._dir.resolve()

    def _index_key(self) -> FileKey | None:
        try:
            return FileKey.of(os.stat(self._dir / "index.json"))
        except OSError:
            return None

    def ids(self) -> builtins.list[str]:
        """Every session id in the store, hidden and unreadable ones included."""
        files, odd = self._scan()
        return sorted([*files, *(sid for sid, _ in odd)])

    def resolve_id(self, arg: str) -> str:
        """A full id or a unique prefix of an id or of its hex part -> the id."""
        validate_id(arg)
        if self._path(arg).exists() or os.path.lexists(self._path(arg)):
            return arg
        return resolve(arg, self.ids())

    def _summarize(self, sid: str, key: FileKey, cache: SummaryCache) -> Summary:
        hit = cache.get(sid, key)
        if hit is not None:
            return hit
        with self._open(sid) as f:
            try:
                from ..core.scan import summarize

                summary = summarize(f)
            except OSError as err:
                raise CorruptStore(f"cannot read session {sid}: {err.strerror or err}") from err
        cache.put(sid, key, summary)
        return summary

    def _prefetch(self, files: dict[str, FileKey], cache: SummaryCache) -> None:
        """Read the files the cache lacks on every core, when there are many
        (a first listing of a big store); results go into ``cache``."""
        misses = [(sid, key) for sid, key in files.items() if cache.get(sid, key) is None]
        workers = bulk.worth_parallel(len(misses), sum(k.size for _, k in misses))
        if not workers:
            return
        try:
            results = bulk.summarize_many(
                self._dir, [(sid, key.size) for sid, key in misses], workers)
        except (OSError, RuntimeError, ImportError):
            return  # no workers here: read in this process instead
        for sid, key in misses:
            result = results.get(sid)
            if isinstance(result, Summary):
                cache.put(sid, key, result)
            # Errors and vanished files are left to the in-process pass,
            # which reports them exactly as without workers.

    @contextlib.contextmanager
    def _open(self, sid: str) -> Iterator[IO[bytes]]:
        path = self._path(sid)
        try:
            f = fsio.open_regular(path)
        except FileNotFoundError:
            raise SessionNotFound(sid) from None
        except OSError as err:
            reason = "a symbolic link (not followed)" if err.errno == 40 else (
                err.strerror or str(err))
            raise CorruptStore(f"cannot read session {sid}: {reason}") from err
        with f:
            yield f

    def _entry_if_needed(
        self, sid: str, has_meta: bool, created: object, updated: object
    ) -> dict[str, JSON] | None:
        """The index entry, read only when the file lacks meta or times."""
        if has_meta and created is not None and updated is not None:
            return None
        return (read_index(self._dir) or {}).get(sid)

    def _info(
        self, sid: str, key: FileKey, s: Summary, entry: dict[str, JSON] | None
    ) -> SessionInfo:
        if s.has_meta or entry is None:
            title, ws, vendor, endpoint, model, preview = (
                s.title, s.workspace, s.vendor, s.endpoint, s.model, s.preview)
        else:  # no meta: the index entry describes the session (SPEC §7)
            def g(k: str) -> str:
                v = entry.get(k) if entry else None
                return v if isinstance(v, str) else ""
            title, ws, vendor, endpoint, model, preview = (
                g("title"), g("workspace"), g("vendor"), g("endpoint"), g("model"), g("preview"))
        if not title:
            title = s.first_user_text
        created, updated = _times(s.created, s.updated, entry, key)
        return SessionInfo(
            id=sid, title=title, workspace=ws, vendor=vendor, endpoint=endpoint, model=model,
            preview=preview, created=created, updated=updated, msg_count=s.msg_count,
            hidden=not s.user_interaction,
        )

    def listing(self, *, include_hidden: bool = False, write_index: bool = True) -> Listing:
        """Every session, newest first, checked against the files.

        Never modifies a session file. When ``index.json`` is missing,
        corrupt or stale it is rewritten from the files (only if the rebuild
        was complete and nobody holds ``index.json.flock`` right now).

        Fast path: the last listing is kept (``ListingSnapshot``) with each
        file's version; files whose size, mtime and inode are unchanged take
        their row from it, and only the others are read.
        """
        # Tens of thousands of long-lived objects (rows, infos), no cycles.
        with gc_paused():
            return self._listing(include_hidden, write_index)

    def _listing(self, include_hidden: bool, write_index: bool) -> Listing:
        files, skipped = self._scan()
        snapshot = ListingSnapshot(self._cache_dir, self._real)
        rows = snapshot.load(self._index_key())
        infos: builtins.list[SessionInfo] = []
        dirty: dict[str, FileKey] = dict(files)
        if rows is not None:
            # The hot loop of a warm list, one pass per session, inlined: a
            # row is current when size, mtime and inode match and it was not
            # flagged as taken within a clock tick of a change (see _row_of).
            pop, new, append = dirty.pop, _new_tuple, infos.append
            for r in rows:
                key = pop(r[0], None)
                if key is None:
                    continue
                if r[1] == key[0] and r[2] == key[1] and r[3] == key[2] and not r[16]:
                    append(new(SessionInfo, (r[0], r[4], r[5], r[6], r[7], r[8], (r[10], r[11]),
                                             (r[12], r[13]), r[14], r[15], r[9])))
                else:
                    dirty[r[0]] = key  # changed: read again below
            if not dirty and len(infos) == len(rows) and not skipped:
                # Nothing changed since the last complete listing; the rows
                # are stored in order and the index was consistent then.
                shown = infos if include_hidden else [i for i in infos if not i.hidden]
                return Listing(shown, [], files)
        index = read_index(self._dir)
        infos.extend(self._read_infos(dirty, index, skipped, whole=rows is None))
        infos.sort(key=lambda i: (i.updated[0], i.updated[1], i.id), reverse=True)
        if not skipped and self._refresh_index(index, infos, write=write_index):
            snapshot.save(self._index_key(), [_row_of(i, files[i.id]) for i in infos])
        shown = infos if include_hidden else [i for i in infos if not i.hidden]
        return Listing(shown, sorted(skipped), files)

    def _read_infos(
        self, files: dict[str, FileKey], index: dict[str, dict[str, JSON]] | None,
        skipped: builtins.list[tuple[str, str]], *, whole: bool,
    ) -> builtins.list[SessionInfo]:
        """Rows for ``files``, read through the summary cache (all on every
        core for a first listing) or, for a few changed files, directly."""
        use_cache = whole or len(files) > 64
        cache = SummaryCache(self._cache_dir if use_cache else None, self._real)
        if use_cache:
            self._prefetch(files, cache)
        infos = []
        for sid, key in files.items():
            try:
                s = self._summarize(sid, key, cache)
            except SessionNotFound:
                continue  # removed while we listed
            except SessionError as err:
                skipped.append((sid, str(err)))
                continue
            infos.append(self._info(sid, key, s, index.get(sid) if index else None))
        if use_cache:
            if whole:
                cache.retain(set(files))
            cache.flush(self._real)
        return infos

    def query(
        self, *, include_hidden: bool = False, workspace: str | None = None,
        model: str | None = None, vendor: str | None = None,
        since: datetime | None = None, until: datetime | None = None, limit: int | None = None,
    ) -> Listing:
        """The listing, filtered: ``workspace`` (a normalised path), ``model``
        and ``vendor`` match exactly; ``since`` (inclusive) and ``until``
        (exclusive) compare ``updated_at``; at most ``limit`` sessions."""
        listing = self.listing(include_hidden=include_hidden)
        lo = None if since is None else from_datetime(since)
        hi = None if until is None else from_datetime(until)
        listing.sessions = [
            i for i in listing.sessions
            if (workspace is None or i.workspace == workspace)
            and (model is None or i.model == model)
            and (vendor is None or i.vendor == vendor)
            and (lo is None or i.updated[0] >= lo)
            and (hi is None or i.updated[0] < hi)
        ][:limit]
        return listing

    def list(self, *, include_hidden: bool = False) -> builtins.list[SessionInfo]:
        """Sessions newest first; hidden ones (no user text) only if asked."""
        return self.listing(include_hidden=include_hidden).sessions

    # -- index -------------------------------------------------------------
    def _refresh_index(
        self, index: dict[str, dict[str, JSON]] | None, infos: builtins.list[SessionInfo],
        *, write: bool = True,
    ) -> bool:
        """Rewrite a missing, corrupt or stale index; True when the index on
        disk now agrees with ``infos``."""
        if index is not None and len(index) == len(infos) and all(
            _entry_matches(index.get(i.id), i) for i in infos
        ):
            return True  # the common case: checked field by field, nothing built
        wanted = {i.id: _entry(i, index.get(i.id) if index else None) for i in infos}
        if index is not None and index == wanted:
            return True
        if not write:
            return False
        # A reader never waits for the index lock: if a writer holds it, the
        # index is being rewritten anyway.
        with contextlib.suppress(OSError, SessionError), locking.file_lock(
            self._index_flock, timeout=0
        ) as got:
            # Sessions created or deleted since the scan: the rebuild is not
            # complete any more, and writing it would drop or resurrect an
            # entry. The next list will do it.
            if got and set(self._scan()[0]) == set(wanted):
                current = read_index(self._dir)
                order = list(current or {}) + [i for i in wanted if i not in (current or {})]
                write_index(self._dir, [wanted[i] for i in order if i in wanted])
                return True
        return False

    def _update_index(self, *, refresh: Iterable[str] = (), remove: Iterable[str] = ()) -> None:
        """Read-modify-write of ``index.json`` under ``index.json.flock``.

        Never writes an index lacking a session whose file exists: entries
        for files it does not know are built from the files first.
        """
        refreshed = set(refresh)
        removals = set(remove)
        try:
            with locking.file_lock(self._index_flock, timeout=LOCK_TIMEOUT, what="locked"):
                index = read_index(self._dir)
                files, _odd = self._scan()
                cache = SummaryCache(self._cache_dir, self._real)
                entries: dict[str, dict[str, JSON]] = {}
                for sid, entry in (index or {}).items():
                    if sid in files and not (sid in removals and sid not in files):
                        entries[sid] = entry
                for sid, key in files.items():
                    if sid in refreshed or sid not in entries:
                        try:
                            s = self._summarize(sid, key, cache)
                        except SessionError:
                            continue
                        old = entries.get(sid)
                        entries[sid] = _entry(self._info(sid, key, s, old), old)
                cache.flush(self._real)
                write_index(self._dir, list(entries.values()))
        except OSError as err:
            raise StoreIOError.wrap("update index.json", err) from err

    # -- reading -----------------------------------------------------------
    def load(self, session_id: str) -> Session:
        """The whole session: full history, checkpoints, events, cost, metadata."""
        sid = validate_id(session_id)
        with self._open(sid) as f:
            try:
                st = os.fstat(f.fileno())
                ses, mf = fold(sid, f)
            except OSError as err:
                # A partly read session must never be returned: a save would
                # drop the unread rest.
                raise CorruptStore(f"cannot read session {sid}: {err.strerror or err}") from err
        created, updated = mf.times()
        entry = self._entry_if_needed(sid, mf.has_meta, created, updated)
        if not mf.has_meta and entry is not None:
            for name in ("title", "workspace", "vendor", "endpoint", "model"):
                v = entry.get(name)
                setattr(ses, name, v if isinstance(v, str) else "")
        if not ses.title:
            ses.title = derive_title(ses.first_user_text())
        ses._set_times(*_times(created, updated, entry, FileKey.of(st)))
        ses._disk_meta = meta_fields(ses) if mf.has_meta else None
        ses._disk_meta_raw = mf.last_meta
        return ses

    def export_markdown(self, session_id: str, *, context: bool = False) -> str:
        """The session as a markdown document (see :meth:`write_markdown`)."""
        buf = io.StringIO()
        self.write_markdown(session_id, buf, context=context)
        return buf.getvalue()

    def write_markdown(self, session_id: str, out: IO[str], *, context: bool = False) -> None:
        """Stream the markdown export to ``out``, reading the file once:
        memory stays bounded by the largest record, not the file."""
        from ..export import stream as export  # rendering is only paid for by exports
        from ..export.markdown import ExportHeader

        with self._scanned(session_id, export.markdown_message) as (sc, info):
            header = ExportHeader(
                id=info.id, title=info.title, created_ns=info.created[0],
                updated_ns=info.updated[0], vendor=info.vendor, endpoint=info.endpoint,
                model=info.model,
            )
            write, finish = export.text_writer(out)
            export.write_markdown(sc, header, write, context=context)
            finish()

    def write_json(self, session_id: str, out: IO[bytes], *, context: bool = False) -> None:
        """Stream ``show --json`` to ``out``: the same document as
        ``load(id).to_dict()`` (with ``context``, ``messages`` is the resume
        context), without building the session in memory."""
        from ..export import stream as export

        with self._scanned(session_id, export.json_section, events=True) as (sc, info):
            head = {
                "id": info.id, "title": info.title, "workspace": info.workspace,
                "vendor": info.vendor, "endpoint": info.endpoint, "model": info.model,
                "created_at": info.created[1], "updated_at": info.updated[1],
            }
            export.write_json(sc, head, out.write, context=context)

    @contextlib.contextmanager
    def _scanned(
        self, session_id: str, render: Render, *, events: bool = False
    ) -> Iterator[tuple[Scanned, SessionInfo]]:
        """The file scanned once (messages rendered by ``render``), and its
        metadata as ``list`` shows it."""
        sid = validate_id(session_id)
        with self._open(sid) as f:
            try:
                key = FileKey.of(os.fstat(f.fileno()))
                from ..core.scan import scan_file

                sc = scan_file(f, render, events=events)
            except OSError as err:
                raise CorruptStore(f"cannot read session {sid}: {err.strerror or err}") from err
        with contextlib.closing(sc):
            s = sc.summary()
            entry = self._entry_if_needed(sid, s.has_meta, s.created, s.updated)
            yield sc, self._info(sid, key, s, entry)

    def write_markdown_file(
        self, session_id: str, path: str | os.PathLike[str], *, context: bool = False,
        sync_dir: bool = True,
    ) -> None:
        """Export to ``path``: the complete document or nothing.

        A regular file is replaced atomically (through a symlink, which stays
        a link); a device or a pipe (``/dev/stdout``) is written to, never
        renamed over.
        """
        validate_id(session_id)  # before any file is touched
        target = Path(path)
        try:
            st: os.stat_result | None = os.stat(target)
        except FileNotFoundError:
            st = None
        except OSError as err:
            raise StoreIOError(f"cannot write {target}: {err.strerror or err}", err) from err
        try:
            if st is not None and stat.S_ISDIR(st.st_mode):
                raise StoreIOError(f"cannot write {target}: it is a directory")
            if st is not None and not stat.S_ISREG(st.st_mode):
                with open(target, "w", encoding="utf-8", newline="") as out:
                    self.write_markdown(session_id, out, context=context)
                return
            real = Path(os.path.realpath(target))
            with fsio.atomic_writer(real, mode=0o644, sync_dir=sync_dir) as raw:
                out = io.TextIOWrapper(raw, encoding="utf-8", newline="")
                self.write_markdown(session_id, out, context=context)
                out.flush()
                out.detach()
        except BrokenPipeError:
            raise
        except OSError as err:
            raise StoreIOError(f"cannot write {target}: {err.strerror or err}", err) from err

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
        records and no file yet is not written. Never deletes.
        """
        sid = validate_id(session.id)
        path = self._path(sid)
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
        try:
            with locking.file_lock(self._flock(sid), timeout=LOCK_TIMEOUT, session_id=sid):
                fsio.atomic_write(path, serialize(session, stamp))
        except OSError as err:
            raise StoreIOError.wrap(f"save session {sid}", err) from err
        session._disk_meta = meta_fields(session)
        self._update_index(refresh=[sid])

    def ensure_meta(self, session: Session) -> None:
        """Create the session's file with its meta record, if it has none yet.

        Like the reference, does nothing for a session without user text.
        """
        sid = validate_id(session.id)
        if not session.has_user_interaction():
            return
        path = self._path(sid)
        if session._created is None:
            session.created_at = datetime.now().astimezone()
        data = dumps_line(meta_record(session, updated=format_ns(now_ns())))
        try:
            with locking.file_lock(self._flock(sid), timeout=LOCK_TIMEOUT, session_id=sid):
                created = fsio.create_exclusive(path, data)
        except OSError as err:
            raise StoreIOError.wrap(f"write session {sid}", err) from err
        if created:
            session._disk_meta = meta_fields(session)
            self._update_index(refresh=[sid])

    def _append(self, session: Session, records: builtins.list[dict[str, JSON]], now: int) -> None:
        """Append records (one write, one fsync) under ``<id>.jsonl.flock``.

        A fresh ``meta`` goes first when the file is new or the session's
        metadata differs from the file's last meta (so a title set after the
        first message is not lost). The index is not rewritten, except once
        when the file is created.
        """
        sid = validate_id(session.id)
        path = self._path(sid)
        stamp = format_ns(now)
        if session._created is None:
            session._created = (now, stamp)
        try:
            with locking.file_lock(self._flock(sid), timeout=LOCK_TIMEOUT, session_id=sid):
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
        with self._open(sid) as f:
            _ses, mf = fold(sid, (ln for ln in f if b'"meta"' in ln))
        return (meta_fields(_ses) if mf.has_meta else None), mf.last_meta

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
        cp = self._checkpoint(session, compacted, tokens, now)
        self._append(session, [checkpoint_record(session.id, cp, format_ns(now))], now)
        session.checkpoints.append(cp)
        session._updated = (now, format_ns(now))

    def append_checkpoint_to_disk(
        self, session: Session, compacted: builtins.list[Message], tokens: int
    ) -> None:
        """Record a compaction on disk only."""
        now = now_ns()
        cp = self._checkpoint(session, compacted, tokens, now)
        self._append(session, [checkpoint_record(session.id, cp, format_ns(now))], now)

    @staticmethod
    def _checkpoint(
        session: Session, compacted: builtins.list[Message], tokens: int, now: int
    ) -> Checkpoint:
        msgs = [Message.from_dict(m.to_dict()) for m in compacted]
        for m in msgs:
            if not m.id:
                m.ensure_identity(now)
            m.record_fields = {}
        return Checkpoint(after_message=len(session.messages), tokens=tokens, messages=msgs)

    def append_tunnel_event_to_disk(self, session: Session, event: TunnelEvent) -> None:
        """Append one tunnel event to disk only."""
        now = now_ns()
        rec = tunnel_record(session.id, event)
        rec["timestamp"] = format_ns(now)
        self._append(session, [rec], now)

    # -- removing ----------------------------------------------------------
    @contextlib.contextmanager
    def lock(self, session_id: str, timeout: float = 0.0) -> Iterator[locking.SessionLockHandle]:
        """Hold ``<id>.lock`` as an agent does while it has the session open.

        Raises :class:`SessionLocked` (naming the holder's PID) when another
        process still holds it after ``timeout`` seconds.
        """
        sid = validate_id(session_id)
        handle = locking.acquire_session_lock(self._lockfile(sid), sid, timeout=timeout)
        try:
            yield handle
        finally:
            handle.release()

    def delete(self, session_id: str) -> None:
        """Remove a session; refuses one held by another live process."""
        self.delete_many([session_id])

    def delete_many(self, session_ids: Iterable[str]) -> None:
        """Remove several sessions, all or nothing as far as locks go: every
        id is checked and every ``<id>.lock`` taken before anything is removed."""
        sids = [validate_id(s) for s in session_ids]
        for sid in sids:
            if not os.path.lexists(self._path(sid)):
                raise SessionNotFound(sid)
        handles: builtins.list[locking.SessionLockHandle] = []
        try:
            for sid in dict.fromkeys(sids):
                handles.append(
                    locking.acquire_session_lock(self._lockfile(sid), sid, timeout=0.0))
            for sid in dict.fromkeys(sids):
                self._unlink(sid)
            self._update_index(remove=sids)
        finally:
            for h in handles:
                h.release()

    def _unlink(self, sid: str) -> None:
        try:
            with locking.file_lock(self._flock(sid), timeout=LOCK_TIMEOUT, session_id=sid):
                path = self._path(sid)
                self._unlink_locked(sid, os.lstat(path), path)
        except FileNotFoundError:
            pass  # already gone: the goal is reached
        except OSError as err:
            raise StoreIOError.wrap(f"remove session {sid}", err) from err

    def _unlink_locked(self, sid: str, st: os.stat_result, path: str | Path) -> None:
        """Remove the session file ``path`` (``st``: its lstat), its flock held."""
        if stat.S_ISDIR(st.st_mode):
            raise CorruptStore(f"cannot remove session {sid}: not a regular file")
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass  # already gone: the goal is reached
        except OSError as err:
            raise StoreIOError.wrap(f"remove session {sid}", err) from err

    def cleanup(
        self, *, before: datetime | None = None, empty: bool = False, dry_run: bool = False
    ) -> CleanupReport:
        """Remove sessions last updated before ``before`` (visible or hidden),
        and with ``empty`` also sessions without user text idle for an hour.

        Sessions held by another process are skipped; the index is rewritten
        once for the whole batch.
        """
        report = CleanupReport(cutoff=before, dry_run=dry_run)
        listing = self.listing(include_hidden=True, write_index=False)
        report.unreadable = listing.skipped
        cut = from_datetime(before) if before is not None else None
        idle = now_ns() - int(EMPTY_GRACE.total_seconds()) * 10**9
        candidates = [
            i.id for i in listing.sessions
            if (cut is not None and i.updated[0] < cut)
            or (empty and i.hidden and i.updated[0] < idle)
        ]
        if dry_run:
            report.removed = candidates
            return report
        # Read once for the whole batch (re-reading a 4 MB index per removed
        # session made cleanup quadratic).
        index = read_index(self._dir)
        cache = SummaryCache(self._cache_dir, self._real)

        dkey = locking.dir_key(self._dir)  # once, not three stats per removal
        base = os.fspath(self._dir)  # ids come from the listing: valid names

        def remove(sid: str) -> tuple[str, str]:
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
                    if not self._still_due(
                            sid, FileKey.of(st), listing.keys.get(sid), cut, empty, idle,
                            index, cache):
                        return "skipped", "updated while cleaning up"
                    self._unlink_locked(sid, st, path)
                return "removed", ""
            except SessionError as err:
                return "failed", str(err)
            finally:
                handle.release()

        # Each removal waits on the disk (the lock protocol fsyncs the PID it
        # writes); a few threads overlap those waits, each taking a slice of
        # the candidates (a task per removal cost more than the removal's own
        # Python). Sessions are distinct, and the lock registry is
        # thread-safe. Results keep the input order.
        from concurrent.futures import ThreadPoolExecutor

        workers = min(_REMOVERS, max(1, len(candidates)))
        slices = [candidates[k * len(candidates) // workers:
                             (k + 1) * len(candidates) // workers] for k in range(workers)]
        with ThreadPoolExecutor(max_workers=workers) as pool:
            done = pool.map(lambda part: [remove(sid) for sid in part], slices)
            outcomes = [o for part in done for o in part]
            for sid, (outcome, reason) in zip(candidates, outcomes, strict=True):
                if outcome == "removed":
                    report.removed.append(sid)
                elif outcome == "skipped":
                    report.skipped.append((sid, reason))
                else:
                    report.failed.append((sid, reason))
        cache.flush(self._real)
        if report.removed:
            self._update_index(remove=report.removed)
        return report

    def _still_due(
        self, sid: str, key: FileKey, seen: FileKey | None, cut: int | None, empty: bool,
        idle: int, index: dict[str, dict[str, JSON]] | None, cache: SummaryCache,
    ) -> bool:
        """Re-check under the session's locks: an agent may have appended since
        the listing, and a session touched a minute ago must never go."""
        if key == seen:
            return True  # the very version the listing judged
        s = self._summarize(sid, key, cache)
        info = self._info(sid, key, s, (index or {}).get(sid))
        return (cut is not None and info.updated[0] < cut) or (
            empty and info.hidden and info.updated[0] < idle)

    def cleanup_older_than(self, before: datetime) -> int:
        """The seed's cleanup: remove sessions updated before ``before``; the count."""
        return len(self.cleanup(before=before).removed)


def _mtime(key: FileKey) -> tuple[int, str]:
    return key.mtime_ns, format_ns(key.mtime_ns)


def _times(
    created: tuple[int, str] | None, updated: tuple[int, str] | None,
    entry: dict[str, JSON] | None, key: FileKey,
) -> tuple[tuple[int, str], tuple[int, str]]:
    """SPEC §7: a time from the file, else from the index entry, else the
    file's mtime (never "now")."""
    return (
        created or _entry_time(entry, "created_at") or _mtime(key),
        updated or _entry_time(entry, "updated_at") or _mtime(key),
    )


def _entry_time(entry: dict[str, JSON] | None, key: str) -> tuple[int, str] | None:
    if not entry:
        return None
    raw = entry.get(key)
    ns = parse_ns(raw)
    return (ns, raw) if ns is not None and isinstance(raw, str) else None


def _row_of(info: SessionInfo, key: FileKey) -> builtins.list[Any]:
    """A listing-snapshot row: the file's version, then the session's fields;
    the last field flags a row taken within a clock tick of a change
    (ListingSnapshot.save). ``listing`` reads rows back in its hot loop."""
    return [
        info.id, key.size, key.mtime_ns, key.ino, info.title, info.workspace, info.vendor,
        info.endpoint, info.model, info.preview, info.created[0], info.created[1],
        info.updated[0], info.updated[1], info.msg_count, info.hidden, 0,
    ]


def _entry_matches(entry: dict[str, JSON] | None, info: SessionInfo) -> bool:
    """True when the index entry already says what the files say."""
    if entry is None:
        return False
    g = entry.get
    return (
        g("updated_at") == info.updated[1]
        and g("msg_count") == info.msg_count
        and g("created_at") == info.created[1]
        and g("title") == info.title
        and (g("workspace") or "") == info.workspace
        and (g("model") or "") == info.model
        and (g("vendor") or "") == info.vendor
        and (g("endpoint") or "") == info.endpoint
        and (g("preview") or "") == info.preview
    )


def _entry(info: SessionInfo, base: dict[str, JSON] | None) -> dict[str, JSON]:
    return make_entry(
        base, id=info.id, title=info.title, preview=info.preview,
        created_at=info.created[1], updated_at=info.updated[1], msg_count=info.msg_count,
        workspace=info.workspace, vendor=info.vendor, endpoint=info.endpoint, model=info.model,
    )


def new_session(vendor: str = "", endpoint: str = "", model: str = "") -> Session:
    """A new, unsaved session in the current workspace with a fresh id."""
    now = now_ns()
    ses = Session(new_id(now / 1e9), vendor=vendor, endpoint=endpoint, model=model,
                  workspace=current_workspace_path())
    ses._set_times((now, format_ns(now)), (now, format_ns(now)))
    return ses


def new_default_store() -> JSONLStore:
    """A store in :func:`default_dir` (created if needed)."""
    return JSONLStore(default_dir())


def export_session_markdown(session: Session, *, context: bool = False) -> str:
    """Render a loaded :class:`Session` as markdown (the seed's function)."""
    from ..export.markdown import CheckpointMark, ExportHeader, render_markdown

    msgs = session.context_messages if context else session.messages
    header = ExportHeader(
        id=session.id, title=session.title, created_ns=session.created_ns,
        updated_ns=session.updated_ns, vendor=session.vendor, endpoint=session.endpoint,
        model=session.model, message_count=len(msgs),
    )
    items: builtins.list[Message | CheckpointMark] = []
    if context:
        items.extend(msgs)
    else:
        marks = {c["after_message"]: c for c in session.checkpoint_summaries()}
        usable = [cp for cp in session.checkpoints if cp.after_message in marks]
        k = 0
        for cp in usable:
            items.extend(msgs[k:cp.after_message])
            k = max(k, cp.after_message)
            shown = list(cp.messages) if cp.messages else [
                m for m in msgs if cp.summary_msg_id and m.id == cp.summary_msg_id][:1]
            items.append(CheckpointMark(cp.tokens, marks[cp.after_message]["messages"], shown))
        items.extend(msgs[k:])
    buf = io.StringIO()
    render_markdown(header, items, buf.write)
    return buf.getvalue()
