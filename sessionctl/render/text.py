"""Text for one line or one cell: short ids, relative times, paths, and
terminal-safe strings (control characters never reach the terminal raw)."""

from __future__ import annotations

import os
import time

from ..core.ids import hex_part

__all__ = ["clean_line", "printable", "relative_time", "short_id", "shorten_path"]


def short_id(sid: str) -> str:
    """The first 8 hex digits of a reference-shaped id (like git), else the id."""
    hx = hex_part(sid)
    return hx[:8] if hx else sid


def clean_line(text: str) -> str:
    """One line: control characters (newlines, tabs, escapes) become spaces."""
    return "".join(" " if (ord(c) < 32 or 0x7F <= ord(c) < 0xA0 or c in "\u2028\u2029") else c
                   for c in text)


def relative_time(ns: int, now: float | None = None) -> str:
    """``just now``, ``5m ago``, ``3h ago``, ``2d ago``; a date past 30 days."""
    now = time.time() if now is None else now
    delta = now - ns / 1e9
    if delta < 0:
        return time.strftime("%Y-%m-%d", time.localtime(ns / 1e9))
    if delta < 60:
        return "just now"
    if delta < 3600:
        return f"{int(delta // 60)}m ago"
    if delta < 86400:
        return f"{int(delta // 3600)}h ago"
    if delta < 30 * 86400:
        return f"{int(delta // 86400)}d ago"
    return time.strftime("%Y-%m-%d", time.localtime(ns / 1e9))


def shorten_path(path: str) -> str:
    """``$HOME/x`` as ``~/x``."""
    home = os.path.expanduser("~")
    if home not in ("", "/") and (path == home or path.startswith(home + "/")):
        return "~" + path[len(home):]
    return path


_CONTROL: dict[int, str | None] = {
    c: "\ufffd" for c in [*range(0, 9), *range(11, 32), *range(0x7F, 0xA0)]}
_CONTROL[13] = None  # CR: CRLF text and progress output


def printable(text: str) -> str:
    """Text for a terminal: newlines and tabs kept, other control characters
    (escape sequences from a session file) shown as U+FFFD, never sent raw."""
    return text.translate(_CONTROL)
