"""``sessionctl untag``: remove tags from a session."""

from __future__ import annotations

from typing import Annotated

import typer

from .. import common
from ..common import IdArg, VerboseOpt


def _complete_tags(ctx: typer.Context, incomplete: str) -> list[str]:
    return common.complete_tags(ctx, incomplete)


app = common.command_app()


@app.command("untag", epilog="Example: sessionctl untag 0626a978 refactor")
def untag_cmd(
    session_id: IdArg,
    tags: Annotated[list[str], typer.Argument(
        metavar="TAG...", help="Tags: 1-64 characters of a-z 0-9 _ . : - (case is ignored).",
        autocompletion=_complete_tags)],
    verbose: VerboseOpt = False,
) -> None:
    """Remove tags from a session."""
    common.change_labels("untag", [session_id], tags, verbose)
