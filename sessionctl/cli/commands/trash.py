"""``sessionctl trash``: what is in the trash; ``trash empty`` purges it."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from .. import common
from ..common import VerboseOpt

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None)


@app.callback(invoke_without_command=True, epilog=(
    "Examples: sessionctl trash; sessionctl trash --json; sessionctl restore 0626a978; "
    "sessionctl trash empty --older-than 30d"))
def trash_cmd(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="A JSON array.")] = False,
) -> None:
    """List the trash, newest deletion first (id, deleted, by, size, title)."""
    if ctx.invoked_subcommand is not None:
        return
    from ...render.undo import trash_lines, trash_table
    from ...storage.trash import trashed

    listing = trashed(common.store())
    for line in listing.problems:
        common.err(f"warning: {line}")
    rows = [e.to_dict() for e in listing.entries]
    if as_json:
        from ...core.records import json_bytes

        sys.stdout.flush()
        sys.stdout.buffer.write(json_bytes(rows))
    elif common.stdout_is_terminal():
        if rows:
            common.console().print(trash_table(rows))
    else:
        trash_lines(rows, sys.stdout.write)


@app.command("empty", epilog="Examples: sessionctl trash empty --older-than 30d --dry-run")
def empty(
    older_than: Annotated[str | None, typer.Option(
        "--older-than", metavar="AGE",
        help="Only entries deleted longer ago than AGE (90m, 12h, 30d, 2w).")] = None,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Print the ids, purge nothing.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON summary.")] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False,
    verbose: VerboseOpt = False,
) -> None:
    """Remove trash entries for good (all of them without --older-than)."""
    from datetime import datetime, timezone

    from ...core.timespec import parse_age
    from ...storage.purge import purge
    from ...storage.trash import trashed

    cutoff = None if older_than is None else datetime.now(timezone.utc) - parse_age(older_than)
    store = common.store()
    listing = trashed(store)
    for line in listing.problems:
        common.err(f"warning: {line}")
    if (cutoff is None and not dry_run and not yes and listing.entries
            and sys.stdin.isatty() and common.stderr_is_terminal()):
        n = len(listing.entries)
        typer.confirm(f"Purge all {n} trash entr{'y' if n == 1 else 'ies'} for good?",
                      abort=True, err=True)
    report = purge(store, before=cutoff, dry_run=dry_run, by="trash empty",
                   entries=listing.entries)
    ids = [e.id for e in report.purged]
    if as_json:
        from ...core.records import json_bytes

        sys.stdout.flush()
        sys.stdout.buffer.write(json_bytes({
            "dry_run": dry_run, "purged": ids,
            "failed": [{"file": f, "reason": r} for f, r in report.failed]}))
    elif dry_run:
        sys.stdout.write("".join(f"{sid}\n" for sid in ids))
    if verbose and not dry_run:
        for e in report.purged:
            common.err(f"purged {e.id} ({e.file})")
    for line in report.warnings:
        common.err(f"warning: {line}")
    for name, why in report.failed:
        common.err(f"could not purge {name}: {why}")
    if report.failed:
        raise typer.Exit(1)
