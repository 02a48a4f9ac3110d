"""The search index's database: an SQLite FTS5 file in sessionctl's cache dir.

One database per store (``search-<tag>.sqlite3``), with a schema version; a
different, foreign or damaged database is rebuilt. It never writes into the
store and never takes the agent's locks. Several searches may run at once
(WAL, busy timeout).

The message table is contentless (``content=''``): it holds only the words'
postings, so the index stays well under the size of the store. Each indexed
message keeps the offset and length of its line, so snippets come from the
session file itself. Rows of files that changed or went away cannot be
deleted from a contentless table (SQLite < 3.43); they are left behind,
unreachable (their ``msg`` rows are deleted and row ids never reused), and
the whole index is rebuilt once such garbage outweighs the live rows.
Filling the index is :mod:`.search_catchup`; querying it, :mod:`.search`.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import TYPE_CHECKING

from ..core.folds import Summary
from ..core.query import space_cjk, word_set
from ..core.session import SessionInfo
from ..errors import StoreIOError
from ..storage.summaries import store_tag

if TYPE_CHECKING:
    import sqlite3

    from ..storage.store import FileStore as JSONLStore

__all__ = [
    "GARBAGE_MIN",
    "MAX_INSIDE",
    "SCHEMA_VERSION",
    "STORE",
    "TRASH",
    "SearchIndex",
    "check_fts5",
]

SCHEMA_VERSION = 3
STORE, TRASH = 0, 1
#: Rebuild when at least this many unreachable rows outweigh the live ones.
GARBAGE_MIN = 50_000
_BUSY_MS = 60_000
_TOKENIZE = "unicode61 remove_diacritics 2"


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
#: Longer words are not offered for matching inside (hashes, base64).
_MAX_VOCAB_WORD = 48
#: At most this many indexed words containing a bare word join its match.
MAX_INSIDE = 500


class _Damaged(Exception):
    """The database is not ours, of another version, or unreadable."""


class SearchIndex:
    """The search database of one store."""

    def __init__(self, store: JSONLStore, cache: Path | None) -> None:
        self._store = store
        self._dir = store.dir
        self._real = str(store.dir.resolve())
        self._path: Path | None = None
        if cache is not None:
            self._path = cache / f"search-{store_tag(self._real)}.sqlite3"
        self._conn: sqlite3.Connection | None = None
        #: Words of this batch, for the vocabulary (see :meth:`flush_words`).
        self.words: set[str] = set()

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

    def rows_missing(self, side: int) -> bool:
        """Whether some indexed file has no listing row kept."""
        return self.open().execute(
            "SELECT 1 FROM files WHERE side = ? AND info IS NULL LIMIT 1", (side,)
        ).fetchone() is not None

    def get_info(self, key: str) -> object:
        row = self.open().execute("SELECT value FROM info WHERE key = ?", (key,)).fetchone()
        return None if row is None else row[0]

    def flush_words(self) -> None:
        """Add the batch's words to the vocabulary (which finds the words a
        bare query word occurs inside)."""
        conn = self._conn
        assert conn is not None
        if self.words:
            conn.executemany("INSERT OR IGNORE INTO vocab(term) VALUES (?)",
                             ((w,) for w in self.words if len(w) <= _MAX_VOCAB_WORD))
            self.words = set()

    def vocabulary_from_index(self) -> None:
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

    def drop(self, fid: int) -> None:
        """Forget one file row: its messages, listing row and title."""
        conn = self._conn
        assert conn is not None
        self.forget_messages(fid)
        conn.execute("DELETE FROM files WHERE id = ?", (fid,))
        conn.execute("DELETE FROM title_fts WHERE rowid = ?", (fid,))

    def forget_messages(self, fid: int) -> None:
        """Drop a file's message rows (their postings stay, as garbage)."""
        conn = self._conn
        assert conn is not None
        cur = conn.execute("DELETE FROM msg WHERE file = ?", (fid,))
        if cur.rowcount > 0:
            conn.execute("UPDATE info SET value = value + ? WHERE key = 'garbage'",
                         (cur.rowcount,))

    def file_path(self, side: int, name: str) -> Path:
        """A session file of the store (or of its trash)."""
        return (self._dir / ".trash" / name) if side == TRASH else (self._dir / name)

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
                        self.words |= word_set(new_title)
            self.flush_words()
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

