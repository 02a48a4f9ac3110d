"""``sessionctl tag``: add tags to a session."""

from __future__ import annotations

from .. import common
from ..common import IdArg, TagsArg, VerboseOpt

app = common.command_app()


@app.command("tag", epilog="Example: sessionctl tag 0626a978 work refactor")
def tag_cmd(
    session_id: IdArg,
    tags: TagsArg,
    verbose: VerboseOpt = False,
) -> None:
    """Tag a session (list --tag finds it)."""
    common.change_labels("tag", [session_id], tags, verbose)
