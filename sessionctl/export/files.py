"""Exports written to files: one session to a path, or every session of a
listing into a directory (``export-md --all``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import CorruptStore, SessionNotFound, StoreIOError
from ..storage import fsio
from .documents import write_markdown_file

if TYPE_CHECKING:
    from ..storage.store import FileStore

__all__ = ["ExportReport", "export_all"]


@dataclass
class ExportReport:
    """What ``export_all`` wrote, and the sessions it could not read."""

    exported: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)


def export_all(
    store: FileStore, ids: Iterable[str], output_dir: Path, *, context: bool = False,
    advance: Callable[[], object] | None = None,
) -> ExportReport:
    """Write ``<id>.md`` for each session into ``output_dir`` (created if
    needed), each file replaced atomically; one damaged session does not
    stop the rest. ``advance`` is called after each session (progress)."""
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise StoreIOError.wrap(f"create {output_dir}", err) from err
    report = ExportReport()
    for sid in ids:
        try:
            # Each file's data is fsync'd; the directory once at the end
            # instead of once per file.
            write_markdown_file(store, sid, output_dir / f"{sid}.md", context=context,
                                sync_dir=False)
            report.exported += 1
        except SessionNotFound:
            pass  # deleted since the listing: nothing to export
        except CorruptStore as err:
            report.failed.append((sid, str(err)))
        if advance is not None:
            advance()
    try:
        fsio.fsync_dir(output_dir)
    except OSError as err:
        raise StoreIOError.wrap(f"sync {output_dir}", err) from err
    return report
