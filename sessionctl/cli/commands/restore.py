"""``sessionctl restore``: move sessions back from the trash."""

from __future__ import annotations

from typing import Annotated

import typer

from .. import common
from ..common import VerboseOpt


def _complete_trashed(ctx: typer.Context, incomplete: str) -> list[str]:
    """Ids in the trash, for shell completion."""
    from ...core.paths import default_dir
    from ...errors import SessionError
    from ...storage.store import FileStore
    from ...storage.trash import trashed

    directory = ctx.find_root().params.get("directory") or common.State.dir or default_dir()
    try:
        entries = trashed(FileStore(directory, create=False)).entries
    except (SessionError, OSError):
        return []
    return sorted({e.id for e in entries if e.id.startswith(incomplete)})


app = common.command_app()


@app.command("restore", epilog="Example: sessionctl restore 0626a978 1f2e3d4c")
def restore(
    trashed_ids: Annotated[list[str], typer.Argument(
        metavar="ID...", help="Ids (or unique prefixes) of sessions in the trash.",
        autocompletion=_complete_trashed)],
    verbose: VerboseOpt = False,
) -> None:
    """Move sessions back from the trash (the copy deleted last). Nothing is
    restored if one id is not in the trash, in use, or already in the store."""
    from ...core.ids import resolve
    from ...errors import SessionNotFound
    from ...storage import trash

    store = common.store()
    in_trash = sorted({e.id for e in trash.trashed(store).entries})
    resolved = []
    for arg in trashed_ids:
        try:
            resolved.append(resolve(arg, in_trash))
        except SessionNotFound:
            raise SessionNotFound(arg, f"session {arg} is not in the trash") from None
    report = trash.restore(store, resolved, by="restore")
    for line in report.warnings:
        common.err(f"warning: {line}")
    if verbose:
        for e in report.restored:
            common.err(f"restored {e.id}")
