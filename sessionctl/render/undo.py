"""The trash and the audit log on a terminal and piped (``trash``, ``log``).

Rows are plain dicts in their ``--json`` shape (render imports only core).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..core.times import parse_ns
from .text import clean_line, relative_time, short_id

if TYPE_CHECKING:
    from rich.console import RenderableType

__all__ = ["human_size", "log_lines", "log_table", "trash_lines", "trash_table"]

Write = Callable[[str], object]
Row = Mapping[str, Any]


def human_size(n: int | None) -> str:
    if n is None:
        return ""
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"  # pragma: no cover


def _ns(value: Any) -> int:
    return parse_ns(value) or 0


def trash_lines(rows: Iterable[Row], write: Write) -> None:
    """Piped ``trash``: id, deleted_at, by, bytes, file, title -- tab-separated."""
    for r in rows:
        write(f"{r['id']}\t{r['deleted_at']}\t{r['by'] or ''}\t{r['bytes']}\t"
              f"{clean_line(r['file'])}\t{clean_line(r['title'])}\n")


def trash_table(rows: Sequence[Row]) -> RenderableType:
    from rich.table import Table

    now = time.time()
    table = Table(box=None, header_style="bold", pad_edge=False, show_edge=False)
    table.add_column("ID", style="yellow", no_wrap=True)
    table.add_column("DELETED", style="cyan", no_wrap=True)
    table.add_column("BY", no_wrap=True)
    table.add_column("SIZE", justify="right", no_wrap=True)
    table.add_column("TITLE", overflow="ellipsis", no_wrap=True)
    for r in rows:
        table.add_row(short_id(r["id"]), relative_time(_ns(r["deleted_at"]), now),
                      r["by"] or "?", human_size(r["bytes"]),
                      clean_line(r["title"]) or "Untitled session")
    return table


def _detail(r: Row) -> str:
    if r.get("action") == "rename":
        return f"{clean_line(str(r.get('old_title', '')))} -> {clean_line(str(r.get('title', '')))}"
    tags = r.get("tags")
    title = clean_line(str(r.get("title") or ""))
    if isinstance(tags, list):
        return f"[{' '.join(str(t) for t in tags)}] {title}".rstrip()
    return title


def log_lines(rows: Iterable[Row], write: Write) -> None:
    """Piped ``log``: time, action, id, by, detail -- tab-separated."""
    for r in rows:
        write(f"{r.get('time', '')}\t{r.get('action', '')}\t{r.get('id', '')}\t"
              f"{clean_line(str(r.get('by') or ''))}\t{_detail(r)}\n")


def log_table(rows: Sequence[Row]) -> RenderableType:
    from rich.table import Table

    now = time.time()
    table = Table(box=None, header_style="bold", pad_edge=False, show_edge=False)
    table.add_column("WHEN", style="cyan", no_wrap=True)
    table.add_column("ACTION", no_wrap=True)
    table.add_column("ID", style="yellow", no_wrap=True)
    table.add_column("BY", no_wrap=True)
    table.add_column("DETAIL", overflow="ellipsis", no_wrap=True)
    for r in rows:
        table.add_row(relative_time(_ns(r.get("time")), now), str(r.get("action", "")),
                      short_id(str(r.get("id", ""))), clean_line(str(r.get("by") or "")),
                      _detail(r))
    return table
