"""sessionctl's own per-file summaries, kept in the user's cache directory.

To list 10,000 sessions without reading 280 MB each time, sessionctl keeps
what ``list`` needs of each file keyed by the file's version (size, mtime,
inode), and the last complete listing as rows. Never in the store, never in
``index.json``: a cache that cannot be read or written only costs speed.
"""

from __future__ import annotations

import contextlib
import os
import time
import zlib
from collections.abc import Callable, Container, Mapping
from pathlib import Path
from typing import Any, Generic, NamedTuple, TypeVar

import orjson

from ..core.folds import Summary
from ..core.session import SessionInfo
from .fsio import atomic_write, ensure_dir

__all__ = ["FileKey", "FileKeyedCache", "ListingSnapshot", "Row", "SummaryCache", "store_tag"]

T = TypeVar("T")

#: Files modified this recently are not cached (see SummaryCache.flush).
_RACY_NS = 3 * 10**9


class FileKey(NamedTuple):
    """What identifies one version of a file without reading it."""

    size: int
    mtime_ns: int
    ino: int

    @classmethod
    def of(cls, st: os.stat_result) -> FileKey:
        return cls(st.st_size, st.st_mtime_ns, st.st_ino)


def store_tag(store: str) -> str:
    """A short name for a store's cache files. Not a security boundary: each
    file records the full store path and is ignored for another store, so a
    clash only costs speed. (zlib is loaded anyway; hashlib would cost
    every command ~5 ms of start-up.)"""
    data = os.fsencode(store)
    return f"{zlib.crc32(data):08x}{zlib.adler32(data):08x}"


