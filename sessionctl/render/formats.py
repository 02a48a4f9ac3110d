"""How ``list`` rows are printed: one output-format choice, streamed row by row."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from enum import Enum
from typing import Any

import orjson

from ..core.session import SessionInfo
from .text import clean_line

__all__ = ["OutputFormat", "emit_rows"]

Write = Callable[[str], object]


class OutputFormat(str, Enum):
    """How ``list`` prints: one choice, never loose booleans."""

    table = "table"
    json = "json"
    jsonl = "jsonl"
    ids = "ids"


_BATCH = 256  # rows per write for --json


#: Labels by session id: (tags, pinned) -- plain data from the store's labels.
Labels = Mapping[str, tuple[tuple[str, ...], bool]]
_NO_LABEL: tuple[tuple[str, ...], bool] = ((), False)


def _labelled(infos: Iterable[SessionInfo], labels: Labels) -> list[dict[str, Any]]:
    """JSON rows with ``tags`` and ``pinned`` added (SPEC §8.2): the row of
    ``SessionInfo.to_dict`` built in one literal (this is list's hot loop)."""
    get = labels.get
    no = _NO_LABEL
    out: list[dict[str, Any]] = []
    append = out.append
    for info in infos:
        sid, title, workspace, vendor, endpoint, model, created, updated, count, hidden, _ = info
        tags, pinned = get(sid, no)
        append({"id": sid, "title": title, "workspace": workspace, "vendor": vendor,
                "endpoint": endpoint, "model": model, "created_at": created[1],
                "updated_at": updated[1], "msg_count": count, "hidden": hidden,
                "tags": tags, "pinned": pinned})  # orjson writes a tuple as an array
    return out


def emit_rows(
    infos: Iterable[SessionInfo], fmt: OutputFormat, write: Write, labels: Labels | None = None,
) -> None:
    """Print ``list`` rows in ``fmt``, streaming row by row (``table`` is
    the piped form: tab-separated lines; the terminal table is
    :func:`~sessionctl.render.tables.write_table`); with ``labels``, JSON
    rows gain ``tags`` and ``pinned``."""
    if labels is not None and fmt in (OutputFormat.json, OutputFormat.jsonl):
        _emit_dicts(_labelled(infos, labels), fmt, write)
        return
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
    else:
        for info in infos:
            title = clean_line(info.title)
            write(f"{info.id}\t{info.updated[1]}\t{info.msg_count}\t"
                  f"{clean_line(info.workspace)}\t{title}\n")


def _emit_dicts(rows: Iterable[dict[str, Any]], fmt: OutputFormat, write: Write) -> None:
    """``--json``/``--jsonl`` of ready-made rows (batched as in emit_rows)."""
    dumps = orjson.dumps
    if fmt is OutputFormat.jsonl:
        for row in rows:
            write(dumps(row).decode() + "\n")
        return
    sep = "[\n  "
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == _BATCH:
            write(sep + _row_lines(dumps(batch)))
            sep, batch = ",\n  ", []
    if batch:
        write(sep + _row_lines(dumps(batch)))
        sep = ""
    write("[]\n" if sep == "[\n  " else "\n]\n")


def _row_lines(array: bytes) -> str:
    """A JSON array of ``list`` rows as the rows' lines (without brackets)."""
    return array[1:-1].replace(b'},{"id":', b'},\n  {"id":').decode()
