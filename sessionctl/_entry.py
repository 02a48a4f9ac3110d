"""The console-script entry point, and the only home of start-up tricks.

Nothing here changes what a command does; each trick only saves time that a
measurement showed, and none of them touches a library user's process:

- the garbage collector is off while the command line is imported (typer,
  click and the command modules make many long-lived objects and no
  garbage), and back on in a ``finally``;
- what start-up made is frozen out of the collector's way, and collections
  are made rare during the command (not off: a long cleanup stays bounded);
- the process ends without the interpreter's teardown (see :func:`_exit`).
"""

from __future__ import annotations

import gc
import os
import sys
from typing import NoReturn

__all__ = ["main"]


def main() -> NoReturn:
    """Run one ``sessionctl`` command and end the process (also ``python -m
    sessionctl``)."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        from .cli.app import app

        if "_SESSIONCTL_COMPLETE" in os.environ:
            # click's completion protocol, for shells set up with typer's
            # own scripts (the committed ones in completions/ use `list --ids`).
            from .cli.compat import completion_init

            completion_init()
    finally:
        if was_on:
            gc.enable()
    gc.freeze()
    thresholds = gc.get_threshold()
    gc.set_threshold(100_000, 50, 100)
    try:
        app(prog_name="sessionctl")
    except SystemExit as done:
        _exit(done)
    finally:
        gc.set_threshold(*thresholds)
    raise AssertionError("the command did not exit")  # the group's main always does


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
