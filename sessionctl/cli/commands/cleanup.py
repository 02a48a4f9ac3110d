"""``sessionctl cleanup``: move old sessions to the trash, quietly (for cron)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from ...errors import UsageError
from .. import common
from ..common import VerboseOpt

app = common.command_app()


@app.command("cleanup", epilog=(
    "Examples: sessionctl cleanup --older-than 30d; "
    "sessionctl cleanup --before 2026-06-01 --dry-run; sessionctl cleanup --empty; "
    "sessionctl cleanup --older-than 90d --trash-retention never"))
def cleanup(
    older_than: Annotated[str | None, typer.Option(
        "--older-than", metavar="AGE",
        help="Remove sessions idle longer than AGE (90min, 12h, 30d, 2w, 6mo, 1y).")] = None,
    before: Annotated[str | None, typer.Option(
        "--before", metavar="DATE", help="Remove sessions last updated before DATE.")] = None,
    empty: Annotated[bool, typer.Option(
        "--empty", help="Also remove sessions without user text idle for an hour.")] = False,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Print the ids, remove nothing.")] = False,
    purge: Annotated[bool, typer.Option(
        "--purge", help="Remove for good instead of moving to the trash.")] = False,
    trash_retention: Annotated[str, typer.Option(
        "--trash-retention", metavar="AGE",
        help="Purge trash entries deleted longer ago than AGE ('never' keeps them).")] = "30d",
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON summary.")] = False,
    verbose: VerboseOpt = False,
) -> None:
    """Move old sessions to the trash; silent when all went well (for cron).

    Sessions held by a running agent and pinned sessions are skipped. Trash
    entries older than the retention (30d) are purged.
    """
    from datetime import timedelta

    from ...core.timespec import age_cutoff, parse_age, parse_date
    from ...storage import purge as purging

    if older_than is not None and before is not None:
        raise UsageError("use --older-than or --before, not both")
    if older_than is None and before is None and not empty:
        raise UsageError("give --older-than AGE or --before DATE (or --empty)")
    retention: timedelta | None = (
        None if trash_retention.strip() == "never" else parse_age(trash_retention))
    cutoff = None
    if older_than is not None:
        cutoff = age_cutoff(older_than)
    elif before is not None:
        cutoff = parse_date(before)
    report = purging.cleanup(common.store(), before=cutoff, empty=empty, dry_run=dry_run,
                             purge_now=purge, trash_retention=retention, by="cleanup")
    if as_json:
        from ...core.records import json_bytes

        sys.stdout.flush()
        sys.stdout.buffer.write(json_bytes(report.to_dict()))
    elif dry_run:
        sys.stdout.write("".join(f"{sid}\n" for sid in report.removed))
    if verbose:
        for sid in report.removed:
            common.err(f"{'would remove' if dry_run else 'removed'} {sid}")
        for sid, why in report.skipped:
            common.err(f"skipped {sid}: {why}")
        for sid in report.purged:
            common.err(f"{'would purge' if dry_run else 'purged'} {sid} (from the trash)")
        common.warn_skipped(report.unreadable, True)
    for warning in report.warnings:
        common.err(f"warning: {warning}")
    for sid, why in report.failed:
        common.err(f"could not remove {sid}: {why}")
    if report.failed:
        raise typer.Exit(1)
