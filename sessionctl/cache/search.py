"""The search index: an SQLite FTS5 database in sessionctl's cache dir.

One database per store (``search-<tag>.sqlite3``), with a schema version; a
different, foreign or damaged database is rebuilt. Before each search it
catches up with the files: new and changed files are indexed; a file that
only grew (same inode, larger, and the last 4 KB it had when indexed still
the same by checksum) has only its new records indexed; removed files drop
out. It never writes into the store and never takes the agent's locks; a
torn or damaged line is skipped (a torn last line is read again once it is
complete). Several searches may run at once (WAL, busy timeout).

The message table is contentless (``content=''``): it holds only the words'
postings, so the index stays well under the size of the store. Snippets
come from the session file itself: each indexed message keeps the offset
and length of its line. Rows of files that changed or went away cannot be
deleted from a contentless table (SQLite < 3.43); they are left behind,
unreachable (their ``msg`` rows are deleted and row ids never reused), and
the whole index is rebuilt once such garbage outweighs the live rows.
"""

from __future__ import annotations

import contextlib
import os
import stat
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.folds import Summary
from ..core.ids import ID_PATTERN
from ..core.query import Query, space_cjk, word_set
from ..core.records import loads_line, read_blocks
from ..core.search_fold import SearchDoc, SearchFold, message_parts
from ..core.search_results import Hit, SessionResult
from ..core.session import SessionInfo
from ..core.snippets import find_matches, make_snippet
from ..errors import StoreIOError
from ..storage.summaries import FileKey, _tag

if TYPE_CHECKING:
    import sqlite3

    from ..storage.store import FileStore as JSONLStore

__all__ = [
    "SCHEMA_VERSION",
    "Hit",
    "Progress",
    "SearchIndex",
    "SessionResult",
    "check_fts5",
    "run_search",
    "trash_files",
]

JSON = Any
SCHEMA_VERSION = 3
STORE, TRASH = 0, 1
#: Bytes of a file's indexed end kept by checksum to tell "only grew".
TAIL = 4096
#: Rebuild when at least this many unreachable rows outweigh the live ones.
GARBAGE_MIN = 50_000
#: How much more a session's best title match weighs than a message match.
TITLE_WEIGHT = 2.0
HITS_PER_SESSION = 3
#: A catch-up commits after this many bytes, so concurrent searches move on.
_BATCH_BYTES = 16 << 20
_BUSY_MS = 60_000
_TOKENIZE = "unicode61 remove_diacritics 2"

#: progress(done_bytes, total_bytes)
Progress = Callable[[int, int], None]


def check_fts5(conn: sqlite3.Connection) -> None:
    """Raise :class:`StoreIOError` (exit 1) when this SQLite lacks FTS5."""
    import sqlite3

    try:
        # FTS5 itself, and its trigram tokenizer (SQLite 3.34 and later).
        conn.execute("CREATE VIRTUAL TABLE temp._fts5_probe USING fts5(x, tokenize='trigram')")
        conn.execute("DROP TABLE temp._fts5_probe")
    except sqlite3.OperationalError:
        raise StoreIOError(
            f"search needs SQLite's FTS5 (3.34 or later), which this Python's SQLite "
            f"({sqlite3.sqlite_version}) lacks") from None


def trash_files(store_dir: Path) -> dict[str, tuple[str, FileKey]]:
    """Files in ``<store>/.trash/`` by name: (session id, key). A trashed
    file is ``<id>.jsonl`` or ``<id>.<something>.jsonl``."""
    tdir = store_dir / ".trash"
    out: dict[str, tuple[str, FileKey]] = {}
    try:
        names = os.listdir(tdir)
    except OSError:
        return out
    for name in names:
        if not name.endswith(".jsonl"):
            continue
        sid = name[:-6].split(".", 1)[0]
        if not ID_PATTERN.fullmatch(sid):
            continue
        try:
            st = os.stat(tdir / name, follow_symlinks=False)
        except OSError:
            continue
        if stat.S_ISREG(st.st_mode):
            out[name] = (sid, FileKey.of(st))
    return out


