"""The one writer of session files (JSONL records) in a store for the
tests; conftest and cli_helpers re-export it. Stdlib only."""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any


def write_lines(
    path: Path, *records: Any, raw: bytes = b"", ensure_ascii: bool = False,
    mode: int | None = 0o600,
) -> Path:
    """Write records as JSON lines (a ``bytes`` record is one line as is),
    then ``raw`` bytes (e.g. a cut last line), to ``path``; chmod ``mode``
    unless ``None`` (then the umask's default stays)."""
    data = b"".join(
        (r if isinstance(r, bytes)
         else json.dumps(r, ensure_ascii=ensure_ascii).encode()) + b"\n"
        for r in records
    )
    path.write_bytes(data + raw)
    if mode is not None:
        os.chmod(path, mode)
    return path


def written_at(path: Path, stamp: str) -> Path:
    """Give ``path`` the mtime of an agent that wrote it at ``stamp`` (an
    RFC 3339 time): cleanup keeps a file modified after its cutoff, whatever
    the file records (SPEC §8.5), so a session meant to be old must be old
    on disk too."""
    ns = int(datetime.fromisoformat(stamp).timestamp()) * 10**9
    os.utime(path, ns=(ns, ns))
    return path
