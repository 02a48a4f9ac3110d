"""The ``sessionctl`` command line: thin commands over :class:`JSONLStore`.

Each command parses its options, calls the library once or twice and hands
the result to :mod:`sessionctl.render`. Errors are turned into
``sessionctl: ...`` on stderr and an exit code in one place
(:class:`_Group`): 0 success, 1 operational failure, 2 usage, 3 no such
session / ambiguous id. Heavy modules are imported inside commands, so
``--help`` and ``list`` start fast.
"""

from __future__ import annotations

import gc

# Start-up (typer, click, rich's modules, this module's commands) makes many
# long-lived objects and no garbage: the collector, run every few hundred
# allocations, only slowed every command's start. Back on at the end of
# this module.
_GC_WAS_ON = gc.isenabled()
gc.disable()

import os  # noqa: E402
import sys  # noqa: E402
from collections.abc import Iterator, MutableMapping  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import TYPE_CHECKING, Annotated, Any, NoReturn  # noqa: E402

import typer  # noqa: E402
from typer.core import TyperGroup  # noqa: E402
from typer.models import CommandInfo  # noqa: E402

from .. import __version__  # noqa: E402
from ..errors import AmbiguousSessionId, SessionError, UsageError  # noqa: E402

if TYPE_CHECKING:
    from rich.console import Console

    from ..storage.store import JSONLStore

__all__ = ["app", "main"]

EPILOG_LIST = "Example: sessionctl list --here -n 5"


def _err(message: str, *more: str) -> None:
    sys.stderr.write(f"sessionctl: {message}\n")
    for line in more:
        sys.stderr.write(f"{line}\n")


def _report(err: SessionError) -> None:
    more: list[str] = []
    if isinstance(err, AmbiguousSessionId):
        more = _candidate_lines(err.candidates[:10])
        if len(err.candidates) > 10:
            more.append(f"  ... and {len(err.candidates) - 10} more")
    _err(err.message, *more)


def _candidate_lines(candidates: list[str]) -> list[str]:
    """``  <short id>  <title>`` for each candidate of an ambiguous prefix
    (the full id where short ids collide, the id alone if titles are unknown)."""
    from ..render.text import clean_line, short_id

    titles: dict[str, str] = {}
    try:
        listing = _store().listing(include_hidden=True, write_index=False)
        titles = {i.id: i.title for i in listing.sessions}
    except SessionError:
        pass
    shorts = [short_id(c) for c in candidates]
    unique = len(set(shorts)) == len(shorts)
    width = max(len(s) for s in (shorts if unique else candidates))
    out = []
    for cid, short in zip(candidates, shorts, strict=True):
        name = short if unique else cid
        title = clean_line(titles.get(cid, ""))
        out.append(f"  {name:<{width}}  {title}".rstrip())
    return out


class _Group(TyperGroup):
    """The one place where errors become messages and exit codes."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        from typer._click import exceptions as click_exc

        kwargs["standalone_mode"] = False
        try:
            rv = super().main(*args, **kwargs)
            # Flush here, not at interpreter exit, so a closed pipe or a full
            # disk is reported like any other failure.
            sys.stdout.flush()
        except click_exc.NoArgsIsHelpError as err:
            sys.stderr.write(err.format_message() + "\n")
            sys.exit(2)
        except click_exc.UsageError as err:
            cmd = err.ctx.command_path if err.ctx else "sessionctl"
            _err(err.format_message(), f"Try '{cmd} --help' for help.")
            sys.exit(2)
        except click_exc.ClickException as err:
            _err(err.format_message())
            sys.exit(err.exit_code)
        except typer.Abort:
            sys.exit(130)
        except BrokenPipeError:
            _silence_stdout()
            sys.exit(0)
        except OSError as err:  # writing our own output failed (disk full, EIO)
            _silence_stdout()
            where = f" {err.filename}:" if err.filename else ""
            _err(f"I/O error:{where} {err.strerror or err}")
            sys.exit(1)
        except KeyboardInterrupt:
            sys.exit(130)
        except Exception as err:  # a bug: one line, never a traceback
            if os.environ.get("SESSIONCTL_DEBUG"):
                raise
            _err(f"internal error: {type(err).__name__}: {err}",
                 "(set SESSIONCTL_DEBUG=1 to see the traceback)")
            sys.exit(1)
        sys.exit(rv if isinstance(rv, int) else 0)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.commands = _LazyCommands(self.commands)

    def make_context(self, *args: Any, **kwargs: Any) -> Any:
        # ``--help``/``--version`` print while the arguments are parsed,
        # before :meth:`invoke`: a closed pipe there is a quiet success too.
        try:
            return super().make_context(*args, **kwargs)
        except BrokenPipeError:
            _silence_stdout()
            raise typer.Exit(0) from None

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except SessionError as err:
            _report(err)
            raise typer.Exit(err.exit_code) from None
        except BrokenPipeError:
            _silence_stdout()
            raise typer.Exit(0) from None
        except KeyboardInterrupt:
            raise typer.Exit(130) from None


def _silence_stdout() -> None:
    """After a broken pipe (``list | head``), end quietly: point stdout at
    /dev/null so the interpreter's final flush does not complain."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


