"""``sessionctl resume``: hand a session back to the agent."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from ...errors import StoreIOError
from .. import common

app = common.command_app()


@app.command("resume", epilog=(
    "Examples: sessionctl resume; sessionctl resume 0626a978 --print; "
    "sessionctl resume --command 'ggcode --resume {id}'"))
def resume(
    session_id: Annotated[str | None, typer.Argument(
        metavar="[ID]", help="Session (default: the newest of this workspace).",
        autocompletion=common.complete_ids)] = None,
    command: Annotated[str | None, typer.Option(
        "--command", metavar="TEMPLATE", envvar="SESSIONCTL_RESUME_COMMAND",
        help="Agent command; {id}, {workspace}, {file} are replaced. "
             "Default: ggcode --resume {id}.")] = None,
    print_only: Annotated[bool, typer.Option("--print", help="Print the command instead.")] = False,
    context: Annotated[bool, typer.Option(
        "--context", help="Print the resume context as JSON.")] = False,
    force: Annotated[bool, typer.Option(
        "--force", help="Resume even if an agent holds it.")] = False,
) -> None:
    """Hand a session back to the agent, in the session's workspace."""
    import shlex

    from ... import launch

    store = common.store()
    if session_id is None:
        here = common.workspace_filter(None, True)
        assert here is not None
        sid = launch.newest_in_workspace(store, here)
    else:
        sid = store.resolve_id(session_id)
    ses = store.load(sid)
    if context:
        from ...core.records import json_bytes

        data = {"id": sid, "workspace": ses.workspace,
                "messages": [m.to_dict() for m in ses.context_messages]}
        sys.stdout.flush()
        sys.stdout.buffer.write(json_bytes(data))
        return
    # Absolute: the command runs in the workspace, not where we were started.
    file = os.path.abspath(store.dir / f"{sid}.jsonl")
    argv = launch.resume_argv(command or launch.DEFAULT_COMMAND, session_id=sid,
                              workspace=ses.workspace, file=file)
    if print_only:
        sys.stdout.write(shlex.join(argv) + "\n")
        return
    holder = store.in_use(sid)
    if holder is not None and not force:
        who = f"process {holder}" if holder else "another process"
        raise StoreIOError(f"session {sid} is open in {who} (use --force to resume anyway)")
    launch.run_agent(argv, ses.workspace or os.getcwd())
