"""Streaming output into ``$PAGER`` on a terminal, the way git does.

The pager is started as a subprocess and the view is written into its
standard input as it is rendered, so the first screen appears at once
(rich's pager rendered everything into memory first: 40 s of blank screen
for a 20 MB session). When the user quits the pager early, writing stops
quietly. A pager that cannot run (``PAGER=nonexistent-pager``) or fails
(``PAGER=false``, a non-zero exit) loses nothing: a one-line warning, then
the output is written directly. ``less`` gets ``R`` in ``$LESS`` so colours
show as colours (``FRX`` when ``$LESS`` is unset, as git sets it).

Ctrl-C stops the rendering; the pager keeps the terminal until the user
quits it (the process waits for it, ignoring further Ctrl-C), then
:class:`KeyboardInterrupt` goes on to the caller (exit 130).
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Mapping

__all__ = ["Produce", "Write", "direct", "less_options", "page", "pager_command", "write_batched"]

Write = Callable[[str], object]
#: Writes the whole output through the ``Write`` it is given; may be called
#: twice (again, directly, after a pager failed).
Produce = Callable[[Write], None]

_SHELL_CHARS = re.compile(r"[|&;<>()$`\\\"'*?\[#~=%{}\n]")
_EAGER = 64 << 10  # flushed after every piece until this much was written
_BATCH = 64 << 10


def pager_command(env: Mapping[str, str]) -> list[str] | None:
    """The pager's argv from ``$PAGER`` (``less`` when unset, ``sh -c`` when
    it needs a shell); ``None``: write directly (``PAGER=`` or ``cat``)."""
    value = env.get("PAGER")
    if value is None:
        return ["less"] if shutil.which("less", path=env.get("PATH")) else None
    value = value.strip()
    if not value or value == "cat":
        return None
    if _SHELL_CHARS.search(value):
        return ["/bin/sh", "-c", value]
    return shlex.split(value)


def less_options(value: str | None) -> str:
    """``$LESS`` for a ``less`` we start: ``FRX`` when unset, else the
    user's options with ``-R`` added when neither ``R`` nor ``r`` is there
    (without it colour escapes show as text)."""
    if value is None:
        return "FRX"
    if "R" in value or "r" in value:
        return value
    return f"{value} -R" if value.strip() else "-R"


def page(produce: Produce, *, warn: Callable[[str], None]) -> None:
    """Run ``produce`` into the pager (see the module doc)."""
    env = dict(os.environ)
    argv = pager_command(env)
    if argv is None:
        direct(produce)
        return
    name = argv[0] if argv[0] != "/bin/sh" else argv[-1]
    if argv[0] != "/bin/sh" and shutil.which(argv[0], path=env.get("PATH")) is None:
        warn(f"pager {name!r} not found; writing directly")
        direct(produce)
        return
    if os.path.basename(argv[0]) == "less":
        env["LESS"] = less_options(env.get("LESS"))
    sys.stdout.flush()
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, env=env)
    except OSError as err:
        warn(f"pager {name!r} cannot run ({err.strerror or err}); writing directly")
        direct(produce)
        return
    assert proc.stdin is not None
    fd = proc.stdin.fileno()
    interrupted = False
    try:
        write_batched(produce, fd)
    except BrokenPipeError:
        pass  # the pager quit: the user has seen enough (or it failed, below)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        # The pager owns the terminal until it quits: wait for it, and let
        # a second Ctrl-C not leave it behind.
        old = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            with contextlib.suppress(OSError):
                proc.stdin.close()
            code = proc.wait()
        finally:
            signal.signal(signal.SIGINT, old)
    if interrupted:
        raise KeyboardInterrupt
    if code != 0:
        why = f"exit status {code}" if code > 0 else f"signal {-code}"
        if code == 127 and argv[0] == "/bin/sh":
            why = "not found"
        warn(f"pager {name!r} failed ({why}); writing directly")
        direct(produce)


def write_batched(produce: Produce, fd: int) -> None:
    """``produce`` into the descriptor ``fd``: pieces go out at once until
    the first screens are there, then in batches (a terminal's stdout is
    line-buffered: one write per message cost more than the rendering)."""
    pending: list[bytes] = []
    size = 0
    sent = 0

    def write(text: str) -> None:
        nonlocal size, sent
        data = text.encode("utf-8", "replace")
        pending.append(data)
        size += len(data)
        if sent < _EAGER or size >= _BATCH:
            flush()

    def flush() -> None:
        nonlocal size, sent
        data = b"".join(pending)
        pending.clear()
        size = 0
        view = memoryview(data)
        while view:
            n = os.write(fd, view)
            view = view[n:]
            sent += n

    produce(write)
    flush()


def direct(produce: Produce) -> None:
    """``produce`` straight to stdout."""
    sys.stdout.flush()
    try:
        fd = sys.stdout.fileno()
    except (OSError, ValueError):  # not a file (tests capturing output)
        produce(sys.stdout.write)
        sys.stdout.flush()
        return
    write_batched(produce, fd)
