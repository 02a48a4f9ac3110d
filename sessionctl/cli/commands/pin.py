"""``sessionctl pin``: mark sessions that cleanup must never remove."""

from __future__ import annotations

from .. import common
from ..common import IdsArg, VerboseOpt

app = common.command_app()


@app.command("pin", epilog="Example: sessionctl pin 0626a978 1f2e3d4c")
def pin_cmd(session_ids: IdsArg, verbose: VerboseOpt = False) -> None:
    """Pin sessions: cleanup skips them and delete refuses them without --force."""
    from ...storage.labels import change

    store = common.store()
    resolved = list(dict.fromkeys(store.resolve_id(a) for a in session_ids))
    for line in change(store, "pin", resolved, by="pin"):
        common.err(f"warning: {line}")
    if verbose:
        for sid in resolved:
            common.err(f"pinned {sid}")
