"""``sessionctl log``: the audit log, newest first."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from ...errors import UsageError
from .. import common

app = common.command_app()


@app.command("log", epilog=(
    "Examples: sessionctl log -n 20; sessionctl log --action trash --since 7d; "
    "sessionctl log --id 0626a978 --json"))
def log(
    since: Annotated[str | None, typer.Option(
        metavar="WHEN", help="At or after WHEN: a date, or an age such as 7d.")] = None,
    action: Annotated[list[str] | None, typer.Option(
        "--action", metavar="ACTION",
        help="Only this action (trash, purge, restore, rename, tag, untag, pin, unpin); "
             "repeatable.")] = None,
    session_id: Annotated[str | None, typer.Option(
        "--id", metavar="ID", help="Only this session (id or prefix).")] = None,
    limit: Annotated[int | None, typer.Option(
        "--limit", "-n", min=1, help="At most N records.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="A JSON array.")] = False,
    as_jsonl: Annotated[bool, typer.Option("--jsonl", help="One record per line.")] = False,
) -> None:
    """Show what sessionctl did to sessions: trash, purge, restore, rename,
    tags and pins (time, action, id, by, title)."""
    import re
    from datetime import datetime, timezone

    from ...core.times import from_datetime
    from ...core.timespec import parse_age, parse_date
    from ...render.undo import log_lines, log_table
    from ...storage.audit import ACTIONS, AuditLog

    if as_json and as_jsonl:
        raise UsageError("choose one of --json, --jsonl")
    for a in action or []:
        if a not in ACTIONS:
            raise UsageError(f"unknown action {a!r}: use one of {', '.join(ACTIONS)}")
    since_ns = None
    if since is not None:
        when = (datetime.now(timezone.utc) - parse_age(since)
                if re.fullmatch(r"\s*[0-9]+[mhdw]\s*", since) else parse_date(since))
        since_ns = from_datetime(when)
    read = AuditLog(common.store().dir).read(since_ns=since_ns, actions=action or ())
    if read.problem:
        common.err(f"warning: {read.problem}")
    records = read.records
    if session_id is not None:
        records = [r for r in records if r.id.startswith(session_id)
                   or r.id.rsplit("-", 1)[-1].startswith(session_id)]
    rows = [r.to_dict() for r in records[:limit]]
    if as_json or as_jsonl:
        import orjson

        sys.stdout.flush()
        out = sys.stdout.buffer
        if as_json:
            out.write(orjson.dumps(rows) + b"\n")
        else:
            for row in rows:
                out.write(orjson.dumps(row) + b"\n")
    elif common.stdout_is_terminal():
        if rows:
            common.console().print(log_table(rows))
    else:
        log_lines(rows, sys.stdout.write)
