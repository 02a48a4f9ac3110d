"""Listing a store: which sessions there are, what each is, newest first.

The files are the truth (SPEC §5, §7): ``index.json`` only fills in what a
file lacks (a session without meta), and a file's times win over its entry.
Reading 10,000 files on every ``list`` is avoided by two caches of
sessionctl's own (:mod:`.summaries`), both keyed by each file's version.
Listing never writes into the store (SPEC §8.5).
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from ..core.folds import Summary
from ..core.ids import session_ids_in
from ..core.session import SessionInfo
from ..core.times import format_ns, from_datetime
from ..errors import CorruptStore, SessionError, SessionNotFound, StoreIOError
from . import bulk, fsio
from .index import make_entry, read_index
from .layout import Layout
from .summaries import FileKey, ListingSnapshot, Row, SummaryCache

__all__ = ["Lister", "Listing", "open_session", "scan_dir", "select"]

JSON = Any
_new_tuple = tuple.__new__


@dataclass
class Listing:
    """What ``list`` found: the sessions, and the files it could not read."""

    sessions: list[SessionInfo]
    skipped: list[tuple[str, str]] = field(default_factory=list)
    #: The version of each file the listing read (for cleanup's re-check).
    keys: dict[str, FileKey] = field(default_factory=dict, repr=False)


def scan_dir(
    directory: Path, only: Iterable[str] | None = None,
) -> tuple[dict[str, FileKey], list[tuple[str, str]]]:
    """Session files by id, and names that look like sessions but are not
    regular files of the store (directories, symlinks); with ``only``, just
    those ids (no directory read).

    The hot loop of every ``list``: the session names are picked out of the
    directory listing in one pass, and each is stat'ed relative to an open
    directory descriptor (no path building, shorter kernel lookups).
    """
    files: dict[str, FileKey] = {}
    odd: list[tuple[str, str]] = []
    try:
        names = os.listdir(directory) if only is None else []
        dfd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except FileNotFoundError:
        raise StoreIOError(f"no session store at {directory}") from None
    except OSError as err:  # like a missing store's message, not a usage error
        reason = err.strerror or type(err).__name__
        raise StoreIOError(f"cannot read the session store at {directory}: {reason}",
                           err) from err
    sids = session_ids_in(names) if only is None else list(only)
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


@contextlib.contextmanager
def open_session(layout: Layout, sid: str) -> Iterator[IO[bytes]]:
    """A session file open for reading; ``SessionNotFound`` when absent,
    ``CorruptStore`` when it is not a regular file of the store."""
    try:
        f = fsio.open_regular(layout.session(sid))
    except FileNotFoundError:
        raise SessionNotFound(sid) from None
    except OSError as err:
        reason = "a symbolic link (not followed)" if err.errno == errno.ELOOP else (
            err.strerror or str(err))
        raise CorruptStore(f"cannot read session {sid}: {reason}") from err
    with f:
        yield f


class Lister:
    """Lists one store, through sessionctl's caches in ``cache_dir`` (none
    when ``None``); ``parallel`` lets a first listing read on every core."""

    def __init__(self, layout: Layout, cache_dir: Path | None, *, parallel: bool = False) -> None:
        self.layout = layout
        self.cache_dir = cache_dir
        self.parallel = parallel
        self._real: Path | None = None
        #: The last listing's rows and file versions, for an index rewrite
        #: later in the same command (cleanup): rows of unchanged files are
        #: reused instead of loading the summary cache again.
        self._last: tuple[dict[str, FileKey], list[SessionInfo]] | None = None

    @property
    def real(self) -> Path:
        """The store's resolved path (names its cache files)."""
        if self._real is None:
            self._real = self.layout.dir.resolve()
        return self._real

    def summary_cache(self, *, persistent: bool = True) -> SummaryCache:
        return SummaryCache(self.cache_dir if persistent else None, self.real)

    def index_key(self) -> FileKey | None:
        try:
            return FileKey.of(os.stat(self.layout.index))
        except OSError:
            return None

    def summarize(self, sid: str, key: FileKey, cache: SummaryCache) -> Summary:
        """What ``list`` needs of one file, from the cache when current."""
        hit = cache.get(sid, key)
        if hit is not None:
            return hit
        with open_session(self.layout, sid) as f:
            try:
                from ..core.folds import summarize

                summary = summarize(f)
            except OSError as err:
                raise CorruptStore(f"cannot read session {sid}: {err.strerror or err}") from err
        cache.put(sid, key, summary)
        return summary

    def prefetch(self, files: dict[str, FileKey], cache: SummaryCache) -> None:
        """Read the files the cache lacks on every core, when there are many
        (a first listing of a big store) and ``parallel`` allows it."""
        if not self.parallel:
            return
        misses = [(sid, key) for sid, key in files.items() if cache.get(sid, key) is None]
        workers = bulk.worth_parallel(len(misses), sum(k.size for _, k in misses))
        if not workers:
            return
        try:
            results = bulk.summarize_many(
                self.layout.dir, [(sid, key.size) for sid, key in misses], workers)
        except (OSError, RuntimeError, ImportError):
            return  # no workers here: read in this process instead
        for sid, key in misses:
            result = results.get(sid)
            if isinstance(result, Summary):
                cache.put(sid, key, result)
            # Errors and vanished files are left to the in-process pass,
            # which reports them exactly as without workers.

    def entry_if_needed(
        self, sid: str, has_meta: bool, created: object, updated: object
    ) -> dict[str, JSON] | None:
        """The index entry, read only when the file lacks meta or times."""
        if has_meta and created is not None and updated is not None:
            return None
        return (read_index(self.layout.dir) or {}).get(sid)

    def listing(
        self, *, include_hidden: bool = False, summaries: SummaryCache | None = None,
        scanned: tuple[dict[str, FileKey], list[tuple[str, str]]] | None = None,
    ) -> Listing:
        """Every session, newest first, checked against the files.

        Fast path: the last listing is kept (``ListingSnapshot``) with each
        file's version; files whose size, mtime and inode are unchanged take
        their row from it, and only the others are read. ``summaries``: the
        summary cache to read through, when the caller has it in hand (a
        first ``stats`` fills it while reading the files for their usage);
        ``scanned``: the :func:`scan_dir` that reading started from, so the
        listing is of the files as they were read (and not stat'ed twice).
        """
        files, skipped = scanned if scanned is not None else scan_dir(self.layout.dir)
        skipped = list(skipped)
        snapshot = ListingSnapshot(self.cache_dir, self.real)
        index_key = self.index_key()
        rows = snapshot.load(index_key)
        infos: list[SessionInfo] = []
        dirty: dict[str, FileKey] = dict(files)
        changed: list[FileKey] = []  # files of the snapshot read again
        if rows is not None:
            # The hot loop of a warm list, one pass per session.
            pop, append = dirty.pop, infos.append
            for r in rows:
                key = pop(r.id, None)
                if key is None:
                    continue
                if r.current(key):
                    append(r.info())
                else:
                    dirty[r.id] = key  # changed: read again below
                    changed.append(key)
            if not dirty and len(infos) == len(rows) and not skipped:
                # Nothing changed since the last complete listing; the rows
                # are stored in order.
                self._last = (files, infos)
                shown = infos if include_hidden else [i for i in infos if not i.hidden]
                return Listing(shown, [], files)
        infos.extend(self.read_infos(dirty, skipped, whole=rows is None, summaries=summaries))
        infos.sort(key=lambda i: (i.updated[0], i.updated[1], i.id), reverse=True)
        # Not saved when the only change is files still being written (a
        # session appended to within the racy window): their rows would be
        # read again next time either way, and the rest is as saved.
        racy_only = rows is not None and len(rows) == len(files) == len(infos) and len(
            dirty) == len(changed) and all(map(ListingSnapshot.racy, changed))
        if not skipped and not racy_only:
            snapshot.save(index_key, [Row.of(i, files[i.id]) for i in infos])
        self._last = (files, infos)
        shown = infos if include_hidden else [i for i in infos if not i.hidden]
        return Listing(shown, sorted(skipped), files)

    def read_infos(
        self, files: dict[str, FileKey], skipped: list[tuple[str, str]], *, whole: bool,
        summaries: SummaryCache | None = None,
    ) -> list[SessionInfo]:
        """Rows for ``files``, read through the summary cache (``summaries``,
        else the persistent one; all on every core for a first listing) or,
        for a few changed files, directly. ``index.json`` is read only for a
        file that lacks meta or times."""
        use_cache = whole or len(files) > 64 or summaries is not None
        cache = summaries if summaries is not None else self.summary_cache(persistent=use_cache)
        if use_cache:
            self.prefetch(files, cache)
        infos = []
        index: dict[str, dict[str, JSON]] | None = None
        index_read = False
        for sid, key in files.items():
            try:
                s = self.summarize(sid, key, cache)
            except SessionNotFound:
                continue  # removed while we listed
            except SessionError as err:
                skipped.append((sid, str(err)))
                continue
            entry = None
            if not (s.has_meta and s.created is not None and s.updated is not None):
                if not index_read:  # megabytes at 10,000 sessions: only when needed
                    index, index_read = read_index(self.layout.dir), True
                entry = index.get(sid) if index else None
            infos.append(info_of(sid, key, s, entry))
        if use_cache:
            if whole:
                cache.retain(set(files))
            cache.flush()
        return infos

    def index_entries(
        self, index: dict[str, dict[str, JSON]] | None, *, refresh: Iterable[str] = (),
    ) -> list[dict[str, JSON]]:
        """The entries of an index that agrees with the files: ``index``'s
        entries (in their order) for files that exist, rebuilt from the file
        for ids in ``refresh`` and for files the index lacks. Never an index
        lacking a session whose file exists (SPEC §6).

        Only the ids to rebuild are stat'ed and summarised (the summary cache
        is opened only for them): a removal's rewrite of a 10,000-entry index
        is one directory read, not 10,000 stats and a cache load."""
        refreshed = set(refresh)
        try:
            with os.scandir(self.layout.dir) as it:  # d_type: no stat per file
                present = set(session_ids_in(
                    [de.name for de in it if de.is_file(follow_symlinks=False)]))
        except OSError as err:
            raise StoreIOError.wrap("read the session store", err) from err
        entries: dict[str, dict[str, JSON]] = {
            sid: entry for sid, entry in (index or {}).items() if sid in present}
        rebuild = [sid for sid in sorted(present) if sid in refreshed or sid not in entries]
        if not rebuild:
            return list(entries.values())
        files, _odd = scan_dir(self.layout.dir, rebuild)
        cache = self.summary_cache()
        seen: dict[str, SessionInfo] = {}
        if self._last is not None:
            last_keys, last_infos = self._last
            seen = {i.id: i for i in last_infos if last_keys.get(i.id) == files.get(i.id)}
        for sid in rebuild:
            key = files.get(sid)
            if key is None:
                entries.pop(sid, None)  # gone, or not a regular file
                continue
            listed = seen.get(sid) if sid not in refreshed else None
            if listed is not None:  # listed by this command, file unchanged since
                entries[sid] = entry_of(listed, entries.get(sid))
                continue
            try:
                s = self.summarize(sid, key, cache)
            except SessionError:
                continue
            old = entries.get(sid)
            entries[sid] = entry_of(info_of(sid, key, s, old), old)
        cache.flush()
        return list(entries.values())


