"""``sessionctl delete``: move sessions to the trash (``--purge``: for good),
all or nothing."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from .. import common
from ..common import IdsArg, VerboseOpt

app = common.command_app()


@app.command("delete", epilog=(
    "Examples: sessionctl delete 0626a978 1f2e3d4c; sessionctl delete 0626a978 --dry-run; "
    "sessionctl restore 0626a978 (undo)"))
def delete(
    session_ids: IdsArg,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Print the ids, remove nothing.")] = False,
    purge: Annotated[bool, typer.Option(
        "--purge", help="Remove for good instead of moving to the trash.")] = False,
    force: Annotated[bool, typer.Option(
        "--force", help="Delete pinned sessions too (never one in use).")] = False,
    verbose: VerboseOpt = False,
) -> None:
    """Move sessions to the trash (undo with restore). Every id is checked
    first; nothing is removed if one is bad, pinned or in use."""
    from ...storage import purge as purging
    from ...storage import trash

    store = common.store()
    resolved = list(dict.fromkeys(store.resolve_id(a) for a in session_ids))
    if dry_run:
        if not force:
            trash.check_pins(store, resolved)
        sys.stdout.write("".join(f"{sid}\n" for sid in resolved))
        return
    if purge:
        report = purging.delete_for_good(store, resolved, force=force, by="delete")
    else:
        report = trash.trash(store, resolved, force=force, by="delete")
    if verbose:
        for sid in report.trashed:
            common.err(f"deleted {sid}")
    for line in report.warnings:
        common.err(f"warning: {line}")
