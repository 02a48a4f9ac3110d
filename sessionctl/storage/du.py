"""Disk use of a store: its session files, its trash, sessionctl's cache."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .store import FileStore

__all__ = ["disk_usage", "tree_bytes"]

JSON = Any


def tree_bytes(root: Path) -> tuple[int, int]:
    """(bytes, files) of the regular files under ``root`` (symlinks not
    followed; a missing or unreadable directory counts 0)."""
    total = files = 0
    for dirpath, _dirs, names in os.walk(root):
        for name in names:
            try:
                st = os.lstat(os.path.join(dirpath, name))
            except OSError:
                continue
            if not os.path.islink(os.path.join(dirpath, name)):
                total += st.st_size
                files += 1
    return total, files


def disk_usage(
    store: FileStore, cache_dir: Path | None, *, by: str = "workspace", limit: int | None = None,
) -> dict[str, JSON]:
    """Bytes of the session files (all of them, hidden ones included), by
    workspace or by session (biggest first), of ``<store>/.trash/`` and of
    the cache directory. Reads no session file when the listing is warm."""
    listing = store.listing(include_hidden=True)
    sizes = {sid: k.size for sid, k in listing.keys.items()}
    rows: list[dict[str, JSON]] = []
    if by == "session":
        titles = {i.id: i.title for i in listing.sessions}
        rows = [{"key": sid, "bytes": n, "title": titles.get(sid, "")}
                for sid, n in sizes.items()]
    else:
        per: dict[str, list[int]] = {}
        ws = {i.id: i.workspace for i in listing.sessions}
        for sid, n in sizes.items():
            acc = per.setdefault(ws.get(sid, ""), [0, 0])
            acc[0] += n
            acc[1] += 1
        rows = [{"key": k, "bytes": v[0], "sessions": v[1]} for k, v in per.items()]
    rows.sort(key=lambda r: (-r["bytes"], r["key"]))
    trash, trash_files = tree_bytes(store.layout.trash)
    cache, _ = tree_bytes(cache_dir) if cache_dir is not None else (0, 0)
    return {
        "store": str(store.dir),
        "sessions_bytes": sum(sizes.values()),
        "files": len(sizes),
        "trash_bytes": trash,
        "trash_files": trash_files,
        "cache_bytes": cache,
        "cache_dir": None if cache_dir is None else str(cache_dir),
        "by": by,
        "rows": rows[:limit] if limit is not None else rows,
    }
