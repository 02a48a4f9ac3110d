"""``sessionctl cleanup``: remove old sessions, quietly (for cron)."""

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
    "sessionctl cleanup --before 2026-06-01 --dry-run; sessionctl cleanup --empty"))
def cleanup(
    older_than: Annotated[str | None, typer.Option(
        "--older-than", metavar="AGE",
        help="Remove sessions idle longer than AGE (90m, 12h, 30d, 2w).")] = None,
    before: Annotated[str | None, typer.Option(
        "--before", metavar="DATE", help="Remove sessions last updated before DATE.")] = None,
    empty: Annotated[bool, typer.Option(
        "--empty", help="Also remove sessions without user text idle for an hour.")] = False,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Print the ids, remove nothing.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON summary.")] = False,
    verbose: VerboseOpt = False,
) -> None:
    """Remove old sessions; silent when nothing was removed (for cron).

    Sessions held by a running agent are skipped.
    """
    from datetime import datetime, timezone

    from ...core.timespec import parse_age, parse_date

    if older_than is not None and before is not None:
        raise UsageError("use --older-than or --before, not both")
    if older_than is None and before is None and not empty:
        raise UsageError("give --older-than AGE or --before DATE (or --empty)")
    cutoff = None
    if older_than is not None:
        cutoff = datetime.now(timezone.utc) - parse_age(older_than)
    elif before is not None:
        cutoff = parse_date(before)
    report = common.store().cleanup(before=cutoff, empty=empty, dry_run=dry_run)
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
        common.warn_skipped(report.unreadable, True)
    for sid, why in report.failed:
        common.err(f"could not remove {sid}: {why}")
    if report.failed:
        raise typer.Exit(1)
