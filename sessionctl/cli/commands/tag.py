"""``sessionctl tag``: add tags to a session."""

from __future__ import annotations

from typing import Annotated

import typer

from .. import common
from ..common import IdArg, VerboseOpt


def _complete_tags(ctx: typer.Context, incomplete: str) -> list[str]:
    return common.complete_tags(ctx, incomplete)


app = common.command_app()


@app.command("tag", epilog="Example: sessionctl tag 0626a978 work refactor")
def tag_cmd(
    session_id: IdArg,
    tags: Annotated[list[str], typer.Argument(
        metavar="TAG...", help="Tags: 1-64 characters of a-z 0-9 _ . : - (case is ignored).",
        autocompletion=_complete_tags)],
    verbose: VerboseOpt = False,
) -> None:
    """Tag a session (list --tag finds it)."""
    common.change_labels("tag", [session_id], tags, verbose)
