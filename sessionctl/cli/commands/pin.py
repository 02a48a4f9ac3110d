"""``sessionctl pin``: mark sessions that cleanup must never remove."""

from __future__ import annotations

from .. import common
from ..common import IdsArg, VerboseOpt

app = common.command_app()


@app.command("pin", epilog="Example: sessionctl pin 0626a978 1f2e3d4c")
def pin_cmd(session_ids: IdsArg, verbose: VerboseOpt = False) -> None:
    """Pin sessions: cleanup skips them and delete refuses them without --force."""
    common.change_labels("pin", session_ids, None, verbose)
