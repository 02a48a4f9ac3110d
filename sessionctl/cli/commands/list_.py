"""``sessionctl list``: sessions, newest first."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from ...errors import UsageError
from .. import common
from ..common import (
    HereOpt,
    ModelOpt,
    PinnedOpt,
    ShowAllOpt,
    SinceOpt,
    UntilOpt,
    VendorOpt,
    VerboseOpt,
    WorkspaceOpt,
)

app = common.command_app()


@app.command("list", epilog="Example: sessionctl list --here -n 5")
def list_cmd(
    workspace: WorkspaceOpt = None,
    here: HereOpt = False,
    model: ModelOpt = None,
    vendor: VendorOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    limit: Annotated[int | None, typer.Option(
        "--limit", "-n", min=1, help="At most N sessions.")] = None,
    show_all: ShowAllOpt = False,
    tag: Annotated[list[str] | None, typer.Option(
        "--tag", metavar="TAG", help="Only sessions with this tag (repeatable: all must match).",
        autocompletion=common.complete_tags)] = None,
    pinned: PinnedOpt = False,
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
    from ...storage.labels import Labels, normalize_tags

    wanted = set(normalize_tags(tag or []))
    store = common.store()
    read = Labels(store.dir).read()
    if read.problem:
        common.err(f"warning: {read.problem}")
    labels = read.sessions  # id -> Label, a (tags, pinned) tuple
    listing = store.query(
        include_hidden=show_all, workspace=ws, model=model, vendor=vendor,
        since=lo, until=hi, limit=None if (wanted or pinned) else limit,
    )
    if wanted or pinned:
        listing.sessions = [
            i for i in listing.sessions
            if (not pinned or labels.get(i.id, ((), False))[1])
            and wanted <= set(labels.get(i.id, ((), False))[0])
        ][:limit]
    common.warn_skipped(listing.skipped, verbose)
    if fmt is OutputFormat.table and common.stdout_is_terminal():
        from ...render.tables import write_table

        write_table(listing.sessions, common.terminal_width(), sys.stdout.write,
                    color=common.color_on(), labels=labels)
        return
    emit_rows(listing.sessions, fmt, sys.stdout.write, labels=labels)
