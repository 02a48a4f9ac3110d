"""Where each file of a store lives: names only, no I/O.

The agent's own names (SPEC §1, §6): ``<id>.jsonl``, ``<id>.lock``,
``<id>.jsonl.flock``, ``index.json``, ``index.json.flock``. sessionctl's own
persistent files live only in two subdirectories (SPEC §8.0): ``.trash/`` and
``.sessionctl/``; rebuildable data lives in the user's cache directory.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..core.ids import validate_id

__all__ = ["INDEX_NAME", "Layout"]

INDEX_NAME = "index.json"
TRASH_DIR = ".trash"
STATE_DIR = ".sessionctl"


class Layout:
    """The paths of one store. Every session path is built from a checked id."""

    __slots__ = ("dir",)

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.dir = Path(directory)

    def session(self, sid: str) -> Path:
        """``<id>.jsonl``; raises ``InvalidSessionId`` for a bad id."""
        return self.dir / f"{validate_id(sid)}.jsonl"

    def session_flock(self, sid: str) -> Path:
        """``<id>.jsonl.flock``: held around every append and rewrite."""
        return self.dir / f"{validate_id(sid)}.jsonl.flock"

    def session_lock(self, sid: str) -> Path:
        """``<id>.lock``: held while a process has the session open."""
        return self.dir / f"{validate_id(sid)}.lock"

    @property
    def index(self) -> Path:
        return self.dir / INDEX_NAME

    @property
    def index_flock(self) -> Path:
        return self.dir / f"{INDEX_NAME}.flock"

    @property
    def trash(self) -> Path:
        """``.trash/``: trashed session files (SPEC §8.1)."""
        return self.dir / TRASH_DIR

    @property
    def state(self) -> Path:
        """``.sessionctl/``: the audit log and labels (SPEC §8.0)."""
        return self.dir / STATE_DIR