def select(
    listing: Listing, *, workspace: str | None = None, model: str | None = None,
    vendor: str | None = None, since: datetime | None = None, until: datetime | None = None,
    limit: int | None = None,
) -> Listing:
    """``listing`` filtered: ``workspace`` (a normalised path), ``model`` and
    ``vendor`` match exactly; ``since`` (inclusive) and ``until``
    (exclusive) compare ``updated_at``; at most ``limit`` sessions."""
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


def info_of(sid: str, key: FileKey, s: Summary, entry: dict[str, JSON] | None) -> SessionInfo:
    """A ``list`` row from a file's summary, its index entry filling in
    what a file without meta lacks (SPEC §7)."""
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
    created, updated = session_times(s.created, s.updated, entry, key)
    return SessionInfo(
        id=sid, title=title, workspace=ws, vendor=vendor, endpoint=endpoint, model=model,
        preview=preview, created=created, updated=updated, msg_count=s.msg_count,
        hidden=not s.user_interaction,
    )


def session_times(
    created: tuple[int, str] | None, updated: tuple[int, str] | None,
    entry: dict[str, JSON] | None, key: FileKey,
) -> tuple[tuple[int, str], tuple[int, str]]:
    """SPEC §7: a time from the file, else from the index entry, else the
    file's mtime (never "now")."""
    mtime = (key.mtime_ns, format_ns(key.mtime_ns))
    return (
        created or _entry_time(entry, "created_at") or mtime,
        updated or _entry_time(entry, "updated_at") or mtime,
    )


def _entry_time(entry: dict[str, JSON] | None, key: str) -> tuple[int, str] | None:
    from ..core.times import parse_ns

    if not entry:
        return None
    raw = entry.get(key)
    ns = parse_ns(raw)
    return (ns, raw) if ns is not None and isinstance(raw, str) else None


def entry_of(info: SessionInfo, base: dict[str, JSON] | None) -> dict[str, JSON]:
    """The index entry for a listed session (unknown keys of ``base`` kept)."""
    return make_entry(
        base, id=info.id, title=info.title, preview=info.preview,
        created_at=info.created[1], updated_at=info.updated[1], msg_count=info.msg_count,
        workspace=info.workspace, vendor=info.vendor, endpoint=info.endpoint, model=info.model,
    )
