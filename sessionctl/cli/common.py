"""What the commands share: the store they work on, id completion, the
shared options, and the few lines every command writes to stderr."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ..errors import SessionError

if TYPE_CHECKING:
    from rich.console import Console

    from ..api import JSONLStore

__all__ = [
    "IdArg",
    "IdsArg",
    "VerboseOpt",
    "color_on",
    "command_app",
    "complete_tags",
    "console",
    "err",
    "stderr_is_terminal",
    "stdout_is_terminal",
    "store",
    "terminal_width",
    "warn",
    "warn_skipped",
    "workspace_filter",
]


class State:
    """The root options of this run (set by the root callback)."""

    dir: Path | None = None


def command_app() -> typer.Typer:
    """The one-command Typer a command module defines its command on, with
    the settings every command shares."""
    return typer.Typer(
        add_completion=False,
        pretty_exceptions_enable=False,
        # Plain click help: rich's help renderer costs ~100 ms of start-up.
        rich_markup_mode=None,
    )


def err(message: str, *more: str) -> None:
    """``sessionctl: message`` on stderr, then any further lines as they are."""
    sys.stderr.write(f"sessionctl: {message}\n")
    for line in more:
        sys.stderr.write(f"{line}\n")


def store(*, must_exist: bool = True) -> JSONLStore:
    """The store this run works on: ``--dir``, else ``$SESSIONCTL_DIR``, else
    the agent's own store."""
    from ..api import JSONLStore
    from ..core.paths import default_dir
    from ..storage import locking

    # A lock wait of over a second is announced, not sat through in silence.
    locking.on_wait(lambda message: err(message))
    # A first listing of a big store may read on every core.
    return JSONLStore(State.dir or default_dir(), create=not must_exist, parallel=True)


def complete_ids(ctx: typer.Context, incomplete: str) -> list[str]:
    """Session ids for shell completion (full ids and hex parts).

    Completion never runs the root callback, so the store comes from the
    parsed ``--dir`` (or ``$SESSIONCTL_DIR``) of the command line itself.
    """
    from ..api import JSONLStore
    from ..core.ids import hex_part
    from ..core.paths import default_dir

    directory = ctx.find_root().params.get("directory") or State.dir or default_dir()
    try:
        ids = JSONLStore(directory, create=False).ids()
    except (SessionError, OSError):
        return []
    out = [s for s in ids if s.startswith(incomplete)]
    out += [h for s in ids if (h := hex_part(s)) and h.startswith(incomplete) and incomplete]
    return out


def complete_tags(ctx: typer.Context, incomplete: str) -> list[str]:
    """Tags in use in the store, for shell completion (read-only)."""
    from ..core.paths import default_dir
    from ..storage.labels import Labels

    directory = ctx.find_root().params.get("directory") or State.dir or default_dir()
    tags = Labels(Path(directory)).read().all_tags()
    return [t for t in tags if t.startswith(incomplete.lower())]


def console(stderr: bool = False) -> Console:
    """A rich console on stdout (or stderr); rich decides on colour."""
    from rich.console import Console

    return Console(stderr=stderr, highlight=False)


def stdout_is_terminal() -> bool:
    return sys.stdout.isatty()


def color_on() -> bool:
    """Colour on stdout: a terminal, ``NO_COLOR`` unset or empty, and not
    ``TERM=dumb`` (the rules rich applies)."""
    return (sys.stdout.isatty() and not os.environ.get("NO_COLOR")
            and os.environ.get("TERM") != "dumb")


def terminal_width() -> int:
    """The terminal's width in cells (``$COLUMNS`` first)."""
    import shutil

    return shutil.get_terminal_size().columns


def warn(message: str) -> None:
    """A one-line warning on stderr."""
    err(f"warning: {message}")


def stderr_is_terminal() -> bool:
    return sys.stderr.isatty()


def warn_skipped(skipped: list[tuple[str, str]], verbose: bool) -> None:
    """One summary line for files that could not be read (each with ``--verbose``)."""
    if not skipped:
        return
    noun = "session" if len(skipped) == 1 else "sessions"
    err(f"skipped {len(skipped)} unreadable {noun}"
        + ("" if verbose else " (--verbose names them)"))
    if verbose:
        for sid, why in skipped:
            sys.stderr.write(f"  {sid}: {why}\n")


def workspace_filter(workspace: str | None, here: bool) -> str | None:
    """The workspace that ``--workspace PATH`` or ``--here`` names, normalised
    as agents record it; ``None`` for no filter."""
    from ..core.paths import current_workspace_path, normalize_workspace_path
    from ..errors import StoreIOError, UsageError

    if here and workspace:
        raise UsageError("--here and --workspace cannot be used together")
    if here:
        current = current_workspace_path()
        if not current:  # it would match every session without a workspace
            raise StoreIOError("the current directory does not exist any more")
        return current
    if workspace is None:
        return None
    if workspace.strip() and not os.path.isabs(workspace.strip()):
        # Agents record absolute paths; the reference's rule would keep a
        # relative one relative, so `--workspace .` would match nothing.
        workspace = os.path.join(os.getcwd(), workspace.strip())
    return normalize_workspace_path(workspace)


IdArg = Annotated[str, typer.Argument(metavar="ID", help="Session id or unique prefix.",
                                      autocompletion=complete_ids)]
IdsArg = Annotated[list[str], typer.Argument(metavar="ID...", help="Session ids or prefixes.",
                                             autocompletion=complete_ids)]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="Say more on stderr.")]

# The session filters of list, search and stats (SPEC 8.3, 8.4).
WorkspaceOpt = Annotated[str | None, typer.Option(help="Only sessions of this workspace.")]
HereOpt = Annotated[bool, typer.Option("--here", help="Only sessions of the current directory.")]
PinnedOpt = Annotated[bool, typer.Option("--pinned", help="Only pinned sessions.")]
ShowAllOpt = Annotated[bool, typer.Option(
    "--all", "-a", help="Include sessions without user text.")]
# ... and list's and search's, which select sessions by their own model and time.
ModelOpt = Annotated[str | None, typer.Option(help="Only this model (exact).")]
VendorOpt = Annotated[str | None, typer.Option(help="Only this vendor (exact).")]
SinceOpt = Annotated[str | None, typer.Option(metavar="DATE", help="Updated at or after DATE.")]
UntilOpt = Annotated[str | None, typer.Option(metavar="DATE", help="Updated before DATE.")]
TagsArg = Annotated[list[str], typer.Argument(
    metavar="TAG...", help="Tags: 1-64 characters of a-z 0-9 _ . : - (case is ignored).",
    autocompletion=complete_tags)]


def change_labels(action: str, session_ids: list[str], tags: list[str] | None,
                  verbose: bool) -> None:
    """``tag``/``untag`` (one session, ``tags``) and ``pin``/``unpin``
    (several sessions): resolve, change ``labels.json``, report."""
    from ..storage.labels import change, normalize_tags

    norm = normalize_tags(tags) if tags is not None else None  # a bad tag: usage error first
    st = store()
    resolved = list(dict.fromkeys(st.resolve_id(a) for a in session_ids))
    if norm is None:
        lines = change(st, action, resolved, by=action)
    else:
        lines = change(st, action, resolved, norm, by=action)
    for line in lines:
        err(f"warning: {line}")
    if verbose:
        done = {"tag": "tagged", "untag": "untagged", "pin": "pinned", "unpin": "unpinned"}
        for sid in resolved:
            err(f"{done[action]} {sid}" + ("" if norm is None else f": {' '.join(norm)}"))
