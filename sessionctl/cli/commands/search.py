"""``sessionctl search``: thin command over :mod:`sessionctl.cache.search`."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

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

if TYPE_CHECKING:
    from rich.progress import Progress as RichProgress
    from rich.progress import TaskID

    from ...cache.search_catchup import Progress
    from ...core.session import SessionInfo

__all__ = ["EPILOG", "ROLES", "app", "search"]

ROLES = ("user", "assistant", "tool", "system")
EPILOG = (
    "Examples: sessionctl search index race; sessionctl search '\"index race\" -flaky'; "
    "sessionctl search --role tool store.go; sessionctl search cafe OR café --since 2026-11-01"
)


def _check_roles(values: list[str] | None) -> list[str]:
    roles = [r.lower() for r in values or []]
    for r in roles:
        if r not in ROLES:
            raise UsageError(f"--role must be one of {', '.join(ROLES)}, not {r!r}")
    return roles


app = common.command_app()


@app.command("search", epilog=EPILOG)
def search(
    query: Annotated[list[str], typer.Argument(
        metavar="QUERY...", help="Words (all in one message), \"phrases\", -excluded, a OR b.",
        show_default=False)],
    workspace: WorkspaceOpt = None,
    here: HereOpt = False,
    model: ModelOpt = None,
    vendor: VendorOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    tag: Annotated[list[str] | None, typer.Option(
        "--tag", metavar="TAG", help="Only sessions with this tag (repeatable).")] = None,
    pinned: PinnedOpt = False,
    show_all: ShowAllOpt = False,
    role: Annotated[list[str] | None, typer.Option(
        "--role", metavar="ROLE",
        help="Only matches in user, assistant, system text or tool blocks (repeatable).")] = None,
    trash: Annotated[bool, typer.Option("--trash", help="Search the trash instead.")] = False,
    limit: Annotated[int, typer.Option(
        "--limit", "-n", min=1, help="At most N sessions (default 20).")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="A JSON array.")] = False,
    as_jsonl: Annotated[bool, typer.Option("--jsonl", help="One JSON object per line.")] = False,
    reindex: Annotated[bool, typer.Option(
        "--reindex", help="Rebuild the search index from scratch first.")] = False,
    verbose: VerboseOpt = False,
) -> None:
    """Search every session's text, best matches first.

    Searched: titles, user/assistant/system text, tool calls (names and
    input) and tool results. Each hit shows #N, the message's place in the
    session (sessionctl show ID --from N). Piped: one tab-separated line per
    hit (id, N, role, updated_at, snippet).
    """
    from ...cache.search import run_search
    from ...core.query import parse_query
    from ...core.times import from_datetime
    from ...core.timespec import parse_date

    parsed = parse_query(query)
    roles = _check_roles(role)
    if as_json and as_jsonl:
        raise UsageError("choose one of --json, --jsonl")
    ws = common.workspace_filter(workspace, here)
    lo = None if since is None else from_datetime(parse_date(since))
    hi = None if until is None else from_datetime(parse_date(until))

    def keep(i: SessionInfo) -> bool:
        return ((ws is None or i.workspace == ws)
                and (model is None or i.model == model)
                and (vendor is None or i.vendor == vendor)
                and (lo is None or i.updated[0] >= lo)
                and (hi is None or i.updated[0] < hi)
                and (labelled is None or i.id in labelled))

    store = common.store()
    labelled = _label_filter(store.dir, tag, pinned)
    bar = _ProgressBar() if common.stderr_is_terminal() else None
    try:
        results, skipped = run_search(
            store, parsed, keep=keep, roles=roles, trash=trash, include_hidden=show_all,
            limit=limit, reindex=reindex, progress=bar)
    finally:
        if bar is not None:
            bar.close()
    common.warn_skipped(skipped, verbose)
    from ...render.search import write_json, write_jsonl, write_table, write_tsv

    out = sys.stdout.write
    if as_json:
        write_json(results, out)
    elif as_jsonl:
        write_jsonl(results, out)
    elif common.stdout_is_terminal():
        if results:
            write_table(results, common.console())
        else:
            sys.stderr.write("no matches\n")
    else:
        write_tsv(results, out)


def _label_filter(store_dir: Path, tags: list[str] | None, pinned: bool) -> set[str] | None:
    """Ids carrying every tag (and pinned, if asked); ``None``: no filter.

    Tags and pins are issue #13's labels (``storage/labels.py``), looked up
    at run time so that this command works in a build without them (the
    options are then refused rather than ignored).
    """
    if not tags and not pinned:
        return None
    import importlib

    try:
        labels: Any = importlib.import_module("sessionctl.storage.labels")
    except ImportError:
        raise UsageError("--tag and --pinned need session labels, which this build lacks") \
            from None
    wanted = set(labels.normalize_tags(tags or []))
    read = labels.Labels(store_dir).read()
    if read.problem:
        common.err(read.problem)
    return {sid for sid, lb in read.sessions.items()
            if wanted <= set(lb.tags) and (lb.pinned or not pinned)}


class _ProgressBar:
    """A progress bar on stderr, shown only once catching up has taken more
    than a second (a warm search never shows one)."""

    DELAY = 1.0

    def __init__(self) -> None:
        self._t0 = time.monotonic()
        self._bar: RichProgress | None = None
        self._task: TaskID | None = None

    def __call__(self, done: int, total: int) -> None:
        if self._bar is None:
            if time.monotonic() - self._t0 < self.DELAY:
                return
            from rich.progress import Progress as Bar

            bar = Bar(console=common.console(stderr=True), transient=True)
            bar.start()
            self._task = bar.add_task("indexing sessions", total=total)
            self._bar = bar
        if self._task is not None:
            self._bar.update(self._task, completed=done, total=total)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()


if TYPE_CHECKING:
    _check: Progress = _ProgressBar()
