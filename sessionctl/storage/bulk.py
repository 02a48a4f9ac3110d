"""Reading many session files at once, on every core.

A first ``list`` of a large store (or one after the cache is gone) must
read every file: 10,000 sessions are ~280 MB of JSON. Parsing is CPU-bound
and files are independent, so it is split across worker processes. Workers
are started with ``spawn`` (never ``fork``: a library may run inside a
threaded program) and only read.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Any

from ..core.folds import Summary
from . import fsio

__all__ = ["summarize_many", "worth_parallel"]

#: Below this much to read, starting workers costs more than it saves.
_MIN_BYTES = 24 << 20
_MIN_FILES = 200


def worth_parallel(count: int, total_bytes: int) -> int:
    """How many worker processes to use (0: read in this process)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    workers = min(cores or 1, 8)
    if workers < 2 or count < _MIN_FILES or total_bytes < _MIN_BYTES:
        return 0
    return workers


def _read_chunk(directory: str, sids: list[str]) -> list[tuple[str, Any, str | None]]:
    """In a worker: (id, summary as JSON-able list or None, error or None)."""
    from ..core.folds import summarize

    out: list[tuple[str, Any, str | None]] = []
    for sid in sids:
        path = Path(directory) / f"{sid}.jsonl"
        try:
            with fsio.open_regular(path) as f:
                out.append((sid, summarize(f).to_json(), None))
        except FileNotFoundError:
            out.append((sid, None, None))  # removed meanwhile
        except OSError as err:
            reason = "a symbolic link (not followed)" if err.errno == errno.ELOOP else (
                err.strerror or str(err))
            out.append((sid, None, f"cannot read session {sid}: {reason}"))
    return out


def summarize_many(
    directory: Path, files: list[tuple[str, int]], workers: int
) -> dict[str, Summary | str | None]:
    """Summaries of ``files`` ((id, size) pairs) read by ``workers`` processes.

    Each value is a :class:`Summary`, an error message, or ``None`` for a
    file that vanished. Raises ``OSError`` if workers cannot be started
    (the caller then reads in-process).
    """
    import concurrent.futures
    import multiprocessing

    # Chunks of similar size, a few per worker so a big file does not leave
    # the other workers idle at the end.
    n_chunks = workers * 4
    chunks: list[list[str]] = [[] for _ in range(n_chunks)]
    loads = [0] * n_chunks
    for sid, size in sorted(files, key=lambda f: -f[1]):
        i = loads.index(min(loads))
        chunks[i].append(sid)
        loads[i] += size + 4096
    results: dict[str, Summary | str | None] = {}
    ctx = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(workers, mp_context=ctx) as pool:
        jobs = [pool.submit(_read_chunk, str(directory), c) for c in chunks if c]
        for job in jobs:
            for sid, summary, error in job.result():
                results[sid] = Summary.from_json(summary) if summary is not None else error
    return results