_SCHEMA = f"""
CREATE TABLE info(key TEXT PRIMARY KEY, value);
CREATE TABLE files(
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    side INTEGER NOT NULL, name TEXT NOT NULL,
    size INTEGER, mtime INTEGER, ino INTEGER,
    end INTEGER, crc INTEGER, nmsg INTEGER,
    title TEXT, summary TEXT, info BLOB,
    UNIQUE(side, name));
CREATE TABLE msg(
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    file INTEGER NOT NULL, n INTEGER, role TEXT, off INTEGER, len INTEGER, mid TEXT);
CREATE INDEX msg_file ON msg(file, mid);
CREATE VIRTUAL TABLE msg_fts USING fts5(text, tool, content='', tokenize='{_TOKENIZE}');
CREATE VIRTUAL TABLE title_fts USING fts5(title, tokenize='{_TOKENIZE}');
CREATE VIRTUAL TABLE msg_vocab USING fts5vocab(msg_fts, 'row');
CREATE TABLE vocab(id INTEGER PRIMARY KEY, term TEXT UNIQUE);
CREATE VIRTUAL TABLE vocab_tri USING fts5(
    term, content='vocab', content_rowid='id', tokenize='trigram', detail='none');
CREATE TRIGGER vocab_ai AFTER INSERT ON vocab BEGIN
    INSERT INTO vocab_tri(rowid, term) VALUES (new.id, new.term)|END
"""
_TABLES = {"info", "files", "msg", "msg_fts", "msg_vocab", "title_fts", "vocab", "vocab_tri"}
#: Catching up on more than this many bytes takes the vocabulary from the
#: index itself at the end (one C-speed pass) instead of word by word.
_VOCAB_SCAN_BYTES = 32 << 20
#: Longer words are not offered for matching inside (hashes, base64).
_MAX_VOCAB_WORD = 48
#: At most this many indexed words containing a bare word join its match.
MAX_INSIDE = 500


class _Damaged(Exception):
    """The database is not ours, of another version, or unreadable."""


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


