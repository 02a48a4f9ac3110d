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
    from ...storage.labels import change, normalize_tags

    norm = normalize_tags(tags)  # a bad tag is a usage error before anything else
    store = common.store()
    sid = store.resolve_id(session_id)
    for line in change(store, "tag", [sid], norm, by="tag"):
        common.err(f"warning: {line}")
    if verbose:
        common.err(f"tagged {sid}: {' '.join(norm)}")
