"""The library as the seed names it: :class:`JSONLStore` with the whole
``Store`` interface (exports included), and the seed's functions.

:class:`~sessionctl.storage.store.FileStore` does the storage; this class
adds the exports, which live a layer above storage (:mod:`sessionctl.export`),
so that storage never imports export. The export layer is imported on
first use: ``list``, ``cleanup`` and ``stats`` never pay for it.
"""

from __future__ import annotations

import builtins
import os
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import IO, TYPE_CHECKING, Protocol

from .core.models import Message
from .core.paths import default_dir
from .core.session import Session, SessionInfo
from .storage.listing import Listing
from .storage.removal import CleanupReport
from .storage.store import FileStore, new_session

if TYPE_CHECKING:
    from .storage.purge import PurgeReport
    from .storage.rename import RenameReport
    from .storage.trash import RestoreReport, TrashEntry, TrashReport

__all__ = [
    "CleanupReport",
    "JSONLStore",
    "Listing",
    "Store",
    "export_session_markdown",
    "new_default_store",
    "new_session",
]


class Store(Protocol):
    """The seed's ``Store`` interface."""

    def save(self, session: Session) -> None: ...
    def load(self, session_id: str) -> Session: ...
    def list(self, *, include_hidden: bool = False) -> builtins.list[SessionInfo]: ...
    def delete(self, session_id: str) -> None: ...
    def export_markdown(self, session_id: str, *, context: bool = False) -> str: ...
    def cleanup_older_than(self, before: datetime) -> int: ...
    def append_checkpoint(
        self, session: Session, compacted: builtins.list[Message], tokens: int
    ) -> None: ...


class JSONLStore(FileStore):
    """Sessions as ``<id>.jsonl`` files in one directory, plus ``index.json``
    (see :class:`~sessionctl.storage.store.FileStore`), and their exports."""

    def export_markdown(self, session_id: str, *, context: bool = False) -> str:
        """The session as a markdown document (see :meth:`write_markdown`)."""
        from .export import documents

        return documents.export_markdown(self, session_id, context=context)

    def write_markdown(self, session_id: str, out: IO[str], *, context: bool = False) -> None:
        """Stream the markdown export to ``out``, reading the file once:
        memory stays bounded by the largest record, not the file."""
        from .export import documents

        documents.write_markdown(self, session_id, out, context=context)

    def write_json(self, session_id: str, out: IO[bytes], *, context: bool = False) -> None:
        """Stream ``show --json`` to ``out``: what ``load(id).to_dict()``
        gives, without building the session in memory."""
        from .export import documents

        documents.write_json(self, session_id, out, context=context)

    def write_markdown_file(
        self, session_id: str, path: str | os.PathLike[str], *, context: bool = False,
        sync_dir: bool = True,
    ) -> None:
        """Export to ``path``: the complete document or nothing (atomically)."""
        from .export import documents

        documents.write_markdown_file(self, session_id, path, context=context,
                                      sync_dir=sync_dir)


    # -- undo: trash, restore, purge, names, labels (SPEC §8.1-§8.2) -----------
    # The seed's delete and cleanup_older_than stay permanent; cleanup moves
    # to the trash unless purge=True. ``by`` is what the audit log records
    # as the actor (the CLI passes its command's name).

    def trash(self, session_ids: Iterable[str], *, force: bool = False,
              by: str = "library") -> TrashReport:
        """Move sessions to ``.trash/`` (all or nothing; pinned ones only
        with ``force``; never one in use)."""
        from .storage import trash

        return trash.trash(self, session_ids, force=force, by=by)

    def restore(self, session_ids: Iterable[str], *, by: str = "library") -> RestoreReport:
        """Move the copy of each id trashed last back into the store."""
        from .storage import trash

        return trash.restore(self, session_ids, by=by)

    def trashed(self) -> builtins.list[TrashEntry]:
        """What is in the trash, newest deletion first."""
        from .storage import trash

        return trash.trashed(self).entries

    def purge(self, session_ids: Iterable[str] | None = None, *,
              before: datetime | None = None, dry_run: bool = False,
              by: str = "library") -> PurgeReport:
        """Remove trash entries for good (of ``session_ids``, deleted before
        ``before``; all when both are ``None``)."""
        from .storage import purge as purging

        return purging.purge(self, session_ids, before=before, dry_run=dry_run, by=by)

    def cleanup(
        self, *, before: datetime | None = None, empty: bool = False, dry_run: bool = False,
        purge: bool = False, trash_retention: timedelta | None = None, by: str = "library",
    ) -> CleanupReport:
        """Move sessions last updated before ``before`` (and with ``empty``
        idle ones without user text) to the trash, or remove them for good
        with ``purge``; pinned and in-use sessions are skipped. With
        ``trash_retention``, older trash entries are purged."""
        from .storage import purge as purging

        return purging.cleanup(self, before=before, empty=empty, dry_run=dry_run,
                               purge_now=purge, trash_retention=trash_retention, by=by)

    def cleanup_older_than(self, before: datetime) -> int:
        """The seed's cleanup: remove sessions updated before ``before`` for
        good (pinned and in-use ones are skipped); the count."""
        return len(self.cleanup(before=before, purge=True).removed)

    def rename(self, session_id: str, title: str, *, by: str = "library") -> RenameReport:
        """A new title, appended as the agent's own ``/title`` does."""
        from .storage.rename import rename

        return rename(self, session_id, title, by=by)

    def tag(
        self, session_id: str, tags: Sequence[str], *, by: str = "library"
    ) -> builtins.list[str]:
        """Warnings (the audit log could not be written), else ``[]``."""
        from .storage.labels import change

        return change(self, "tag", [self.resolve_id(session_id)], tags, by=by)

    def untag(
        self, session_id: str, tags: Sequence[str], *, by: str = "library"
    ) -> builtins.list[str]:
        """Warnings (the audit log could not be written), else ``[]``."""
        from .storage.labels import change

        return change(self, "untag", [self.resolve_id(session_id)], tags, by=by)

    def pin(self, session_ids: Iterable[str], *, by: str = "library") -> builtins.list[str]:
        """Warnings (the audit log could not be written), else ``[]``."""
        from .storage.labels import change

        return change(self, "pin", [self.resolve_id(s) for s in session_ids], by=by)

    def unpin(self, session_ids: Iterable[str], *, by: str = "library") -> builtins.list[str]:
        """Warnings (the audit log could not be written), else ``[]``."""
        from .storage.labels import change

        return change(self, "unpin", [self.resolve_id(s) for s in session_ids], by=by)


def export_session_markdown(session: Session, *, context: bool = False) -> str:
    """Render a loaded :class:`Session` as markdown (the seed's function)."""
    from .export.documents import export_session_markdown as render

    return render(session, context=context)


def new_default_store() -> JSONLStore:
    """A store in :func:`default_dir` (created if needed)."""
    return JSONLStore(default_dir())
