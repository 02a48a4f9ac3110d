"""Searching a store: catch its index up, then rank sessions and cut snippets.

The index itself is :mod:`.search_index`; filling it, :mod:`.search_catchup`.
Snippets are read from the session files, at the offsets the index keeps.
"""

from __future__ import annotations

import os
import stat
import zlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.ids import ID_PATTERN
from ..core.query import Query
from ..core.records import loads_line
from ..core.search_fold import message_parts
from ..core.search_results import Hit, SessionResult
from ..core.session import SessionInfo
from ..core.snippets import find_matches, make_snippet
from ..errors import StoreIOError
from ..storage.summaries import FileKey
from .search_catchup import Progress, catch_up
from .search_index import STORE, TRASH, SearchIndex

if TYPE_CHECKING:
    import sqlite3

    from ..storage.store import FileStore as JSONLStore

__all__ = [
    "Hit",
    "SessionResult",
    "find_sessions",
    "run_search",
    "trash_files",
]

#: How much more a session's best title match weighs than a message match.
TITLE_WEIGHT = 2.0
HITS_PER_SESSION = 3


def find_sessions(
    index: SearchIndex, query: Query, side: int, allowed: Callable[[SessionInfo], bool], *,
    roles: frozenset[str] = frozenset(), limit: int = 20,
) -> list[SessionResult]:
    """The best ``limit`` sessions whose listing row is ``allowed`` for
    ``query``: by their best message (and title), ties newest first."""
    conn = index.open()
    # Rows of the other side (the trash, usually small) are skipped.
    other = {fid for (fid,) in conn.execute(
        "SELECT id FROM files WHERE side != ?", (side,))}
    per_file: dict[int, list[tuple[float, int, str, int, int, int]]] = {}
    text_roles = sorted(roles - {"tool"})
    inside = {w: index.words_containing(w) for w in query.infixes}
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
    titles = _title_matches(conn, query, inside, other) if not roles else {}
    if not per_file and not titles:
        return []
    found = {fid: nr for fid, nr in index.rows(set(per_file) | set(titles)).items()
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
        out = _hits(index.file_path(side, name), hits, query, roles)
        if not out:
            matches, _ = find_matches(info.title, query.positive_terms)
            snippet, spans = make_snippet(info.title, matches)
            out = [Hit(None, "title", snippet, spans)]
        results.append(SessionResult(info, round(score, 6), out, name))
    return results


def _title_matches(
    conn: sqlite3.Connection, query: Query, inside: dict[str, list[str]], other: set[int],
) -> dict[int, float]:
    """Title match scores by file row, skipping rows of the other side."""
    out = {}
    for fid, score in conn.execute(
            "SELECT rowid, -bm25(title_fts) FROM title_fts WHERE title_fts MATCH ?",
            (query.fts(inside=inside),)):
        if fid not in other:
            out[fid] = score
    return out


def _hits(
    path: Path, hits: list[tuple[float, int, str, int, int, int]],
    query: Query, roles: frozenset[str],
) -> list[Hit]:
    """Snippets for a session's hits, read from its file."""
    if not hits:
        return []
    from ..storage import fsio

    out = []
    terms = query.positive_terms
    try:
        f = fsio.open_regular(path)
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

def _scan_digest(files: dict[str, tuple[str, FileKey]]) -> str:
    """A checksum of a directory scan (names, sizes, mtimes, inodes)."""
    data = "\n".join(f"{n}\0{k[0]}\0{k[1]}\0{k[2]}"
                     for n, (_, k) in sorted(files.items())).encode("utf-8", "surrogateescape")
    return f"{len(files)}:{zlib.crc32(data):08x}{zlib.adler32(data):08x}"


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
        read = catch_up(index, side, files, progress=progress)
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

    return find_sessions(index, query, side, allowed, roles=roles, limit=limit), skipped


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
