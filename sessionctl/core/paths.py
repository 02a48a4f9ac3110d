"""Where stores live and how workspace paths are compared (the seed's helpers)."""

from __future__ import annotations

import os
from pathlib import Path

from .text import go_trim_space

__all__ = ["cache_dir", "current_workspace_path", "default_dir", "normalize_workspace_path"]

def default_dir() -> Path:
    """The agent's own store: ``$HOME/.ggcode/sessions`` (as the reference)."""
    home = os.environ.get("HOME") or os.path.expanduser("~")
    return Path(home) / ".ggcode" / "sessions"


def cache_dir() -> Path:
    """sessionctl's cache directory (``$SESSIONCTL_CACHE_DIR`` overrides)."""
    override = os.environ.get("SESSIONCTL_CACHE_DIR")
    if override:
        return Path(override)
    import platformdirs  # only paid for by commands that list

    return Path(platformdirs.user_cache_dir("sessionctl", appauthor=False))


def normalize_workspace_path(path: str) -> str:
    """The reference's rule: resolve symlinks if the path exists, else absolute.

    Like Go's ``filepath.EvalSymlinks``, a relative path that exists and
    meets no absolute link stays relative.
    """
    trimmed = go_trim_space(path)
    if not trimmed:
        return ""
    if os.path.lexists(trimmed):
        try:
            resolved = os.path.realpath(trimmed, strict=True)
        except OSError:
            resolved = None
        if resolved is not None:
            if not os.path.isabs(trimmed) and not _meets_absolute_link(trimmed):
                return _clean(os.path.relpath(resolved))
            return _clean(resolved)
    return _clean(os.path.abspath(trimmed))


def _meets_absolute_link(path: str) -> bool:
    """Whether resolving relative ``path`` follows a link to an absolute target
    (Go's EvalSymlinks then returns an absolute path)."""
    todo = [c for c in path.split("/") if c]
    cur = ""
    seen = 0
    while todo and seen < 255:
        part = todo.pop(0)
        cur = os.path.join(cur, part) if cur else part
        if os.path.islink(cur):
            seen += 1
            target = os.readlink(cur)
            if os.path.isabs(target):
                return True
            cur = os.path.dirname(cur)
            todo = [c for c in target.split("/") if c] + todo
    return False


def _clean(p: str) -> str:
    cleaned = os.path.normpath(p)
    if cleaned.startswith("//"):
        cleaned = "/" + cleaned.lstrip("/")
    return cleaned


def current_workspace_path() -> str:
    """The normalised current directory, or ``""`` if it is gone."""
    try:
        return normalize_workspace_path(os.getcwd())
    except OSError:
        return ""
