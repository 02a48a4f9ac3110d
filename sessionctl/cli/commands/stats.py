"""``sessionctl stats``: where the tokens went (SPEC §8.4)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from ...errors import UsageError
from .. import common
from ..common import (
    HereOpt,
    PinnedOpt,
    ShowAllOpt,
    VerboseOpt,
    WorkspaceOpt,
)

app = common.command_app()

BYS = ("day", "week", "month", "model", "vendor", "workspace", "session", "tool")
METRICS = ("tokens", "cost", "sessions", "messages")


def choice(value: str | None, allowed: tuple[str, ...], opt: str) -> str | None:
    """``value`` if it is one of ``allowed``; a usage error naming ``opt`` if not."""
    if value is not None and value not in allowed:
        raise UsageError(f"invalid {opt} {value!r}: use one of {', '.join(allowed)}")
    return value


@app.command("stats", epilog="Example: sessionctl stats --by model --since 2026-11-01")
def stats(
    by: Annotated[str | None, typer.Option(
        metavar="|".join(BYS), help="Rows by day, ISO week, month (UTC), model, vendor, "
        "workspace, session or tool.")] = None,
    metric: Annotated[str, typer.Option(
        metavar="|".join(METRICS), help="What the bar column shows.")] = "tokens",
    workspace: WorkspaceOpt = None,
    here: HereOpt = False,
    model: Annotated[str | None, typer.Option(help="Only usage of this model (exact).")] = None,
    vendor: Annotated[str | None, typer.Option(help="Only usage of this vendor (exact).")] = None,
    since: Annotated[str | None, typer.Option(
        metavar="DATE", help="Usage at or after DATE.")] = None,
    until: Annotated[str | None, typer.Option(metavar="DATE", help="Usage before DATE.")] = None,
    tag: Annotated[list[str] | None, typer.Option(
        "--tag", metavar="TAG", help="Only sessions with this tag (repeatable: all).",
        autocompletion=common.complete_tags)] = None,
    pinned: PinnedOpt = False,
    show_all: ShowAllOpt = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object (SPEC 8.4).")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="The rows as CSV.")] = False,
    prices: Annotated[Path | None, typer.Option(
        "--prices", metavar="FILE", help="A price table merged over the shipped one.")] = None,
    verbose: VerboseOpt = False,
) -> None:
    """Token usage and cost: totals, by time, model, workspace, session or tool.

    Without --by: totals, the last 30 days by day, the top models and
    workspaces. A table on a terminal; TSV with a header when piped.
    """
    choice(by, BYS, "--by")
    choice(metric, METRICS, "--metric")
    if as_json and as_csv:
        raise UsageError("choose one of --json, --csv")
    from ...cache.usage import usage_report
    from ...core.session import SessionInfo
    from ...core.times import from_datetime
    from ...core.timespec import parse_date
    from ...storage.labels import Labels, normalize_tags
    from ...storage.prices import load_prices

    table = load_prices(prices)
    ws = common.workspace_filter(workspace, here)
    lo = None if since is None else from_datetime(parse_date(since))
    hi = None if until is None else from_datetime(parse_date(until))
    store = common.store()
    select = None
    wanted = set(normalize_tags(tag or []))
    if ws is not None or wanted or pinned:
        # Sessions are selected by workspace and labels; usage by its own
        # time and model (SPEC 8.4).
        labels = Labels(store.dir).read()
        if labels.problem and (wanted or pinned):
            common.err(f"warning: {labels.problem}")

        def select(i: SessionInfo) -> bool:
            label = labels.get(i.id)
            return ((ws is None or i.workspace == ws) and wanted <= set(label.tags)
                    and (not pinned or label.pinned))

    report = usage_report(
        store, table, by=by, metric=metric, since_ns=lo, until_ns=hi, model=model,
        vendor=vendor, select=select, include_hidden=show_all,
    )
    common.warn_skipped(report.skipped, verbose)
    data = report.to_dict()
    if as_json:
        import orjson

        sys.stdout.write(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n")
        return
    if data["unpriced_models"]:
        common.err("no price for " + ", ".join(data["unpriced_models"])
                   + ": their tokens are counted, their cost is left blank (see --prices)")
    from ...render.stats import print_stats, stats_csv, stats_tsv

    if as_csv:
        stats_csv(data, sys.stdout.write)
    elif common.stdout_is_terminal():
        print_stats(data, metric, common.console())
    else:
        stats_tsv(data, sys.stdout.write)
