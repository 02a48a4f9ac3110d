"""``sessionctl show``: one session, for reading."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from .. import common
from ..common import IdArg

app = common.command_app()


@app.command("show", epilog="Example: sessionctl show 0626a978 --context")
def show(
    session_id: IdArg,
    as_json: Annotated[bool, typer.Option("--json", help="The loaded session as JSON.")] = False,
    context: Annotated[bool, typer.Option(
        "--context", help="Only what resume feeds the agent.")] = False,
    full: Annotated[bool, typer.Option("--full", help="Do not fold long tool output.")] = False,
    no_pager: Annotated[bool, typer.Option("--no-pager", help="Never use a pager.")] = False,
) -> None:
    """Show one session: through a pager on a terminal, plain when piped."""
    store = common.store()
    sid = store.resolve_id(session_id)
    if as_json:
        sys.stdout.flush()
        store.write_json(sid, sys.stdout.buffer, context=context)
        sys.stdout.buffer.flush()
        return
    if not common.stdout_is_terminal():
        store.write_markdown(sid, sys.stdout, context=context)
        return
    from ...render.show import render_show

    session = store.load(sid)
    console = common.console()
    if no_pager:
        render_show(session, console, full=full, context=context)
        return
    styles = not os.environ.get("NO_COLOR")
    if styles and "LESS" not in os.environ:
        # less shows colour escapes as text without -R (git sets the same).
        os.environ["LESS"] = "FRX"
    with console.pager(styles=styles):
        render_show(session, console, full=full, context=context)
