"""``sessionctl unpin``: drop the pin of sessions."""

from __future__ import annotations

from .. import common
from ..common import IdsArg, VerboseOpt

app = common.command_app()


@app.command("unpin", epilog="Example: sessionctl unpin 0626a978 1f2e3d4c")
def unpin_cmd(session_ids: IdsArg, verbose: VerboseOpt = False) -> None:
    """Unpin sessions (cleanup and delete treat them as any other again)."""
    common.change_labels("unpin", session_ids, None, verbose)
