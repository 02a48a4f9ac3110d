"""``sessionctl unpin``: drop the pin of sessions."""

from __future__ import annotations

from .. import common
from ..common import IdsArg, VerboseOpt

app = common.command_app()


@app.command("unpin", epilog="Example: sessionctl unpin 0626a978 1f2e3d4c")
def unpin_cmd(session_ids: IdsArg, verbose: VerboseOpt = False) -> None:
    """Unpin sessions (cleanup and delete treat them as any other again)."""
    from ...storage.labels import change

    store = common.store()
    resolved = list(dict.fromkeys(store.resolve_id(a) for a in session_ids))
    for line in change(store, "unpin", resolved, by="unpin"):
        common.err(f"warning: {line}")
    if verbose:
        for sid in resolved:
            common.err(f"unpinned {sid}")
