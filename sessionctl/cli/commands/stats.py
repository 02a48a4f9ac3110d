"""``sessionctl stats`` and ``sessionctl du``: where the tokens (and bytes) went."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from ...errors import UsageError

__all__ = ["du", "stats"]

EPILOG_STATS = "Example: sessionctl stats --by model --since 2026-11-01"
EPILOG_DU = "Example: sessionctl du --by session -n 10"

_BYS = ("day", "week", "month", "model", "vendor", "workspace", "session", "tool")
_METRICS = ("tokens", "cost", "sessions", "messages")


def _choice(value: str | None, allowed: tuple[str, ...], opt: str) -> str | None:
    if value is not None and value not in allowed:
        raise UsageError(f"invalid {opt} {value!r}: use one of {', '.join(allowed)}")
    return value


def stats(
    by: Annotated[str | None, typer.Option(
        metavar="|".join(_BYS), help="Rows by day, ISO week, month (UTC), model, vendor, "
        "workspace, session or tool.")] = None,
    metric: Annotated[str, typer.Option(
        metavar="|".join(_METRICS), help="What the bar column shows.")] = "tokens",
    workspace: Annotated[str | None, typer.Option(help="Only sessions of this workspace.")] = None,
    here: Annotated[bool, typer.Option(
        "--here", help="Only sessions of the current directory.")] = False,
    model: Annotated[str | None, typer.Option(help="Only usage of this model (exact).")] = None,
    vendor: Annotated[str | None, typer.Option(help="Only usage of this vendor (exact).")] = None,
    since: Annotated[str | None, typer.Option(
        metavar="DATE", help="Usage at or after DATE.")] = None,
    until: Annotated[str | None, typer.Option(metavar="DATE", help="Usage before DATE.")] = None,
    show_all: Annotated[bool, typer.Option(
        "--all", "-a", help="Include sessions without user text.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object (SPEC §8.4).")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="The rows as CSV.")] = False,
    prices: Annotated[Path | None, typer.Option(
        "--prices", metavar="FILE", help="A price table merged over the shipped one.")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Say more on stderr.")] = False,
) -> None:
    """Token usage and cost: totals, by time, model, workspace, session or tool.

    Without --by: totals, the last 30 days by day, the top models and
    workspaces. A table on a terminal; TSV with a header when piped.
    """
    from ..app import _console, _date_ns, _err, _stdout_is_terminal, _store, _warn_skipped
    from ..app import _workspace_filter as workspace_filter

    _choice(by, _BYS, "--by")
    _choice(metric, _METRICS, "--metric")
    if as_json and as_csv:
        raise UsageError("choose one of --json, --csv")
    if here and workspace:
        raise UsageError("--here and --workspace cannot be used together")
    from ...core.prices import load_prices

    table = load_prices(prices)
    ws = workspace_filter(workspace, here)
    lo, hi = _date_ns(since), _date_ns(until)
    from ...cache.usage import usage_report

    report = usage_report(
        _store(), table, by=by, metric=metric, since_ns=lo, until_ns=hi, model=model,
        vendor=vendor, select=None if ws is None else (lambda i: i.workspace == ws),
        include_hidden=show_all,
    )
    _warn_skipped(report.skipped, verbose)
    data = report.to_dict()
    if as_json:
        import orjson

        sys.stdout.write(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n")
        return
    if data["unpriced_models"]:
        _err("no price for " + ", ".join(data["unpriced_models"])
             + ": their tokens are counted, their cost is left blank (see --prices)")
    from ...render.stats import print_stats, stats_csv, stats_tsv

    if as_csv:
        stats_csv(data, sys.stdout.write)
    elif _stdout_is_terminal():
        print_stats(data, metric, _console())
    else:
        stats_tsv(data, sys.stdout.write)


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
    from ..app import _console, _stdout_is_terminal, _store

    _choice(by, ("workspace", "session"), "--by")
    from ...core.paths import cache_dir
    from ...storage.du import disk_usage

    report = disk_usage(_store(), cache_dir(), by=by, limit=limit)
    if as_json:
        import orjson

        sys.stdout.write(orjson.dumps(report, option=orjson.OPT_INDENT_2).decode() + "\n")
        return
    from ...render.stats import du_tsv, print_du

    if _stdout_is_terminal():
        print_du(report, _console())
    else:
        du_tsv(report, sys.stdout.write)