class _LazyCommands(MutableMapping[str, Any]):
    """The group's commands, each built from its definition when first
    looked up (click's lazy-group idea, as a mapping so that everything
    reading ``Group.commands`` keeps working): building all of them cost
    ~20 ms of every start-up, and a run needs one (help and completion
    still see them all)."""

    def __init__(self, built: MutableMapping[str, Any]) -> None:
        # name -> its click command, or its typer definition until built
        self._entries: dict[str, Any] = {**_COMMANDS, **built}

    def __getitem__(self, name: str) -> Any:
        cmd = self._entries[name]
        if isinstance(cmd, CommandInfo):
            cmd = self._entries[name] = typer.main.get_command_from_info(
                cmd, pretty_exceptions_short=app.pretty_exceptions_short,
                rich_markup_mode=app.rich_markup_mode,
            )
        return cmd

    def __setitem__(self, name: str, cmd: Any) -> None:
        self._entries[name] = cmd

    def __delitem__(self, name: str) -> None:
        del self._entries[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)


app = typer.Typer(
    cls=_Group,
    name="sessionctl",
    help=(
        "Manage an AI coding agent's conversation sessions (ggcode's JSONL store).\n\n"
        "\b\nExamples:\n"
        "  sessionctl list --here              # sessions of this directory\n"
        "  sessionctl show 0626a978            # read one (id prefix)\n"
        "  sessionctl export-md 0626a978 -o session.md\n"
        "  sessionctl cleanup --older-than 30d # e.g. from cron"
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain click help: rich's help renderer costs ~100 ms of start-up.
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


class _State:
    dir: Path | None = None


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"sessionctl {__version__}\n")
        raise typer.Exit(0)


@app.callback()
def _root(
    directory: Annotated[
        Path | None,
        typer.Option(
            "--dir", metavar="PATH", envvar="SESSIONCTL_DIR", show_envvar=True,
            help="Session store (default: ~/.ggcode/sessions).",
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    _State.dir = directory


def _store(*, must_exist: bool = True) -> JSONLStore:
    from ..core.paths import default_dir
    from ..storage.store import JSONLStore

    return JSONLStore(_State.dir or default_dir(), create=not must_exist)


def _complete_ids(ctx: typer.Context, incomplete: str) -> list[str]:
    """Session ids for shell completion (full ids and hex parts).

    Completion never runs the root callback, so the store comes from the
    parsed ``--dir`` (or ``$SESSIONCTL_DIR``) of the command line itself.
    """
    from ..core.ids import hex_part
    from ..core.paths import default_dir
    from ..storage.store import JSONLStore

    directory = ctx.find_root().params.get("directory") or _State.dir or default_dir()
    try:
        ids = JSONLStore(directory, create=False).ids()
    except (SessionError, OSError):
        return []
    out = [s for s in ids if s.startswith(incomplete)]
    out += [h for s in ids if (h := hex_part(s)) and h.startswith(incomplete) and incomplete]
    return out


def _console(stderr: bool = False) -> Console:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False)


def _stdout_is_terminal() -> bool:
    return sys.stdout.isatty()


def _stderr_is_terminal() -> bool:
    return sys.stderr.isatty()


IdArg = Annotated[str, typer.Argument(metavar="ID", help="Session id or unique prefix.",
                                      autocompletion=_complete_ids)]
IdsArg = Annotated[list[str], typer.Argument(metavar="ID...", help="Session ids or prefixes.",
                                             autocompletion=_complete_ids)]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="Say more on stderr.")]


@app.command("list", epilog=EPILOG_LIST)
def list_cmd(
    workspace: Annotated[str | None, typer.Option(help="Only sessions of this workspace.")] = None,
    here: Annotated[bool, typer.Option(
        "--here", help="Only sessions of the current directory.")] = False,
    model: Annotated[str | None, typer.Option(help="Only this model (exact).")] = None,
    vendor: Annotated[str | None, typer.Option(help="Only this vendor (exact).")] = None,
    since: Annotated[str | None, typer.Option(
        metavar="DATE", help="Updated at or after DATE.")] = None,
    until: Annotated[str | None, typer.Option(metavar="DATE", help="Updated before DATE.")] = None,
    limit: Annotated[int | None, typer.Option(
        "--limit", "-n", min=1, help="At most N sessions.")] = None,
    show_all: Annotated[bool, typer.Option(
        "--all", "-a", help="Include sessions without user text.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="A JSON array.")] = False,
    as_jsonl: Annotated[bool, typer.Option("--jsonl", help="One JSON object per line.")] = False,
    as_ids: Annotated[bool, typer.Option("--ids", help="One id per line (for xargs).")] = False,
    verbose: VerboseOpt = False,
) -> None:
    """List sessions, newest first.

    A table on a terminal; tab-separated lines (id, updated, messages,
    workspace, title) when piped.
    """
    from ..render.formats import OutputFormat, emit_rows

    chosen = [f for f, on in (("json", as_json), ("jsonl", as_jsonl), ("ids", as_ids)) if on]
    if len(chosen) > 1:
        raise UsageError("choose one of --json, --jsonl, --ids")
    fmt = OutputFormat(chosen[0]) if chosen else OutputFormat.table
    if here and workspace:
        raise UsageError("--here and --workspace cannot be used together")
    ws = _workspace_filter(workspace, here)
    lo, hi = _date_ns(since), _date_ns(until)
    listing = _store().listing(include_hidden=show_all)
    rows = [
        i for i in listing.sessions
        if (ws is None or i.workspace == ws)
        and (model is None or i.model == model)
        and (vendor is None or i.vendor == vendor)
        and (lo is None or i.updated[0] >= lo)
        and (hi is None or i.updated[0] < hi)
    ][:limit]
    _warn_skipped(listing.skipped, verbose)
    if fmt is OutputFormat.table and _stdout_is_terminal():
        if rows:
            emit_rows(rows, fmt, sys.stdout.write, _console())
        return
    emit_rows(rows, fmt, sys.stdout.write)


def _workspace_filter(workspace: str | None, here: bool) -> str | None:
    from ..core.paths import normalize_workspace_path

    if here:
        return _here()
    if workspace is None:
        return None
    if workspace.strip() and not os.path.isabs(workspace.strip()):
        # Agents record absolute paths; the reference's rule would keep a
        # relative one relative, so `--workspace .` would match nothing.
        workspace = os.path.join(os.getcwd(), workspace.strip())
    return normalize_workspace_path(workspace)


def _here() -> str:
    """The current workspace; an error when the directory is gone (it would
    otherwise match every session without a workspace)."""
    from ..core.paths import current_workspace_path
    from ..errors import StoreIOError

    here = current_workspace_path()
    if not here:
        raise StoreIOError("the current directory does not exist any more")
    return here


def _date_ns(text: str | None) -> int | None:
    from ..core.times import from_datetime
    from ..core.timespec import parse_date

    return None if text is None else from_datetime(parse_date(text))


def _warn_skipped(skipped: list[tuple[str, str]], verbose: bool) -> None:
    if not skipped:
        return
    noun = "session" if len(skipped) == 1 else "sessions"
    _err(f"skipped {len(skipped)} unreadable {noun}"
         + ("" if verbose else " (--verbose names them)"))
    if verbose:
        for sid, why in skipped:
            sys.stderr.write(f"  {sid}: {why}\n")


@app.command(epilog="Example: sessionctl show 0626a978 --context")
def show(
    session_id: IdArg,
    as_json: Annotated[bool, typer.Option("--json", help="The loaded session as JSON.")] = False,
    context: Annotated[bool, typer.Option(
        "--context", help="Only what resume feeds the agent.")] = False,
    full: Annotated[bool, typer.Option("--full", help="Do not fold long tool output.")] = False,
    no_pager: Annotated[bool, typer.Option("--no-pager", help="Never use a pager.")] = False,
) -> None:
    """Show one session: through a pager on a terminal, plain when piped."""
    store = _store()
    sid = store.resolve_id(session_id)
    if as_json:
        sys.stdout.flush()
        store.write_json(sid, sys.stdout.buffer, context=context)
        sys.stdout.buffer.flush()
        return
    if not _stdout_is_terminal():
        store.write_markdown(sid, sys.stdout, context=context)
        return
    from ..render.show import render_show

    session = store.load(sid)
    console = _console()
    if no_pager:
        render_show(session, console, full=full, context=context)
        return
    styles = not os.environ.get("NO_COLOR")
    if styles and "LESS" not in os.environ:
        # less shows colour escapes as text without -R (git sets the same).
        os.environ["LESS"] = "FRX"
    with console.pager(styles=styles):
        render_show(session, console, full=full, context=context)


@app.command("export-md", epilog=(
    "Examples: sessionctl export-md 0626a978 > s.md; "
    "sessionctl export-md --all --output-dir notes/"))
def export_md(
    session_ids: Annotated[list[str] | None, typer.Argument(
        metavar="[ID]...", help="Session ids or prefixes.", autocompletion=_complete_ids)] = None,
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
    store = _store()
    resolved = [store.resolve_id(a) for a in ids]
    if output is not None:
        store.write_markdown_file(resolved[0], output, context=context)
        return
    for n, sid in enumerate(resolved):
        if n:
            sys.stdout.write("\n")
        store.write_markdown(sid, sys.stdout, context=context)


def _export_all(output_dir: Path, *, hidden: bool, context: bool, verbose: bool) -> None:
    from ..errors import CorruptStore, SessionNotFound, StoreIOError

    store = _store()
    tty = _stderr_is_terminal()
    if tty:  # reading a big store cold takes a moment: say so
        with _console(stderr=True).status("Reading sessions…"):
            listing = store.listing(include_hidden=hidden)
    else:
        listing = store.listing(include_hidden=hidden)
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise StoreIOError.wrap(f"create {output_dir}", err) from err
    _warn_skipped(listing.skipped, verbose)
    ids = [i.id for i in listing.sessions]
    failed: list[tuple[str, str]] = []
    exported = 0

    def export(sid: str) -> None:
        nonlocal exported
        try:
            # One fsync of the directory at the end instead of two per file.
            store.write_markdown_file(
                sid, output_dir / f"{sid}.md", context=context, durable=False)
            exported += 1
        except SessionNotFound:
            pass  # deleted since the listing: nothing to export
        except CorruptStore as err:  # one damaged session does not stop the rest
            failed.append((sid, str(err)))

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
        with Progress(*columns, console=_console(stderr=True), transient=True) as progress:
            task = progress.add_task("Exporting", total=len(ids))
            for sid in ids:
                export(sid)
                progress.advance(task)
    else:
        for sid in ids:
            export(sid)
    store.sync_exports(output_dir)
    if verbose:
        _err(f"exported {exported} sessions to {output_dir}")
    if failed:
        for sid, why in failed:
            _err(f"could not export {sid}: {why}")
        raise typer.Exit(1)


@app.command(epilog="Example: sessionctl delete 0626a978 1f2e3d4c --dry-run")
def delete(
    session_ids: IdsArg,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Print the ids, remove nothing.")] = False,
    verbose: VerboseOpt = False,
) -> None:
    """Delete sessions. Every id is checked first; nothing is removed if one is bad."""
    store = _store()
    resolved = list(dict.fromkeys(store.resolve_id(a) for a in session_ids))
    if dry_run:
        sys.stdout.write("".join(f"{sid}\n" for sid in resolved))
        return
    store.delete_many(resolved)
    if verbose:
        for sid in resolved:
            _err(f"deleted {sid}")


@app.command(epilog=(
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

    from ..core.timespec import parse_age, parse_date

    if older_than is not None and before is not None:
        raise UsageError("use --older-than or --before, not both")
    if older_than is None and before is None and not empty:
        raise UsageError("give --older-than AGE or --before DATE (or --empty)")
    cutoff = None
    if older_than is not None:
        cutoff = datetime.now(timezone.utc) - parse_age(older_than)
    elif before is not None:
        cutoff = parse_date(before)
    report = _store().cleanup(before=cutoff, empty=empty, dry_run=dry_run)
    if as_json:
        from ..core.records import json_bytes

        sys.stdout.flush()
        sys.stdout.buffer.write(json_bytes(report.to_dict()))
    elif dry_run:
        sys.stdout.write("".join(f"{sid}\n" for sid in report.removed))
    if verbose:
        for sid in report.removed:
            _err(f"{'would remove' if dry_run else 'removed'} {sid}")
        for sid, why in report.skipped:
            _err(f"skipped {sid}: {why}")
        _warn_skipped(report.unreadable, True)
    for sid, why in report.failed:
        _err(f"could not remove {sid}: {why}")
    if report.failed:
        raise typer.Exit(1)


@app.command(epilog=(
    "Examples: sessionctl resume; sessionctl resume 0626a978 --print; "
    "sessionctl resume --command 'ggcode --resume {id}'"))
def resume(
    session_id: Annotated[str | None, typer.Argument(
        metavar="[ID]", help="Session (default: the newest of this workspace).",
        autocompletion=_complete_ids)] = None,
    command: Annotated[str | None, typer.Option(
        "--command", metavar="TEMPLATE", envvar="SESSIONCTL_RESUME_COMMAND",
        help="Agent command; {id}, {workspace}, {file} are replaced. "
             "Default: ggcode --resume {id}.")] = None,
    print_only: Annotated[bool, typer.Option("--print", help="Print the command instead.")] = False,
    context: Annotated[bool, typer.Option(
        "--context", help="Print the resume context as JSON.")] = False,
    force: Annotated[bool, typer.Option(
        "--force", help="Resume even if an agent holds it.")] = False,
) -> None:
    """Hand a session back to the agent, in the session's workspace."""
    import shlex
    import shutil

    from ..errors import SessionNotFound, StoreIOError

    store = _store()
    if session_id is None:
        here = _here()
        mine = [i for i in store.list() if i.workspace == here]
        if not mine:
            raise SessionNotFound("", f"no session in this workspace ({here})")
        sid = mine[0].id
    else:
        sid = store.resolve_id(session_id)
    if context:
        from ..core.records import json_bytes

        ses = store.load(sid)
        data = {"id": sid, "workspace": ses.workspace,
                "messages": [m.to_dict() for m in ses.context_messages]}
        sys.stdout.flush()
        sys.stdout.buffer.write(json_bytes(data))
        return
    ses = store.load(sid)
    template = command or "ggcode --resume {id}"
    try:
        words = shlex.split(template)
    except ValueError as err:
        raise UsageError(f"bad resume command {template!r}: {err}") from None
    if not words:
        raise UsageError("the resume command is empty")
    # Absolute: the command runs in the workspace, not where we were started.
    file = os.path.abspath(store.dir / f"{sid}.jsonl")
    values = {"{id}": sid, "{workspace}": ses.workspace, "{file}": file}
    argv = [_fill(w, values) for w in words]
    if print_only:
        sys.stdout.write(shlex.join(argv) + "\n")
        return
    holder = store.in_use(sid)
    if holder is not None and not force:
        who = f"process {holder}" if holder else "another process"
        raise StoreIOError(f"session {sid} is open in {who} (use --force to resume anyway)")
    cwd = ses.workspace or os.getcwd()
    if not os.path.isdir(cwd):
        raise StoreIOError(f"workspace {cwd} does not exist (use --print to see the command)")
    if os.sep in argv[0]:  # a path: relative to where the user typed it, not to cwd
        exe: str | None = os.path.abspath(argv[0])
    else:
        exe = shutil.which(argv[0], path=os.environ.get("PATH"))
    if exe is None or not os.path.isfile(exe) or not os.access(exe, os.X_OK):
        raise StoreIOError(f"cannot run {argv[0]}: command not found or not executable")
    sys.stdout.flush()
    sys.stderr.flush()
    _exec(exe, argv, cwd)


def _fill(word: str, values: dict[str, str]) -> str:
    """Replace the placeholders of one word in a single pass, so a value
    that itself contains ``{id}`` (a workspace path) is never expanded."""
    import re

    return re.sub(r"\{(?:id|workspace|file)\}", lambda m: values[m.group(0)], word)


def _exec(exe: str, argv: list[str], cwd: str) -> NoReturn:
    from ..errors import StoreIOError

    try:
        os.chdir(cwd)
        os.execv(exe, argv)
    except OSError as err:
        raise StoreIOError.wrap(f"run {argv[0]}", err) from err


from .commands import stats as _stats_commands  # noqa: E402

app.command("stats", epilog=_stats_commands.EPILOG_STATS)(_stats_commands.stats)
app.command("du", epilog=_stats_commands.EPILOG_DU)(_stats_commands.du)


#: The commands by name, in the order defined (see _LazyCommands).
_COMMANDS: dict[str, CommandInfo] = {
    info.name or typer.main.get_command_name(info.callback.__name__): info
    for info in app.registered_commands if info.callback is not None
}
app.registered_commands = []


def main() -> NoReturn:
    """Console-script entry point (also ``python -m sessionctl``): runs one
    command and ends the process."""
    if "_SESSIONCTL_COMPLETE" in os.environ:
        # click's completion protocol, for shells set up with typer's own
        # scripts (the committed ones in completions/ use `list --ids`).
        from typer._completion_classes import completion_init

        completion_init()
    # What start-up made lives until exit: out of the collector's way. A
    # command builds many objects and little garbage, so collections are
    # rare (not off: a long cleanup or export --all stays bounded).
    gc.freeze()
    thresholds = gc.get_threshold()
    gc.set_threshold(100_000, 50, 100)
    try:
        app(prog_name="sessionctl")
    except SystemExit as done:
        _exit(done)
    finally:
        gc.set_threshold(*thresholds)
    raise AssertionError("the command did not exit")  # _Group.main always does


def _exit(done: SystemExit) -> NoReturn:
    """End the process without the interpreter's teardown, which frees every
    object and module one by one (~30 ms after listing 10,000 sessions; mypy
    ends the same way): output flushed, atexit handlers run, then
    ``os._exit``. A normal exit when that is not safe: other threads still
    running, an exit code that is no number, output that cannot be flushed.
    """
    code = 0 if done.code is None else done.code
    threading = sys.modules.get("threading")
    if not isinstance(code, int) or (threading is not None and threading.active_count() > 1):
        raise done
    for stream in (sys.stdout, sys.stderr):
        if stream is None:  # started with that descriptor closed (2>&-)
            continue
        try:
            stream.flush()
        except (OSError, ValueError):
            raise done from None
    import atexit

    atexit._run_exitfuncs()
    os._exit(code & 0xFF)


if _GC_WAS_ON:
    gc.enable()
