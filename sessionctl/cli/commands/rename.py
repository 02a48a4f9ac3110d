"""``sessionctl rename``: a new title, as the agent's own /title sets it."""

from __future__ import annotations

from typing import Annotated

import typer

from .. import common
from ..common import IdArg, VerboseOpt

app = common.command_app()


@app.command("rename", epilog='Example: sessionctl rename 0626a978 "Fix the flaky login test"')
def rename_cmd(
    session_id: IdArg,
    title: Annotated[str, typer.Argument(metavar="TITLE", help="The new title (<= 120 chars).")],
    verbose: VerboseOpt = False,
) -> None:
    """Rename a session: the agent shows the new title too. Refused while a
    running agent has the session open (it would write the old title back)."""
    from ...storage.rename import check_title, rename

    check_title(title)  # a usage error before the store is touched
    store = common.store()
    sid = store.resolve_id(session_id)
    report = rename(store, sid, title, by="rename")
    for line in report.warnings:
        common.err(f"warning: {line}")
    if verbose:
        common.err(f"renamed {sid}: {report.old_title!r} -> {report.title!r}")
