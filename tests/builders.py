"""The one writer of session files (JSONL records) in a store for the
tests; conftest and cli_helpers re-export it. Stdlib only."""

from __future__ import annotations

import json
import os
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
