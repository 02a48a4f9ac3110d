"""Handing a session back to the agent (``resume``): which session, the
command that resumes it, and running that command in its workspace."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import sys
from typing import TYPE_CHECKING, NoReturn

from .errors import SessionNotFound, StoreIOError, UsageError

if TYPE_CHECKING:
    from .storage.store import FileStore

__all__ = ["DEFAULT_COMMAND", "newest_in_workspace", "resume_argv", "run_agent"]

#: The agent command when neither ``--command`` nor the environment names one.
DEFAULT_COMMAND = "ggcode --resume {id}"
_PLACEHOLDER = re.compile(r"\{(?:id|workspace|file)\}")


def newest_in_workspace(store: FileStore, workspace: str) -> str:
    """The id of the newest visible session of ``workspace`` (a normalised path)."""
    mine = store.query(workspace=workspace, limit=1).sessions
    if not mine:
        raise SessionNotFound("", f"no session in this workspace ({workspace})")
    sid: str = mine[0].id
    return sid


def resume_argv(template: str, *, session_id: str, workspace: str, file: str) -> list[str]:
    """The agent's argv: ``template`` split into shell words first, then the
    placeholders ``{id}``, ``{workspace}``, ``{file}`` replaced inside each
    word, so ids and paths need no quoting."""
    try:
        words = shlex.split(template)
    except ValueError as err:
        raise UsageError(f"bad resume command {template!r}: {err}") from None
    if not words:
        raise UsageError("the resume command is empty")
    values = {"{id}": session_id, "{workspace}": workspace, "{file}": file}
    # One pass per word: a value that itself contains ``{id}`` (a workspace
    # path) is never expanded.
    return [_PLACEHOLDER.sub(lambda m: values[m.group(0)], w) for w in words]


def run_agent(argv: list[str], cwd: str) -> NoReturn:
    """Replace this process with ``argv`` run in ``cwd``."""
    if not os.path.isdir(cwd):
        raise StoreIOError(f"workspace {cwd} does not exist (use --print to see the command)")
    if os.sep in argv[0]:  # a path: relative to where the user typed it, not to cwd
        exe: str | None = os.path.abspath(argv[0])
    else:
        exe = shutil.which(argv[0], path=os.environ.get("PATH"))
    if exe is None or not os.path.isfile(exe) or not os.access(exe, os.X_OK):
        raise StoreIOError(f"cannot run {argv[0]}: command not found or not executable")
    _exec(exe, argv, cwd)


def _exec(exe: str, argv: list[str], cwd: str) -> NoReturn:
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.chdir(cwd)
        os.execv(exe, argv)
    except OSError as err:
        raise StoreIOError.wrap(f"run {argv[0]}", err) from err
