"""``sessionctl export-md``: sessions as markdown documents."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from ...errors import UsageError
from .. import common
from ..common import VerboseOpt

app = common.command_app()


@app.command("export-md", epilog=(
    "Examples: sessionctl export-md 0626a978 > s.md; "
    "sessionctl export-md --all --output-dir notes/"))
def export_md(
    session_ids: Annotated[list[str] | None, typer.Argument(
        metavar="[ID]...", help="Session ids or prefixes.",
        autocompletion=common.complete_ids)] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", metavar="FILE",
                                                help="Write to FILE (atomically).")] = None,
    export_all: Annotated[bool, typer.Option(
        "--all", help="Export every visible session.")] = False,
    hidden: Annotated[bool, typer.Option(
        "--hidden", help="With --all: also sessions without user text.")] = False,
    output_dir: Annotated[Path | None, typer.Option("--output-dir", metavar="DIR",
                                                    help="With --all: write DIR/<id>.md.")] = None,
    context: Annotated[bool, typer.Option("--context", help="Only the resume context.")] = False,
    verbose: VerboseOpt = False,
) -> None:
    """Export sessions as markdown: to stdout, to a file, or one file each."""
    ids = session_ids or []
    if export_all:
        if ids or output:
            raise UsageError("--all takes no ids and no --output (use --output-dir)")
        if output_dir is None:
            raise UsageError("--all needs --output-dir DIR")
        _export_all(output_dir, hidden=hidden, context=context, verbose=verbose)
        return
    if output_dir is not None or hidden:
        raise UsageError("--output-dir and --hidden go with --all")
    if not ids:
        raise UsageError("give at least one session id (or --all --output-dir DIR)")
    if output is not None and len(ids) != 1:
        raise UsageError("--output takes exactly one session id")
    store = common.store()
    resolved = [store.resolve_id(a) for a in ids]
    if output is not None:
        store.write_markdown_file(resolved[0], output, context=context)
        return
    for n, sid in enumerate(resolved):
        if n:
            sys.stdout.write("\n")
        store.write_markdown(sid, sys.stdout, context=context)


def _export_all(output_dir: Path, *, hidden: bool, context: bool, verbose: bool) -> None:
    """``--all --output-dir``: the library's loop, with a status line while
    the store is read and a progress bar on a terminal."""
    from contextlib import nullcontext

    from ...export.files import export_all

    store = common.store()
    tty = common.stderr_is_terminal()
    progress = None
    reading = common.console(stderr=True).status("Reading sessions…") if tty else nullcontext()
    with reading:  # reading a big store cold takes a moment: say so
        listing = store.listing(include_hidden=hidden)
    common.warn_skipped(listing.skipped, verbose)
    ids = [i.id for i in listing.sessions]
    if tty and ids:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        columns = (TextColumn("Exporting"), BarColumn(), MofNCompleteColumn(),
                   TimeRemainingColumn())
        progress = Progress(*columns, console=common.console(stderr=True), transient=True)
    with progress or nullcontext():
        task = progress.add_task("Exporting", total=len(ids)) if progress else None
        report = export_all(
            store, ids, output_dir, context=context,
            advance=(lambda: progress.advance(task)) if progress and task is not None else None,
        )
    if verbose:
        common.err(f"exported {report.exported} sessions to {output_dir}")
    if report.failed:
        for sid, why in report.failed:
            common.err(f"could not export {sid}: {why}")
        raise typer.Exit(1)
