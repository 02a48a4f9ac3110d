"""``sessionctl untag``: remove tags from a session."""

from __future__ import annotations

from .. import common
from ..common import IdArg, TagsArg, VerboseOpt

app = common.command_app()


@app.command("untag", epilog="Example: sessionctl untag 0626a978 refactor")
def untag_cmd(
    session_id: IdArg,
    tags: TagsArg,
    verbose: VerboseOpt = False,
) -> None:
    """Remove tags from a session."""
    common.change_labels("untag", [session_id], tags, verbose)
