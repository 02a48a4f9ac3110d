"""``sessionctl show``: one session, for reading."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from ...errors import UsageError
from .. import common
from ..common import IdArg

if TYPE_CHECKING:
    from ...core.session import Session

app = common.command_app()


@app.command("show", epilog="Example: sessionctl show 0626a978 --context")
def show(
    session_id: IdArg,
    as_json: Annotated[bool, typer.Option("--json", help="The loaded session as JSON.")] = False,
    context: Annotated[bool, typer.Option(
        "--context", help="Only what resume feeds the agent.")] = False,
    full: Annotated[bool, typer.Option("--full", help="Do not fold long tool output.")] = False,
    no_pager: Annotated[bool, typer.Option("--no-pager", help="Never use a pager.")] = False,
    start: Annotated[int | None, typer.Option(
        "--from", metavar="N", min=1,
        help="Start at message N (1-based, full history; search shows #N).")] = None,
) -> None:
    """Show one session: through a pager on a terminal, plain when piped."""
    store = common.store()
    sid = store.resolve_id(session_id)
    if start is not None:
        if as_json or context:
            raise UsageError("--from cannot be used with --json or --context")
        _show_from(store.load(sid), start, full=full, no_pager=no_pager)
        return
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


def _show_from(session: Session, start: int, *, full: bool, no_pager: bool) -> None:
    """``show --from N``: the view from message N on (plain text when piped)."""
    from ...render.show import render_show

    if start > len(session.messages):
        raise UsageError(f"session {session.id} has {len(session.messages)} messages, "
                         f"not {start}")
    console = common.console()
    if no_pager or not common.stdout_is_terminal():
        render_show(session, console, full=full, context=False, start=start)
        return
    with console.pager(styles=not os.environ.get("NO_COLOR")):
        render_show(session, console, full=full, context=False, start=start)
