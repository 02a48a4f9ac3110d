"""Catching the search index up with the files.

New and changed files are indexed; a file that only grew (same inode,
larger, and the last 4 KB it had when indexed still the same by checksum)
has only its new records indexed; removed files drop out. A torn or damaged
line is skipped (a torn last line is read again once it is complete).
"""

from __future__ import annotations

import contextlib
import os
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..core.query import space_cjk, word_set
from ..core.records import loads_line, read_blocks
from ..core.search_fold import SearchDoc, SearchFold
from ..storage.summaries import FileKey
from .search_index import TRASH, SearchIndex

if TYPE_CHECKING:
    import sqlite3

__all__ = ["TAIL", "Progress", "catch_up", "read_docs"]

#: Bytes of a file's indexed end kept by checksum to tell "only grew".
TAIL = 4096
#: A catch-up commits after this many bytes, so concurrent searches move on.
_BATCH_BYTES = 16 << 20
#: Catching up on more than this many bytes takes the vocabulary from the
#: index itself at the end (one C-speed pass) instead of word by word.
_VOCAB_SCAN_BYTES = 32 << 20

#: progress(done_bytes, total_bytes)
Progress = Callable[[int, int], None]


@dataclass
class _Plan:
    """What a catch-up must do for one side."""

    removed: list[int]  # file row ids
    work: list[tuple[str, str, FileKey, tuple[Any, ...] | None]]  # name, sid, key, old row
    total: int  # bytes to read (roughly)


class _Seen:
    """Message ids already indexed for a file: looked up in the database,
    plus those of this pass."""

    def __init__(self, conn: sqlite3.Connection | None, file_id: int) -> None:
        self._conn, self._file, self._new = conn, file_id, set[str]()

    def __contains__(self, mid: object) -> bool:
        if mid in self._new:
            return True
        if self._conn is None:
            return False
        row = self._conn.execute(
            "SELECT 1 FROM msg WHERE file = ? AND mid = ? LIMIT 1", (self._file, mid)).fetchone()
        return row is not None

    def add(self, mid: str) -> None:
        self._new.add(mid)


def _plan(
    conn: sqlite3.Connection, side: int, files: dict[str, tuple[str, FileKey]],
    again: _Plan | None = None,
) -> _Plan:
    """What to read and drop; ``again``: only re-check that earlier plan
    (under the write lock, another search may have done part of it)."""
    cols = "SELECT id, name, size, mtime, ino, end, crc, nmsg FROM files"
    if again is None:
        rows = conn.execute(cols + " WHERE side = ?", (side,)).fetchall()
    else:
        rows = []
        for fid in again.removed:
            rows += conn.execute(cols + " WHERE id = ?", (fid,)).fetchall()
        for name, *_ in again.work:
            rows += conn.execute(cols + " WHERE side = ? AND name = ?",
                                 (side, name)).fetchall()
        files = {name: files[name] for name, *_ in again.work}
    removed = []
    work = []
    total = 0
    known: dict[str, tuple[Any, ...]] = {}
    for row in rows:
        if row[1] in files:
            known[row[1]] = row
        else:
            removed.append(row[0])
    for name, (sid, key) in files.items():
        old = known.get(name)
        if old is not None and (old[2], old[3], old[4]) == (key.size, key.mtime_ns, key.ino):
            continue
        total += key.size - (old[5] if old is not None and key.ino == old[4] and
                             key.size > old[2] else 0)
        work.append((name, sid, key, old))
    return _Plan(removed, work, total)


def catch_up(
    index: SearchIndex, side: int, files: dict[str, tuple[str, FileKey]], *,
    progress: Progress | None = None,
) -> list[str]:
    """Bring ``index``'s side (store or trash) up to ``files``
    (name -> (id, key)); returns the names of the files read."""
    import sqlite3

    conn = index.open()
    first = _plan(conn, side, files)
    if not first.removed and not first.work:
        return []
    total = max(first.total, 1)
    # A small catch-up collects the vocabulary word by word, a big one at the end.
    word_by_word = first.total < _VOCAB_SCAN_BYTES
    done = 0
    names: list[str] = []
    while True:
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Planned again under the write lock: another search may
            # have done part of the work meanwhile.
            plan = _plan(conn, side, files, first)
            for fid in plan.removed:
                index.drop(fid)
            batch = 0
            finished = True
            rest = plan
            for k, (name, sid, key, old) in enumerate(plan.work):
                if batch >= _BATCH_BYTES:
                    finished = False
                    rest = _Plan([], plan.work[k:], 0)  # for the next batch
                    break
                read = _index_file(index, side, name, sid, key, old, word_by_word=word_by_word)
                batch += read
                done += read
                names.append(name)
                if progress is not None:
                    progress(min(done, total), total)
            index.flush_words()
            conn.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            raise
        if finished:
            if not word_by_word:
                index.vocabulary_from_index()
            return names
        first = rest


