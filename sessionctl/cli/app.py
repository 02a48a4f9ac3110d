"""The ``sessionctl`` command group: the root options, the registry of
commands, and the one place where errors become messages and exit codes.

Exit codes: 0 success, 1 operational failure, 2 usage, 3 no such session or
an ambiguous id. Each command is a module of :mod:`sessionctl.cli.commands`,
imported only when that command runs (help and completion import them all).
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterator, MutableMapping
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from .. import __version__
from ..errors import AmbiguousSessionId, SessionError, UsageError
from .common import State, err
from .compat import click_exceptions

__all__ = ["COMMANDS", "app"]

#: Command name -> its module in ``sessionctl.cli.commands``, in help order.
#: A new command is one module there and one line here.
COMMANDS: dict[str, str] = {
    "list": "list_",
    "show": "show",
    "export-md": "export_md",
    "delete": "delete",
    "cleanup": "cleanup",
    "resume": "resume",
    "trash": "trash",
    "restore": "restore",
    "log": "log",
    "rename": "rename",
    "tag": "tag",
    "untag": "untag",
    "pin": "pin",
    "unpin": "unpin",
    "search": "search",
    "stats": "stats",
    "du": "du",
}


def _report(error: SessionError) -> None:
    more: list[str] = []
    if isinstance(error, AmbiguousSessionId):
        more = _candidate_lines(error.candidates[:10])
        if len(error.candidates) > 10:
            more.append(f"  ... and {len(error.candidates) - 10} more")
    err(error.message, *more)


def _candidate_lines(candidates: list[str]) -> list[str]:
    """``  <short id>  <title>`` for each candidate of an ambiguous prefix
    (the full id where short ids collide, the id alone if titles are unknown)."""
    from ..render.text import clean_line, short_id
    from .common import store

    titles: dict[str, str] = {}
    try:
        listing = store().listing(include_hidden=True)
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


#: Root options that take a value, as they may be written after the command.
_GLOBAL_WITH_VALUE = ("--dir",)


def hoist_global_options(args: list[str]) -> list[str]:
    """``args`` with the global options written after the command (``list
    --dir S``) moved before it, where the root parser reads them. Nothing
    after ``--`` moves."""
    i = 0
    while i < len(args) and args[i].startswith("-") and args[i] != "--":
        i += 2 if args[i] in _GLOBAL_WITH_VALUE else 1  # root options before the command
    if i >= len(args) or args[i] not in COMMANDS:
        return args
    head, rest = args[:i], []
    tail = args[i:]
    j = 0
    while j < len(tail):
        word = tail[j]
        if word == "--":
            rest.extend(tail[j:])
            break
        if word in _GLOBAL_WITH_VALUE and j + 1 < len(tail):
            head.extend(tail[j:j + 2])
            j += 2
            continue
        if word.startswith(tuple(f"{o}=" for o in _GLOBAL_WITH_VALUE)):
            head.append(word)
        else:
            rest.append(word)
        j += 1
    return head + rest


def _silence_stdout() -> None:
    """After a broken pipe (``list | head``), end quietly: point stdout at
    /dev/null so the interpreter's final flush does not complain."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


class _Commands(MutableMapping[str, Any]):
    """The group's commands by name: each command's module is imported and
    its click command built when first looked up (click's lazy-group idea);
    every name is known from :data:`COMMANDS` without importing anything,
    so help, completion and "Did you mean" see them all."""

    def __init__(self) -> None:
        self._built: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        cmd = self._built.get(name)
        if cmd is None:
            module = importlib.import_module(f"{__package__}.commands.{COMMANDS[name]}")
            cmd = self._built[name] = typer.main.get_command(module.app)
            cmd.name = name
        return cmd

    def __setitem__(self, name: str, cmd: Any) -> None:
        raise TypeError("commands are registered in sessionctl.cli.app.COMMANDS")

    def __delitem__(self, name: str) -> None:
        raise TypeError("commands are registered in sessionctl.cli.app.COMMANDS")

    def __iter__(self) -> Iterator[str]:
        return iter(COMMANDS)

    def __len__(self) -> int:
        return len(COMMANDS)

    def built(self) -> list[str]:
        """The names of the commands built so far (for tests of start-up)."""
        return list(self._built)


class _Group(TyperGroup):
    """The one place where errors become messages and exit codes."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.commands = _Commands()

    def main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        try:
            rv = super().main(*args, **kwargs)
            # Flush here, not at interpreter exit, so a closed pipe or a full
            # disk is reported like any other failure.
            sys.stdout.flush()
        except click_exceptions.NoArgsIsHelpError as error:
            sys.stderr.write(error.format_message() + "\n")
            sys.exit(2)
        except click_exceptions.UsageError as error:
            cmd = error.ctx.command_path if error.ctx else "sessionctl"
            err(error.format_message(), f"Try '{cmd} --help' for help.")
            sys.exit(2)
        except click_exceptions.ClickException as error:
            err(error.format_message())
            sys.exit(error.exit_code)
        except typer.Abort:
            sys.exit(130)
        except BrokenPipeError:
            _silence_stdout()
            sys.exit(0)
        except OSError as error:  # writing our own output failed (disk full, EIO)
            _silence_stdout()
            where = f" {error.filename}:" if error.filename else ""
            err(f"I/O error:{where} {error.strerror or error}")
            sys.exit(1)
        except KeyboardInterrupt:
            sys.exit(130)
        except Exception as error:  # a bug: one line, never a traceback
            if os.environ.get("SESSIONCTL_DEBUG"):
                raise
            err(f"internal error: {type(error).__name__}: {error}",
                "(set SESSIONCTL_DEBUG=1 to see the traceback)")
            sys.exit(1)
        sys.exit(rv if isinstance(rv, int) else 0)

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        return super().parse_args(ctx, hoist_global_options(args))

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
        except SessionError as error:
            _report(error)
            raise typer.Exit(error.exit_code) from None
        except BrokenPipeError:
            _silence_stdout()
            raise typer.Exit(0) from None
        except KeyboardInterrupt:
            raise typer.Exit(130) from None


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


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"sessionctl {__version__}\n")
        raise typer.Exit(0)


@app.callback()
def _root(
    directory: Annotated[
        str | None,
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
    if directory is not None and not directory.strip():
        # Path("") is the current directory: never a store by accident.
        raise UsageError("--dir needs a directory (it was empty)")
    State.dir = Path(directory) if directory is not None else None