class FileKeyedCache(Generic[T]):
    """Values per session file, each valid only for the file's version
    (:class:`FileKey`), persisted as one JSON file in the cache directory
    (``path``; none: in memory only) whose ``header`` must match when read.
    Read on first use; a cache that cannot be read is ignored, one that
    cannot be written is skipped: it only ever costs speed, never
    correctness. ``encode``/``decode`` turn a value into JSON and back.

    Entries read from the file stay JSON until asked for (:meth:`get`
    decodes the one it returns) and are written back as read: a warm
    ``stats`` asks for all 10,000, a ``list`` after one append for none."""

    VERSION = 1

    def __init__(self, path: Path | None, header: dict[str, Any], *,
                 encode: Callable[[T], Any], decode: Callable[[Any], T],
                 durable: bool = False) -> None:
        self.encode, self.decode = encode, decode
        self._path = path
        self._header = {"version": self.VERSION, **header}
        self._durable = durable
        #: As read: id -> [size, mtime_ns, ino, encoded value].
        self._raw_: dict[str, list[Any]] | None = None
        #: Decoded or put since.
        self._new: dict[str, tuple[FileKey, T]] = {}
        self._dirty = False
        self.loaded = False  # True when a cache file was read

    def load(self) -> bool:
        """Read the cache file if not yet done; True when one was read."""
        if self._raw_ is None:
            self._raw_ = {}
            if self._path is not None:
                self._load()
        return self.loaded

    @property
    def _raw(self) -> dict[str, list[Any]]:
        """Read on first use: a cleanup or an index update whose files are all
        known never needs it (it is megabytes at 10,000 sessions)."""
        self.load()
        assert self._raw_ is not None
        return self._raw_

    def _load(self) -> None:
        assert self._path is not None
        try:
            with open(self._path, "rb") as f:
                data = orjson.loads(f.read())
            if any(data.get(k) != v for k, v in self._header.items()):
                return
            files = data["files"]
            if not isinstance(files, dict):
                return
            self._raw_ = files
            self.loaded = True
        except (OSError, ValueError, TypeError, KeyError, IndexError, AttributeError):
            pass

    def get(self, sid: str, key: FileKey) -> T | None:
        """The value of ``sid`` if it was taken from this very version."""
        hit = self._new.get(sid)
        if hit is not None:
            return hit[1] if hit[0] == key else None
        e = self._raw.get(sid)
        if e is None:
            return None
        try:
            if e[0] != key[0] or e[1] != key[1] or e[2] != key[2]:
                return None
            value = self.decode(e[3])
        except (ValueError, TypeError, KeyError, IndexError, AttributeError):
            return None  # an entry of the wrong shape is a miss
        self._new[sid] = (key, value)
        return value

    def current(self, files: Mapping[str, FileKey]) -> tuple[dict[str, T], list[str]]:
        """What :meth:`get` gives for each of ``files`` at once: the values
        taken from the files' very versions, and the ids of the others."""
        # The hot loop of a warm ``stats`` (10,000 files): get() inlined.
        hits: dict[str, T] = {}
        misses: list[str] = []
        new, raw, decode = self._new, self._raw, self.decode
        for sid, key in files.items():
            hit = new.get(sid)
            if hit is not None:
                if hit[0] == key:
                    hits[sid] = hit[1]
                else:
                    misses.append(sid)
                continue
            e = raw.get(sid)
            try:
                if e is not None and e[0] == key[0] and e[1] == key[1] and e[2] == key[2]:
                    hits[sid] = decode(e[3])
                    continue
            except (ValueError, TypeError, KeyError, IndexError, AttributeError):
                pass
            misses.append(sid)
        return hits, misses

    def put(self, sid: str, key: FileKey, value: T) -> None:
        self._new[sid] = (key, value)
        # A racily clean file's value is not written (see flush): alone, it
        # is no reason to rewrite the cache (a session being appended to).
        if key.mtime_ns < time.time_ns() - _RACY_NS:
            self._dirty = True

    def retain(self, ids: Container[str]) -> None:
        """Forget files that are gone."""
        for entries in (self._raw, self._new):
            stale = [sid for sid in entries if sid not in ids]
            for sid in stale:
                del entries[sid]
            self._dirty = self._dirty or bool(stale)

    def flush(self) -> None:
        if not self._dirty or self._path is None:
            return
        # "Racily clean" files (modified within the last seconds, as git
        # calls them) are not persisted: a same-size rewrite in the same
        # clock tick would keep their (size, mtime, inode) and look unchanged.
        recent = time.time_ns() - _RACY_NS
        encode = self.encode
        files = {sid: e for sid, e in self._raw.items()
                 if sid not in self._new and isinstance(e, list) and len(e) == 4}
        files.update({sid: [k.size, k.mtime_ns, k.ino, encode(v)]
                      for sid, (k, v) in self._new.items() if k.mtime_ns < recent})
        try:
            data = orjson.dumps({**self._header, "files": files})
        except TypeError:
            return  # e.g. a store path that is not UTF-8: the cache only costs speed
        with contextlib.suppress(OSError):
            ensure_dir(self._path.parent)
            atomic_write(self._path, [data], durable=self._durable)
            self._dirty = False


class SummaryCache(FileKeyedCache[Summary]):
    """What ``list`` needs of each file (:class:`Summary`), one cache file
    per store."""

    def __init__(self, cache_dir: Path | None, store_dir: Path) -> None:
        store = str(store_dir)
        path = None if cache_dir is None else cache_dir / f"summaries-{store_tag(store)}.json"
        super().__init__(path, {"store": store}, encode=Summary.to_json,
                         decode=Summary.from_json, durable=True)


