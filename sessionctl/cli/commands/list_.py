"""``sessionctl list``: sessions, newest first."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from ...errors import UsageError
from .. import common
from ..common import VerboseOpt

app = common.command_app()


@app.command("list", epilog="Example: sessionctl list --here -n 5")
def list_cmd(
    workspace: Annotated[str | None, typer.Option(help="Only sessions of this workspace.")] = None,
    here: Annotated[bool, typer.Option(
        "--here", help="Only sessions of the current directory.")] = False,
    model: Annotated[str | None, typer.Option(help="Only this model (exact).")] = None,
    vendor: Annotated[str | None, typer.Option(help="Only this vendor (exact).")] = None,
    since: Annotated[str | None, typer.Option(
        metavar="DATE", help="Updated at or after DATE.")] = None,
    until: Annotated[str | None, typer.Option(metavar="DATE", help="Updated before DATE.")] = None,
    limit: Annotated[int | None, typer.Option(
        "--limit", "-n", min=1, help="At most N sessions.")] = None,
    show_all: Annotated[bool, typer.Option(
        "--all", "-a", help="Include sessions without user text.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="A JSON array.")] = False,
    as_jsonl: Annotated[bool, typer.Option("--jsonl", help="One JSON object per line.")] = False,
    as_ids: Annotated[bool, typer.Option("--ids", help="One id per line (for xargs).")] = False,
    verbose: VerboseOpt = False,
) -> None:
    """List sessions, newest first.

    A table on a terminal; tab-separated lines (id, updated, messages,
    workspace, title) when piped.
    """
    from ...core.timespec import parse_date
    from ...render.formats import OutputFormat, emit_rows

    chosen = [f for f, on in (("json", as_json), ("jsonl", as_jsonl), ("ids", as_ids)) if on]
    if len(chosen) > 1:
        raise UsageError("choose one of --json, --jsonl, --ids")
    fmt = OutputFormat(chosen[0]) if chosen else OutputFormat.table
    ws = common.workspace_filter(workspace, here)
    lo = None if since is None else parse_date(since)
    hi = None if until is None else parse_date(until)
    listing = common.store().query(
        include_hidden=show_all, workspace=ws, model=model, vendor=vendor,
        since=lo, until=hi, limit=limit,
    )
    common.warn_skipped(listing.skipped, verbose)
    if fmt is OutputFormat.table and common.stdout_is_terminal():
        if listing.sessions:
            emit_rows(listing.sessions, fmt, sys.stdout.write, common.console())
        return
    emit_rows(listing.sessions, fmt, sys.stdout.write)
