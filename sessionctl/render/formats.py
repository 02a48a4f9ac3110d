"""How ``list`` rows are printed: one output-format choice, streamed row by row."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from enum import Enum
from typing import TYPE_CHECKING, Any

import orjson

from ..core.session import SessionInfo
from .tables import list_table
from .text import clean_line

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["OutputFormat", "emit_rows"]

Write = Callable[[str], object]


class OutputFormat(str, Enum):
    """How ``list`` prints: one choice, never loose booleans."""

    table = "table"
    json = "json"
    jsonl = "jsonl"
    ids = "ids"


_BATCH = 256  # rows per write for --json


def emit_rows(
    infos: Iterable[SessionInfo], fmt: OutputFormat, write: Write, console: Console | None = None
) -> None:
    """Print ``list`` rows in ``fmt``, streaming row by row."""
    if fmt is OutputFormat.ids:
        for info in infos:
            write(info.id + "\n")
    elif fmt is OutputFormat.jsonl:
        for info in infos:
            write(orjson.dumps(info.to_dict()).decode() + "\n")
    elif fmt is OutputFormat.json:
        # One row per line, written in batches (one write per row made this
        # several times slower at 10,000 rows; batches still stream). A
        # batch is one orjson call; rows are then put on lines of their own:
        # '},{"id":' only occurs between rows (quotes inside strings are
        # escaped).
        dumps = orjson.dumps
        sep = "[\n  "
        batch: list[dict[str, Any]] = []
        for info in infos:
            batch.append(info.to_dict())
            if len(batch) == _BATCH:
                write(sep + _row_lines(dumps(batch)))
                sep, batch = ",\n  ", []
        if batch:
            write(sep + _row_lines(dumps(batch)))
            sep = ""
        write("[]\n" if sep == "[\n  " else "\n]\n")
    elif console is not None:
        console.print(list_table(list(infos), console.width))
    else:
        for info in infos:
            title = clean_line(info.title)
            write(f"{info.id}\t{info.updated[1]}\t{info.msg_count}\t"
                  f"{clean_line(info.workspace)}\t{title}\n")


def _row_lines(array: bytes) -> str:
    """A JSON array of ``list`` rows as the rows' lines (without brackets)."""
    return array[1:-1].replace(b'},{"id":', b'},\n  {"id":').decode()
