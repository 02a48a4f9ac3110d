"""How ``search`` prints (SPEC §8.3): a terminal view, tab-separated lines
when piped, ``--json``/``--jsonl``. Takes plain result objects; knows
nothing of files or of the index."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import orjson

from .text import clean_line, relative_time, short_id, shorten_path

if TYPE_CHECKING:
    from rich.console import Console

    from ..core.search_results import SessionResult

__all__ = ["result_dict", "write_json", "write_jsonl", "write_table", "write_tsv"]

Write = Callable[[str], object]


def result_dict(r: SessionResult) -> dict[str, Any]:
    """One session of ``--json``: id, title, workspace, updated_at, score, hits."""
    return {
        "id": r.info.id,
        "title": r.info.title,
        "workspace": r.info.workspace,
        "updated_at": r.info.updated[1],
        "score": r.score,
        "hits": [h.to_dict() for h in r.hits],
    }


def write_json(results: Sequence[SessionResult], write: Write) -> None:
    if not results:
        write("[]\n")
        return
    write("[\n  " + ",\n  ".join(orjson.dumps(result_dict(r)).decode() for r in results)
          + "\n]\n")


def write_jsonl(results: Sequence[SessionResult], write: Write) -> None:
    for r in results:
        write(orjson.dumps(result_dict(r)).decode() + "\n")


def write_tsv(results: Sequence[SessionResult], write: Write) -> None:
    """One line per hit: id, N, role, updated_at, snippet (N is empty for a
    title hit)."""
    for r in results:
        for h in r.hits:
            n = "" if h.message is None else str(h.message)
            write(f"{r.info.id}\t{n}\t{h.role}\t{r.info.updated[1]}\t{h.snippet}\n")


def write_table(results: Sequence[SessionResult], console: Console) -> None:
    """Per session a line (short id, relative time, title, workspace), then
    each hit: ``#N role`` and its snippet with the matches highlighted."""
    from rich.text import Text

    for k, r in enumerate(results):
        if k:
            console.print()
        head = Text()
        head.append(short_id(r.info.id), style="bold cyan")
        head.append("  " + relative_time(r.info.updated[0]), style="dim")
        head.append("  " + (clean_line(r.info.title) or "Untitled session"), style="bold")
        if r.info.workspace:
            head.append("  " + shorten_path(clean_line(r.info.workspace)), style="dim")
        console.print(head, overflow="ellipsis", no_wrap=True)
        for h in r.hits:
            line = Text("  ")
            label = "title" if h.message is None else f"#{h.message} {h.role}"
            line.append(f"{label:<14}", style="green")
            start = len(line)
            line.append(h.snippet)
            for a, b in h.spans:
                line.stylize("bold yellow", start + a, start + b)
            console.print(line)
