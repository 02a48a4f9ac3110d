"""One session as a document: markdown to a stream or a file, and the JSON
of ``show --json``, each written from one streaming read of the file; and
the seed's ``export_session_markdown`` of a loaded session."""

from __future__ import annotations

import contextlib
import io
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from ..core.ids import validate_id
from ..core.models import Message
from ..core.session import Session, SessionInfo
from ..errors import StoreIOError
from ..storage import fsio
from ..storage.store import FileStore
from . import stream
from .markdown import CheckpointMark, ExportHeader, render_markdown
from .spool import Render, Scanned, SpoolFold

__all__ = [
    "export_markdown",
    "export_session_markdown",
    "write_json",
    "write_markdown",
    "write_markdown_file",
]


def export_markdown(store: FileStore, session_id: str, *, context: bool = False) -> str:
    """The session as a markdown document (see :func:`write_markdown`)."""
    buf = io.StringIO()
    write_markdown(store, session_id, buf, context=context)
    return buf.getvalue()


def write_markdown(
    store: FileStore, session_id: str, out: IO[str], *, context: bool = False
) -> None:
    """Stream the markdown export to ``out``, reading the file once:
    memory stays bounded by the largest record, not the file."""
    with _scanned(store, session_id, stream.markdown_message) as (sc, info):
        header = ExportHeader(
            id=info.id, title=info.title, created_ns=info.created[0],
            updated_ns=info.updated[0], vendor=info.vendor, endpoint=info.endpoint,
            model=info.model,
        )
        write, finish = stream.text_writer(out)
        stream.write_markdown(sc, header, write, context=context)
        finish()


def write_json(
    store: FileStore, session_id: str, out: IO[bytes], *, context: bool = False
) -> None:
    """Stream ``show --json`` to ``out``: the same document as
    ``load(id).to_dict()`` (with ``context``, ``messages`` is the resume
    context), without building the session in memory."""
    with _scanned(store, session_id, stream.json_section, events=True) as (sc, info):
        head = {
            "id": info.id, "title": info.title, "workspace": info.workspace,
            "vendor": info.vendor, "endpoint": info.endpoint, "model": info.model,
            "created_at": info.created[1], "updated_at": info.updated[1],
        }
        stream.write_json(sc, head, out.write, context=context)


@contextlib.contextmanager
def _scanned(
    store: FileStore, session_id: str, render: Render, *, events: bool = False
) -> Iterator[tuple[Scanned, SessionInfo]]:
    """The session's file read once, each message rendered into a spool."""
    import tempfile  # only exports pay for it

    validate_id(session_id)  # before any file is touched
    with tempfile.TemporaryFile() as spool:
        fold = SpoolFold(render, spool, events=events)
        reading, info = store.read(session_id, fold, exact_shown=True)
        yield Scanned(reading, fold), info


def write_markdown_file(
    store: FileStore, session_id: str, path: str | os.PathLike[str], *,
    context: bool = False, sync_dir: bool = True,
) -> None:
    """Export to ``path``: the complete document or nothing.

    A regular file is replaced atomically (through a symlink, which stays
    a link); a device or a pipe (``/dev/stdout``) is written to, never
    renamed over. ``sync_dir=False``: the caller fsyncs the directory (a
    batch of exports does it once).
    """
    validate_id(session_id)  # before any file is touched
    target = Path(path)
    try:
        st: os.stat_result | None = os.stat(target)
    except FileNotFoundError:
        st = None
    except OSError as err:
        raise StoreIOError(f"cannot write {target}: {err.strerror or err}", err) from err
    try:
        if st is not None and stat.S_ISDIR(st.st_mode):
            raise StoreIOError(f"cannot write {target}: it is a directory")
        if st is not None and not stat.S_ISREG(st.st_mode):
            with open(target, "w", encoding="utf-8", newline="") as out:
                write_markdown(store, session_id, out, context=context)
            return
        real = Path(os.path.realpath(target))
        with fsio.atomic_writer(real, mode=0o644, sync_dir=sync_dir) as raw:
            text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
            write_markdown(store, session_id, text, context=context)
            text.flush()
            text.detach()
    except BrokenPipeError:
        raise
    except OSError as err:
        raise StoreIOError(f"cannot write {target}: {err.strerror or err}", err) from err


def export_session_markdown(session: Session, *, context: bool = False) -> str:
    """Render a loaded :class:`Session` as markdown (the seed's function)."""
    msgs = session.context_messages if context else session.messages
    header = ExportHeader(
        id=session.id, title=session.title, created_ns=session.created_ns,
        updated_ns=session.updated_ns, vendor=session.vendor, endpoint=session.endpoint,
        model=session.model, message_count=len(msgs),
    )
    items: list[Message | CheckpointMark] = []
    if context:
        items.extend(msgs)
    else:
        marks = {c["after_message"]: c for c in session.checkpoint_summaries()}
        usable = [cp for cp in session.checkpoints if cp.after_message in marks]
        k = 0
        for cp in usable:
            items.extend(msgs[k:cp.after_message])
            k = max(k, cp.after_message)
            shown = list(cp.messages) if cp.messages else [
                m for m in msgs if cp.summary_msg_id and m.id == cp.summary_msg_id][:1]
            items.append(CheckpointMark(cp.tokens, marks[cp.after_message]["messages"], shown))
        items.extend(msgs[k:])
    buf = io.StringIO()
    render_markdown(header, items, buf.write)
    return buf.getvalue()
