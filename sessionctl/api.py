"""The library as the seed names it: :class:`JSONLStore` with the whole
``Store`` interface (exports included), and the seed's functions.

:class:`~sessionctl.storage.store.FileStore` does the storage; this class
adds the exports, which live a layer above storage (:mod:`sessionctl.export`),
so that storage never imports export.
"""

from __future__ import annotations

import builtins
import os
from datetime import datetime
from typing import IO, Protocol

from .core.models import Message
from .core.paths import default_dir
from .core.session import Session, SessionInfo
from .export import documents
from .export.documents import export_session_markdown
from .storage.listing import Listing
from .storage.removal import CleanupReport
from .storage.store import FileStore, new_session

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
        return documents.export_markdown(self, session_id, context=context)

    def write_markdown(self, session_id: str, out: IO[str], *, context: bool = False) -> None:
        """Stream the markdown export to ``out``, reading the file once:
        memory stays bounded by the largest record, not the file."""
        documents.write_markdown(self, session_id, out, context=context)

    def write_json(self, session_id: str, out: IO[bytes], *, context: bool = False) -> None:
        """Stream ``show --json`` to ``out``: what ``load(id).to_dict()``
        gives, without building the session in memory."""
        documents.write_json(self, session_id, out, context=context)

    def write_markdown_file(
        self, session_id: str, path: str | os.PathLike[str], *, context: bool = False,
        sync_dir: bool = True,
    ) -> None:
        """Export to ``path``: the complete document or nothing (atomically)."""
        documents.write_markdown_file(self, session_id, path, context=context,
                                      sync_dir=sync_dir)


def new_default_store() -> JSONLStore:
    """A store in :func:`default_dir` (created if needed)."""
    return JSONLStore(default_dir())