def _index_file(
    index: SearchIndex, side: int, name: str, sid: str, key: FileKey,
    old: tuple[Any, ...] | None, *, word_by_word: bool,
) -> int:
    """Index one new or changed file; returns the bytes read."""
    from ..storage import fsio

    conn = index.open()
    path = index.file_path(side, name)
    try:
        f = fsio.open_regular(path)
    except OSError:
        # Gone or unreadable: it drops out (list reports unreadable ones).
        if old is not None:
            index.drop(old[0])
        return 0
    with f:
        st = os.fstat(f.fileno())
        key = FileKey.of(st)
        start, count, fid = 0, 0, None
        if old is not None:
            fid = old[0]
            o_size, o_ino, o_end, o_crc, o_nmsg = old[2], old[4], old[5], old[6], old[7]
            if (o_ino == key.ino and key.size >= o_size and o_end <= key.size
                    and _tail_crc(f, o_end) == o_crc):
                start, count = o_end, o_nmsg  # only grew: read the new part
            else:
                index.forget_messages(fid)
        if fid is None:
            cur = conn.execute("INSERT INTO files(side, name, nmsg) VALUES (?, ?, 0)",
                               (side, name))
            fid = cur.lastrowid
            assert fid is not None
        fold = SearchFold(count=count, seen=_Seen(conn if start else None, fid))
        f.seek(start)
        end, rows = read_docs(f, start, key.size, fold)
        if rows:
            # Row ids taken from AUTOINCREMENT's counter (never reused: the
            # contentless table may still hold rows of deleted ids).
            seq = conn.execute(
                "SELECT seq FROM sqlite_sequence WHERE name = 'msg'").fetchone()
            first = (seq[0] if seq else 0) + 1
            conn.executemany(
                "INSERT INTO msg(id, file, n, role, off, len, mid)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(first + k, fid, doc.n, doc.role, off, length, doc.mid or None)
                 for k, (doc, off, length) in enumerate(rows)])
            conn.executemany(
                "INSERT INTO msg_fts(rowid, text, tool) VALUES (?, ?, ?)",
                [(first + k, space_cjk(doc.text), space_cjk(doc.tool))
                 for k, (doc, _, _) in enumerate(rows)])
            if word_by_word:
                words = index.words
                for doc, _, _ in rows:
                    words |= word_set(doc.text + "\n" + doc.tool)
        summary = None
        if side == TRASH:
            summary = _summary_json(f)
        conn.execute(
            "UPDATE files SET size = ?, mtime = ?, ino = ?, end = ?, crc = ?, nmsg = ?,"
            " summary = ? WHERE id = ?",
            (key.size, key.mtime_ns, key.ino, end, _tail_crc(f, end), fold.count,
             summary, fid))
    return key.size - start


def _tail_crc(f: Any, end: int) -> int:
    """Checksum of the last :data:`TAIL` bytes before ``end``."""
    start = max(0, end - TAIL)
    data = os.pread(f.fileno(), end - start, start)
    return zlib.crc32(data) ^ (len(data) << 32)


def _summary_json(f: Any) -> str:
    """A trashed file's listing summary, as JSON text."""
    import orjson

    from ..core.folds import summarize

    f.seek(0)
    return orjson.dumps(summarize(f).to_json()).decode()


class _Bounded:
    """A file read from its current position up to ``limit`` bytes."""

    def __init__(self, f: Any, left: int) -> None:
        self._f, self._left = f, left

    def read(self, n: int) -> bytes:
        if self._left <= 0:
            return b""
        data: bytes = self._f.read(min(n, self._left))
        self._left -= len(data)
        return data


def read_docs(
    f: Any, start: int, size: int, fold: SearchFold
) -> tuple[int, list[tuple[SearchDoc, int, int]]]:
    """Search documents of the lines in ``[start, size)``, with each line's
    offset and length, and the offset after the last line read whole. A last
    line without its newline counts only when it is a complete record."""
    rows: list[tuple[SearchDoc, int, int]] = []
    pos = start
    end = start
    for block, _data in read_blocks(_Bounded(f, size - start)):
        for line in block:
            off = pos
            pos += len(line) + 1
            terminated = pos <= size
            if not terminated:
                pos = size
            rec = loads_line(line) if b'"message"' in line else None
            if rec is None:
                if terminated or not line.strip():
                    end = pos
                continue  # blank, damaged, or torn (read again once complete)
            end = pos
            doc = fold.record(rec)
            if doc is not None:
                rows.append((doc, off, len(line)))
    return end, rows
