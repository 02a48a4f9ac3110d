"""``sessionctl du``: the bytes of the session files, the trash and the cache."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from .. import common
from .stats import choice

app = common.command_app()


@app.command("du", epilog="Example: sessionctl du --by session -n 10")
def du(
    by: Annotated[str, typer.Option(
        metavar="workspace|session", help="Rows by workspace or by session.")] = "workspace",
    limit: Annotated[int | None, typer.Option(
        "--limit", "-n", min=1, help="At most N rows (biggest first).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
) -> None:
    """Disk use: session files (by workspace or session), trash, cache.

    Human sizes on a terminal; bytes, tab-separated, when piped.
    """
    choice(by, ("workspace", "session"), "--by")
    from ...storage.du import disk_usage

    store = common.store()
    report = disk_usage(store, store.lister.cache_dir, by=by, limit=limit)
    if as_json:
        import orjson

        sys.stdout.write(orjson.dumps(report, option=orjson.OPT_INDENT_2).decode() + "\n")
        return
    from ...render.stats import du_tsv, print_du

    if common.stdout_is_terminal():
        print_du(report, common.console())
    else:
        du_tsv(report, sys.stdout.write)