class Row(NamedTuple):
    """One row of the listing snapshot: the file's version, then what
    ``list`` shows of the session. Stored as a JSON array in this field
    order (the one place that order is written down); ``racy`` flags a row
    taken within a clock tick of a change (:meth:`ListingSnapshot.save`)."""

    id: str
    size: int
    mtime_ns: int
    ino: int
    title: str
    workspace: str
    vendor: str
    endpoint: str
    model: str
    preview: str
    created_ns: int
    created: str
    updated_ns: int
    updated: str
    msg_count: int
    hidden: bool
    racy: int

    @classmethod
    def of(cls, info: SessionInfo, key: FileKey) -> Row:
        return cls(
            info.id, key.size, key.mtime_ns, key.ino, info.title, info.workspace, info.vendor,
            info.endpoint, info.model, info.preview, info.created[0], info.created[1],
            info.updated[0], info.updated[1], info.msg_count, info.hidden, 0,
        )

    def current(self, key: FileKey) -> bool:
        """True when the file is still the version this row was taken from."""
        return (self.size, self.mtime_ns, self.ino) == key and not self.racy

    def info(self) -> SessionInfo:
        return SessionInfo(
            self.id, self.title, self.workspace, self.vendor, self.endpoint, self.model,
            (self.created_ns, self.created), (self.updated_ns, self.updated), self.msg_count,
            self.hidden, self.preview,
        )


_ROW_FIELDS = len(Row._fields)


class ListingSnapshot:
    """The last complete listing, to answer ``list`` without reading files.

    Valid only while every session file and ``index.json`` are exactly as
    they were (size, mtime, inode); ``list`` checks that with one ``stat``
    per file, which it does anyway. Saved only after a listing that found
    (or left) the index consistent with the files, and never with a file or
    index changed in the last few seconds (a same-size rewrite within one
    clock tick would go unnoticed).
    """

    VERSION = 2

    def __init__(self, cache_dir: Path | None, store_dir: Path) -> None:
        self._path: Path | None = None
        self._store = str(store_dir)
        if cache_dir is not None:
            tag = store_tag(self._store)
            self._path = cache_dir / f"listing-{tag}.json"

    def load(self, index_key: FileKey | None) -> list[Row] | None:
        """The rows of the last listing (newest first), if ``index.json`` is
        the very file it was taken with; the caller checks each file's row."""
        if self._path is None:
            return None
        try:
            with open(self._path, "rb") as f:
                data = orjson.loads(f.read())
            if (
                data.get("version") != self.VERSION
                or data.get("store") != self._store
                # None: taken while the store had no index.json (a store
                # only sessionctl appended to); an index appearing since
                # invalidates it like any other change of the index.
                or data.get("index") != (None if index_key is None else list(index_key))
            ):
                return None
            raw: list[Any] = data["rows"]
            if not all(isinstance(r, list) and len(r) == _ROW_FIELDS for r in raw):
                return None
            make = Row._make
            return [make(r) for r in raw]
        except (OSError, ValueError, TypeError, KeyError, IndexError, AttributeError):
            return None

    def save(self, index_key: FileKey | None, rows: list[Row]) -> None:
        """Keep ``rows``; a row whose file changed within the last few seconds
        is flagged (its last field) so the next listing reads that file again:
        a same-size rewrite within one clock tick would keep size and mtime.
        ``index.json`` is always replaced by rename (a new inode), so its key
        alone is safe."""
        if self._path is None:
            return
        recent = time.time_ns() - _RACY_NS
        rows = [r._replace(racy=1) if r.mtime_ns >= recent else r for r in rows]
        index = None if index_key is None else list(index_key)
        payload = {"version": self.VERSION, "store": self._store, "index": index,
                   "rows": [list(r) for r in rows]}
        try:
            data = orjson.dumps(payload)
        except TypeError:
            return
        with contextlib.suppress(OSError):
            ensure_dir(self._path.parent)
            atomic_write(self._path, [data], durable=False)  # a cache: speed only

    @staticmethod
    def racy(key: FileKey) -> bool:
        """Whether a row of this file version would be saved flagged racy
        (see :meth:`save`)."""
        return key.mtime_ns >= time.time_ns() - _RACY_NS

    def clear(self) -> None:
        if self._path is not None:
            with contextlib.suppress(OSError):
                os.unlink(self._path)
