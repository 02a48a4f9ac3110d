"""Reading session files for their usage: in this process, or in a worker
process of a first ``stats`` (kept apart from :mod:`.usage` so that a
worker imports only the record reader and the usage fold)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..core.folds import Summary, read_records
from ..core.usage import UsageFold
from ..storage import fsio

__all__ = ["fold_file", "read_chunk"]

JSON = Any


def fold_file(path: Path, unit: int, with_summary: bool) -> tuple[JSON, Summary | None]:
    """A file's usage JSON (times in ``unit`` minutes) and, if asked, its
    listing summary: one pass of the one record reader."""
    fold = UsageFold(unit)
    with fsio.open_regular(path) as f:
        reading = read_records(f, fold)
    usage = fold.result()
    if unit != 1:
        usage = usage.coarsen(unit)
    return usage.to_json(), (reading.summary() if with_summary else None)


def read_chunk(
    directory: str, sids: list[str], unit: int,
) -> list[tuple[str, Any, Any, str | None]]:
    """In a worker: (id, usage JSON, summary JSON, error) per file."""
    out: list[tuple[str, Any, Any, str | None]] = []
    for sid in sids:
        try:
            usage, summary = fold_file(Path(directory) / f"{sid}.jsonl", unit, True)
            assert summary is not None
            out.append((sid, usage, summary.to_json(), None))
        except FileNotFoundError:
            out.append((sid, None, None, None))
        except OSError as err:
            out.append((sid, None, None, f"cannot read session {sid}: {err.strerror or err}"))
    return out
