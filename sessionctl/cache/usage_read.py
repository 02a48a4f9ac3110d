"""Reading session files for their usage: in this process, or in a worker
process of a first ``stats`` (kept apart from :mod:`.usage` so that a
worker imports only the record reader and the usage fold)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..core.folds import Summary, read_records
from ..core.usage import FileUsage, UsageFold
from ..storage import fsio

__all__ = ["cache_value", "fold_file", "read_chunk"]

JSON = Any


def cache_value(usage: FileUsage) -> JSON:
    """What the usage caches keep of a file: ``[tokens, messages, tools]``.

    ``tokens`` is flat, 9 values per row: time, model, vendor (``None``: the
    session's), then the 6 counts of :data:`~sessionctl.core.usage.N_TOKENS`;
    ``messages`` is flat, 2 per row: time, count; ``tools`` is the tool rows
    of :meth:`FileUsage.to_json`. Flat rows are 2 lists per file instead of
    one per row: a warm report of 10,000 files makes 40,000 objects where
    it made 500,000. (The sources are not kept: no report shows them.)
    """
    tokens: list[JSON] = []
    for (minute, model, vendor), counts in usage.tokens.items():
        tokens += (minute, model, vendor, *counts)
    messages: list[JSON] = []
    for minute, n in usage.messages.items():
        messages += (minute, n)
    tools = [[minute, name, *c] for (minute, name), c in usage.tools.items()]
    return [tokens, messages, tools]


def fold_file(
    path: Path, unit: int, with_summary: bool, tools: bool = True,
) -> tuple[JSON, Summary | None]:
    """A file's usage as the cache keeps it (:func:`cache_value`, times in
    ``unit`` minutes; the tool rows empty unless ``tools``) and, if asked,
    its listing summary: one pass of the one record reader."""
    fold = UsageFold(unit, tools=tools)
    with fsio.open_regular(path) as f:
        reading = read_records(f, fold)
    return cache_value(fold.result()), (reading.summary() if with_summary else None)


def read_chunk(
    directory: str, sids: list[str], unit: int, tools: bool,
) -> list[tuple[str, Any, Any, str | None]]:
    """In a worker: (id, usage JSON, summary JSON, error) per file."""
    out: list[tuple[str, Any, Any, str | None]] = []
    for sid in sids:
        try:
            usage, summary = fold_file(Path(directory) / f"{sid}.jsonl", unit, True, tools)
            assert summary is not None
            out.append((sid, usage, summary.to_json(), None))
        except FileNotFoundError:
            out.append((sid, None, None, None))
        except OSError as err:
            out.append((sid, None, None, f"cannot read session {sid}: {err.strerror or err}"))
    return out
