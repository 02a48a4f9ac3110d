"""``index.json``: the reference's listing cache, a JSON array of entries.

It is routinely stale (newer agents rewrite it at most every 5 s per
session, and sessionctl's appends do not touch it), so the files stay the
truth; this module only reads, builds and writes it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import orjson

from ..core.ids import is_valid_id
from .fsio import atomic_write
from .layout import INDEX_NAME

__all__ = ["encode_index", "make_entry", "read_index", "write_index"]

JSON = Any
_ENTRY_ORDER = ("id", "title", "preview", "created_at", "updated_at", "msg_count",
                "workspace", "vendor", "endpoint", "model")
_OMIT_EMPTY = ("preview", "workspace", "vendor", "endpoint", "model")


def read_index(directory: Path) -> dict[str, dict[str, JSON]] | None:
    """Entries by id; ``None`` when the index is missing, corrupt or not an array.

    Entries with a bad shape or an id that is not a valid id (``../x``) are
    dropped: nothing from the index ever becomes a path unchecked.
    """
    try:
        with open(directory / INDEX_NAME, "rb") as f:
            data = orjson.loads(f.read())
    except (OSError, orjson.JSONDecodeError):
        return None
    if not isinstance(data, list):
        return None
    out: dict[str, dict[str, JSON]] = {}
    for entry in data:
        if isinstance(entry, dict) and is_valid_id(entry.get("id")):
            out[entry["id"]] = entry
    return out


def make_entry(base: dict[str, JSON] | None, **fields: JSON) -> dict[str, JSON]:
    """An index entry in the reference's key order, unknown keys kept."""
    merged = dict(base or {})
    merged.update(fields)
    entry: dict[str, JSON] = {}
    for key in _ENTRY_ORDER:
        v = merged.get(key)
        if key in _OMIT_EMPTY and not v:
            continue
        entry[key] = v if v is not None else ("" if key != "msg_count" else 0)
    for key, v in merged.items():
        if key not in entry and key not in _ENTRY_ORDER:
            entry[key] = v
    return entry


def encode_index(entries: list[dict[str, JSON]]) -> bytes:
    """The reference's encoding: 2-space indent, HTML-escaped, no final newline."""
    data = orjson.dumps(entries, option=orjson.OPT_INDENT_2)
    return (
        data.replace(b"<", b"\\u003c").replace(b">", b"\\u003e").replace(b"&", b"\\u0026")
        .replace("\u2028".encode(), b"\\u2028").replace("\u2029".encode(), b"\\u2029")
    )


def write_index(directory: Path, entries: list[dict[str, JSON]]) -> None:
    """Replace ``index.json`` atomically (the caller holds ``index.json.flock``).

    The new file keeps the old one's mode and, when run as root, its owner
    (SPEC §8.5): a root-owned 0600 index would lock its owner out."""
    path = directory / INDEX_NAME
    try:
        like: os.stat_result | None = os.stat(path)
    except FileNotFoundError:
        like = None
    atomic_write(path, [encode_index(entries)], like=like)