class SearchIndex:
    """The search database of one store."""

    def __init__(self, store: JSONLStore, cache: Path | None) -> None:
        self._store = store
        self._dir = store.dir
        self._real = str(store.dir.resolve())
        self._path: Path | None = None
        if cache is not None:
            self._path = cache / f"search-{_tag(self._real)}.sqlite3"
        self._conn: sqlite3.Connection | None = None
        self._words: set[str] = set()  # words of this batch, for the vocabulary
        self._word_by_word = True  # else: from the index at the end of a catch-up

    @property
    def path(self) -> Path | None:
        """The database file (``None``: kept in memory, no cache dir)."""
        return self._path

    # -- opening -----------------------------------------------------------
    def open(self, *, reindex: bool = False) -> sqlite3.Connection:
        import sqlite3

        if self._conn is not None:
            return self._conn
        probe = sqlite3.connect(":memory:")
        try:
            check_fts5(probe)
        finally:
            probe.close()
        if reindex:
            self._remove_files()
        try:
            self._conn = self._connect()
        except (_Damaged, sqlite3.DatabaseError):
            self._close()
            self._remove_files()
            try:
                self._conn = self._connect()
            except (_Damaged, sqlite3.DatabaseError, OSError):
                self._close()
                self._path = None  # cannot keep it on disk: in memory this time
                self._conn = self._connect()
        except OSError:
            self._path = None
            self._conn = self._connect()
        return self._conn

    def _connect(self) -> sqlite3.Connection:
        import sqlite3

        if self._path is not None:
            self._path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            # The index holds the sessions' words: private to the user, as the
            # store is (SQLite gives its -wal and -shm files the same mode).
            with contextlib.suppress(FileExistsError):
                os.close(os.open(self._path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
            conn = sqlite3.connect(self._path, timeout=_BUSY_MS / 1000, isolation_level=None,
                                   check_same_thread=False)
        else:
            conn = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        self._conn = conn
        conn.execute(f"PRAGMA busy_timeout = {_BUSY_MS}")
        tables = {r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type IN ('table')")}
        if not tables:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("BEGIN IMMEDIATE")
            try:
                # Another search may have created it while we waited.
                if not conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchone():
                    for statement in _SCHEMA.split(";"):
                        if statement.strip():
                            conn.execute(statement.replace("|", "; "))
                    conn.executemany("INSERT INTO info VALUES (?, ?)", [
                        ("version", SCHEMA_VERSION), ("store", self._real), ("garbage", 0)])
                conn.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
                raise
            tables = {r[0] for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type IN ('table')")}
        if not tables >= _TABLES:
            raise _Damaged("not a sessionctl search index")
        info = dict(conn.execute("SELECT key, value FROM info").fetchall())
        if info.get("version") != SCHEMA_VERSION or info.get("store") != self._real:
            raise _Damaged("another version or store")
        conn.execute("PRAGMA synchronous = NORMAL")
        return conn

    def _close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None

    def _remove_files(self) -> None:
        if self._path is None:
            return
        for suffix in ("", "-wal", "-shm", "-journal"):
            with contextlib.suppress(OSError):  # gone, or a cache we cannot write
                os.unlink(f"{self._path}{suffix}")

    def close(self) -> None:
        self._close()

    # -- catching up -------------------------------------------------------
    def _plan(
        self, side: int, files: dict[str, tuple[str, FileKey]], again: _Plan | None = None,
    ) -> _Plan:
        """What to read and drop; ``again``: only re-check that earlier plan
        (under the write lock, another search may have done part of it)."""
        conn = self._conn
        assert conn is not None
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
        self, side: int, files: dict[str, tuple[str, FileKey]], *,
        progress: Progress | None = None,
    ) -> list[str]:
        """Bring the index of one side (store or trash) up to ``files``
        (name -> (id, key)); returns the names of the files read."""
        import sqlite3

        conn = self.open()
        first = self._plan(side, files)
        if not first.removed and not first.work:
            return []
        total = max(first.total, 1)
        self._word_by_word = first.total < _VOCAB_SCAN_BYTES
        done = 0
        names: list[str] = []
        while True:
            conn.execute("BEGIN IMMEDIATE")
            try:
                # Planned again under the write lock: another search may
                # have done part of the work meanwhile.
                plan = self._plan(side, files, first)
                for fid in plan.removed:
                    self._drop(fid)
                batch = 0
                finished = True
                rest = plan
                for k, (name, sid, key, old) in enumerate(plan.work):
                    if batch >= _BATCH_BYTES:
                        finished = False
                        rest = _Plan([], plan.work[k:], 0)  # for the next batch
                        break
                    read = self._index_file(side, name, sid, key, old)
                    batch += read
                    done += read
                    names.append(name)
                    if progress is not None:
                        progress(min(done, total), total)
                self._flush_words()
                conn.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
                raise
            if finished:
                if not self._word_by_word:
                    self._vocabulary_from_index()
                return names
            first = rest

    def rows_missing(self, side: int) -> bool:
        """Whether some indexed file has no listing row kept."""
        return self.open().execute(
            "SELECT 1 FROM files WHERE side = ? AND info IS NULL LIMIT 1", (side,)
        ).fetchone() is not None

    def get_info(self, key: str) -> object:
        row = self.open().execute("SELECT value FROM info WHERE key = ?", (key,)).fetchone()
        return None if row is None else row[0]

    def _flush_words(self) -> None:
        """Add the batch's words to the vocabulary (which finds the words a
        bare query word occurs inside)."""
        conn = self._conn
        assert conn is not None
        if self._words:
            conn.executemany("INSERT OR IGNORE INTO vocab(term) VALUES (?)",
                             ((w,) for w in self._words if len(w) <= _MAX_VOCAB_WORD))
            self._words = set()

    def _vocabulary_from_index(self) -> None:
        """Every word of the message index into the vocabulary, in one pass."""
        import sqlite3

        conn = self._conn
        assert conn is not None
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute("INSERT OR IGNORE INTO vocab(term) SELECT term FROM msg_vocab"
                         " WHERE length(term) <= ?", (_MAX_VOCAB_WORD,))
            conn.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            raise

    def words_containing(self, word: str) -> list[str]:
        """Indexed words that contain ``word`` (3+ characters) without
        starting with it (the prefix match has those), at most
        :data:`MAX_INSIDE`."""
        conn = self.open()
        grams = [word[i:i + 3] for i in range(len(word) - 2)]
        if len(grams) > 8:  # enough to be selective; the check below is exact
            step = len(grams) / 8
            grams = [grams[int(k * step)] for k in range(8)] + [grams[-1]]
        expr = " AND ".join('"' + g.replace('"', '""') + '"' for g in dict.fromkeys(grams))
        out = []
        for (term,) in conn.execute(
                "SELECT term FROM vocab_tri WHERE vocab_tri MATCH ?", (expr,)):
            if word in term and not term.startswith(word):
                out.append(term)
                if len(out) >= MAX_INSIDE:
                    break
        return out

    def maybe_rebuild(self) -> None:
        """Start afresh when unreachable rows (of changed and removed files)
        outweigh the live ones: they cost space and time, never results."""
        conn = self.open()
        garbage = conn.execute("SELECT value FROM info WHERE key = 'garbage'").fetchone()
        if not garbage or garbage[0] < GARBAGE_MIN:
            return
        live = conn.execute("SELECT count(*) FROM msg").fetchone()[0] or 0
        if garbage[0] > live:
            self._close()
            self._remove_files()
            self.open()

    def _drop(self, fid: int) -> None:
        conn = self._conn
        assert conn is not None
        self._forget_messages(fid)
        conn.execute("DELETE FROM files WHERE id = ?", (fid,))
        conn.execute("DELETE FROM title_fts WHERE rowid = ?", (fid,))

    def _forget_messages(self, fid: int) -> None:
        conn = self._conn
        assert conn is not None
        cur = conn.execute("DELETE FROM msg WHERE file = ?", (fid,))
        if cur.rowcount > 0:
            conn.execute("UPDATE info SET value = value + ? WHERE key = 'garbage'",
                         (cur.rowcount,))

    def _file_path(self, side: int, name: str) -> Path:
        return (self._dir / ".trash" / name) if side == TRASH else (self._dir / name)

    def _index_file(
        self, side: int, name: str, sid: str, key: FileKey, old: tuple[Any, ...] | None,
    ) -> int:
        """Index one new or changed file; returns the bytes read."""
        from ..storage import fsio

        conn = self._conn
        assert conn is not None
        path = self._file_path(side, name)
        try:
            f = fsio.open_regular(path)
        except OSError:
            # Gone or unreadable: it drops out (list reports unreadable ones).
            if old is not None:
                self._drop(old[0])
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
                    self._forget_messages(fid)
            if fid is None:
                cur = conn.execute("INSERT INTO files(side, name, nmsg) VALUES (?, ?, 0)",
                                   (side, name))
                fid = cur.lastrowid
                assert fid is not None
            fold = SearchFold(count=count, seen=_Seen(conn if start else None, fid))
            f.seek(start)
            end, rows = _read_docs(f, start, key.size, fold)
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
                if self._word_by_word:
                    words = self._words
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

    def set_rows(
        self, side: int, rows: dict[str, SessionInfo], digest: str, *, complete: bool,
    ) -> None:
        """Keep each file's listing row (name -> row) and its title searchable,
        then record ``digest`` (the scan they belong to): until the scan
        changes, a search needs no listing. ``complete``: ``rows`` has every
        readable file (the others lose their row), else only changed ones."""
        import sqlite3

        import orjson

        conn = self.open()
        if complete:
            old = conn.execute("SELECT id, name, title, info FROM files WHERE side = ?",
                               (side,)).fetchall()
        else:
            old = []
            for name in rows:
                old += conn.execute(
                    "SELECT id, name, title, info FROM files WHERE side = ? AND name = ?",
                    (side, name)).fetchall()
        changes = []
        for fid, name, title, info in old:
            row = rows.get(name)
            data = orjson.dumps(list(row)) if row is not None else None
            if data != info or (row is not None and row.title != title):
                changes.append((fid, row, data, title))
        conn.execute("BEGIN IMMEDIATE")
        try:
            for fid, row, data, title in changes:
                new_title = row.title if row is not None else None
                conn.execute("UPDATE files SET info = ?, title = ? WHERE id = ?",
                             (data, new_title, fid))
                if new_title != title:
                    conn.execute("DELETE FROM title_fts WHERE rowid = ?", (fid,))
                    if new_title:
                        conn.execute("INSERT INTO title_fts(rowid, title) VALUES (?, ?)",
                                     (fid, space_cjk(new_title)))
                        self._words |= word_set(new_title)
            self._flush_words()
            conn.execute("INSERT OR REPLACE INTO info VALUES (?, ?)", (f"scan-{side}", digest))
            conn.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            raise

    def rows(self, fids: set[int]) -> dict[int, tuple[str, SessionInfo]]:
        """(file name, listing row) of these file rows (those that have one)."""
        import orjson

        conn = self.open()
        out: dict[int, tuple[str, SessionInfo]] = {}
        todo = sorted(fids)
        for k in range(0, len(todo), 500):
            part = todo[k:k + 500]
            for fid, name, data in conn.execute(
                    "SELECT id, name, info FROM files WHERE info IS NOT NULL AND id IN ("
                    + ",".join("?" * len(part)) + ")", part):
                v = orjson.loads(data)
                out[fid] = (name, SessionInfo(
                    v[0], v[1], v[2], v[3], v[4], v[5], (v[6][0], v[6][1]),
                    (v[7][0], v[7][1]), v[8], v[9], v[10]))
        return out

    def trash_summaries(self) -> dict[str, Summary]:
        """Summaries of the indexed trash files (read when they were indexed)."""
        import orjson

        conn = self.open()
        out = {}
        for name, data in conn.execute(
                "SELECT name, summary FROM files WHERE side = ? AND summary IS NOT NULL",
                (TRASH,)):
            with contextlib.suppress(ValueError, TypeError, IndexError):
                out[name] = Summary.from_json(orjson.loads(data))
        return out

    # -- searching -----------------------------------------------------------
    def search(
        self, query: Query, side: int, allowed: Callable[[SessionInfo], bool], *,
        roles: frozenset[str] = frozenset(), limit: int = 20,
    ) -> list[SessionResult]:
        """The best ``limit`` sessions whose listing row is ``allowed`` for
        ``query``: by their best message (and title), ties newest first."""
        conn = self.open()
        # Rows of the other side (the trash, usually small) are skipped.
        other = {fid for (fid,) in conn.execute(
            "SELECT id FROM files WHERE side != ?", (side,))}
        per_file: dict[int, list[tuple[float, int, str, int, int, int]]] = {}
        text_roles = sorted(roles - {"tool"})
        inside = {w: self.words_containing(w) for w in query.infixes}
        queries: list[tuple[str, list[str] | None]] = []
        if not roles:
            queries.append((query.fts(inside=inside), None))
        else:
            if "tool" in roles:
                queries.append((query.fts("tool", inside), None))
            if text_roles:
                queries.append((query.fts("text", inside), text_roles))
        seen_rows: set[int] = set()
        for expr, only in queries:
            sql = ("SELECT m.id, m.file, m.n, m.role, m.off, m.len, -bm25(msg_fts) AS s"
                   " FROM msg_fts JOIN msg m ON m.id = msg_fts.rowid WHERE msg_fts MATCH ?")
            params: list[Any] = [expr]
            if only is not None:
                sql += " AND m.role IN (" + ",".join("?" * len(only)) + ")"
                params += only
            for mid, fid, n, role, off, length, score in conn.execute(sql, params):
                if fid in other or mid in seen_rows:
                    continue
                seen_rows.add(mid)
                per_file.setdefault(fid, []).append((score, n, role, off, length, mid))
        titles = self._title_matches(query, inside, other) if not roles else {}
        if not per_file and not titles:
            return []
        found = {fid: nr for fid, nr in self.rows(set(per_file) | set(titles)).items()
                 if allowed(nr[1])}
        names = {fid: nr[0] for fid, nr in found.items()}
        allowed_rows = {nr[0]: nr[1] for nr in found.values()}
        per_file = {fid: h for fid, h in per_file.items() if fid in names}
        titles = {fid: t for fid, t in titles.items() if fid in names}
        ranked = []
        for fid in set(per_file) | set(titles):
            hits = per_file.get(fid, [])
            best = max((h[0] for h in hits), default=0.0)
            score = best + TITLE_WEIGHT * titles.get(fid, 0.0)
            info = allowed_rows[names[fid]]
            ranked.append((score, info.updated[0], info.id, fid))
        ranked.sort(key=lambda r: r[2], reverse=True)  # then ties: ids descending
        ranked.sort(key=lambda r: (-r[0], -r[1]))
        # Trashed copies of one session: the best one stands for it.
        shown: set[str] = set()
        unique = []
        for r in ranked:
            if r[2] not in shown:
                shown.add(r[2])
                unique.append(r)
        ranked = unique
        results = []
        for score, _, _, fid in ranked[:limit]:
            name = names[fid]
            info = allowed_rows[name]
            hits = sorted(per_file.get(fid, []), key=lambda h: (-h[0], h[1]))[:HITS_PER_SESSION]
            out = self._hits(side, name, hits, query, roles)
            if not out:
                matches, _ = find_matches(info.title, query.positive_terms)
                snippet, spans = make_snippet(info.title, matches)
                out = [Hit(None, "title", snippet, spans)]
            results.append(SessionResult(info, round(score, 6), out, name))
        return results

    def _title_matches(
        self, query: Query, inside: dict[str, list[str]], other: set[int],
    ) -> dict[int, float]:
        conn = self._conn
        assert conn is not None
        out = {}
        for fid, score in conn.execute(
                "SELECT rowid, -bm25(title_fts) FROM title_fts WHERE title_fts MATCH ?",
                (query.fts(inside=inside),)):
            if fid not in other:
                out[fid] = score
        return out


    def _hits(
        self, side: int, name: str, hits: list[tuple[float, int, str, int, int, int]],
        query: Query, roles: frozenset[str],
    ) -> list[Hit]:
        """Snippets for a session's hits, read from its file."""
        if not hits:
            return []
        from ..storage import fsio

        out = []
        terms = query.positive_terms
        try:
            f = fsio.open_regular(self._file_path(side, name))
        except OSError:
            f = None
        try:
            for _score, n, role, off, length, _mid in hits:
                text, tool = "", ""
                if f is not None:
                    rec = loads_line(os.pread(f.fileno(), length, off))
                    msg = rec.get("message") if rec and rec.get("type") == "message" else None
                    if isinstance(msg, dict):
                        text, tool = message_parts(msg)
                use_text = not roles or role in roles
                use_tool = not roles or "tool" in roles
                m_text, k_text = find_matches(text, terms) if use_text else ([], -1)
                m_tool, k_tool = find_matches(tool, terms) if use_tool else ([], -1)
                if k_tool > k_text or (not use_text and use_tool):
                    snippet, spans = make_snippet(tool, m_tool)
                    out.append(Hit(n, "tool", snippet, spans))
                else:
                    snippet, spans = make_snippet(text, m_text)
                    out.append(Hit(n, role, snippet, spans))
        finally:
            if f is not None:
                f.close()
        return out


def _scan_digest(files: dict[str, tuple[str, FileKey]]) -> str:
    """A checksum of a directory scan (names, sizes, mtimes, inodes)."""
    data = "\n".join(f"{n}\0{k[0]}\0{k[1]}\0{k[2]}"
                     for n, (_, k) in sorted(files.items())).encode("utf-8", "surrogateescape")
    return f"{len(files)}:{zlib.crc32(data):08x}{zlib.adler32(data):08x}"


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


def _read_docs(
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


def store_files(store_dir: Path) -> dict[str, tuple[str, FileKey]]:
    """The store's session files by name: (id, key). Only regular files
    (list reports the odd ones)."""
    from ..storage.listing import scan_dir

    files, _odd = scan_dir(store_dir)
    return {f"{sid}.jsonl": (sid, key) for sid, key in files.items()}


def store_infos(
    store: JSONLStore,
) -> tuple[dict[str, SessionInfo], list[tuple[str, str]]]:
    """Listing rows by file name (hidden ones included), and unreadable sessions."""
    listing = store.listing(include_hidden=True)
    rows = {f"{i.id}.jsonl": i for i in listing.sessions}
    return rows, list(listing.skipped)


def trash_infos(
    index: SearchIndex, files: dict[str, tuple[str, FileKey]]
) -> dict[str, SessionInfo]:
    """Listing rows for trashed files (from the summaries kept at indexing),
    by the listing's rule; a trashed session has no index entry."""
    from ..storage.listing import info_of

    summaries = index.trash_summaries()
    return {name: info_of(sid, key, summaries[name], None)
            for name, (sid, key) in files.items() if name in summaries}


def run_search(
    store: JSONLStore, query: Query, *,
    keep: Callable[[SessionInfo], bool] = lambda i: True,
    roles: Iterable[str] = (), trash: bool = False, include_hidden: bool = False,
    limit: int = 20, reindex: bool = False, progress: Progress | None = None,
    cache: Path | None = None,
) -> tuple[list[SessionResult], list[tuple[str, str]]]:
    """Catch the index up and search: (results best first, unreadable sessions)."""
    import sqlite3

    from ..core.paths import cache_dir

    index = SearchIndex(store, cache if cache is not None else cache_dir())
    for attempt in (0, 1):
        try:
            index.open(reindex=reindex or attempt == 1)
            return _search_once(
                store, index, query, keep=keep, roles=frozenset(roles), trash=trash,
                include_hidden=include_hidden, limit=limit, progress=progress)
        except sqlite3.DatabaseError as err:
            # A database damaged under us (or by a crash): rebuilt once.
            index.close()
            if attempt == 1:
                raise StoreIOError(f"search index failed: {err}") from err
        finally:
            index.close()
    raise AssertionError("unreachable")


def _search_once(
    store: JSONLStore, index: SearchIndex, query: Query, *,
    keep: Callable[[SessionInfo], bool], roles: frozenset[str], trash: bool,
    include_hidden: bool, limit: int, progress: Progress | None,
) -> tuple[list[SessionResult], list[tuple[str, str]]]:
    side = TRASH if trash else STORE
    index.maybe_rebuild()
    files = trash_files(store.dir) if trash else store_files(store.dir)
    skipped: list[tuple[str, str]] = []
    # The warm path: the files (and index.json, which describes sessions
    # without meta) are as they were last time, by one checksum of the
    # directory scan; then the kept listing rows are current too.
    index_key = "" if trash else _index_key(store.dir)
    state = f"{_scan_digest(files)}|{index_key}"
    old = index.get_info(f"scan-{side}")
    if old != state:
        read = index.catch_up(side, files, progress=progress)
        same_index = isinstance(old, str) and old.endswith(f"|{index_key}")
        if trash:
            index.set_rows(side, trash_infos(index, files), state, complete=True)
        elif same_index and len(read) <= _FEW and not index.rows_missing(side):
            # A few files changed (an append): their rows alone, not a listing.
            rows = {}
            for name in read:
                row = file_row(store, *files[name])
                if row is not None:
                    rows[name] = row
            index.set_rows(side, rows, state, complete=False)
        else:
            rows, skipped = store_infos(store)
            index.set_rows(side, rows, state, complete=True)

    def allowed(info: SessionInfo) -> bool:
        return (include_hidden or not info.hidden) and keep(info)

    return index.search(query, side, allowed, roles=roles, limit=limit), skipped


#: Up to this many changed files get their listing rows one by one.
_FEW = 64


def file_row(store: JSONLStore, sid: str, key: FileKey) -> SessionInfo | None:
    """One session's listing row, by the listing's own rule (``None`` if it
    cannot be read: the next full listing reports it)."""
    from ..core.folds import summarize
    from ..storage import fsio
    from ..storage.index import read_index
    from ..storage.listing import info_of

    try:
        with fsio.open_regular(store.dir / f"{sid}.jsonl") as f:
            summary = summarize(f)
    except OSError:
        return None
    entry = None
    if not summary.has_meta or summary.created is None or summary.updated is None:
        entry = (read_index(store.dir) or {}).get(sid)
    return info_of(sid, key, summary, entry)  # the listing's rule (SPEC §7)


def _index_key(store_dir: Path) -> str:
    try:
        st = os.stat(store_dir / "index.json")
    except OSError:
        return "-"
    return f"{st.st_size}:{st.st_mtime_ns}:{st.st_ino}"
