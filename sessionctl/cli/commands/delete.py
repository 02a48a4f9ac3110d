"""``sessionctl delete``: remove sessions, all or nothing."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from .. import common
from ..common import IdsArg, VerboseOpt

app = common.command_app()


@app.command("delete", epilog="Example: sessionctl delete 0626a978 1f2e3d4c --dry-run")
def delete(
    session_ids: IdsArg,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Print the ids, remove nothing.")] = False,
    verbose: VerboseOpt = False,
) -> None:
    """Delete sessions. Every id is checked first; nothing is removed if one is bad."""
    store = common.store()
    resolved = list(dict.fromkeys(store.resolve_id(a) for a in session_ids))
    if dry_run:
        sys.stdout.write("".join(f"{sid}\n" for sid in resolved))
        return
    store.delete_many(resolved)
    if verbose:
        for sid in resolved:
            common.err(f"deleted {sid}")
