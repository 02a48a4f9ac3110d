"""The audit log, ``<store>/.sessionctl/audit.jsonl`` (SPEC §8.1).

One JSON object per line, appended (``O_APPEND``, fsync) under
``audit.jsonl.flock`` and never rewritten. Every removal, restore and label
change sessionctl makes leaves a record, so "what happened to my session?"
always has an answer. Reading tolerates garbage and a torn last line (a
crash mid-append): they are skipped and counted, never fatal.
"""

from __future__ import annotations

import functools
import os
import stat
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.times import format_ns, now_ns, parse_ns
from ..errors import StoreIOError
from . import fsio, locking
from .layout import STATE_DIR

__all__ = [
    "ACTIONS",
    "AUDIT_NAME",
    "STATE_DIR",
    "AuditLog",
    "AuditRecord",
    "format_time",
    "make_record",
]

JSON = Any
AUDIT_NAME = "audit.jsonl"
ACTIONS = ("trash", "purge", "restore", "rename", "tag", "untag", "pin", "unpin")
#: How long a writer waits for ``audit.jsonl.flock``.
LOCK_TIMEOUT = 30.0


@dataclass(frozen=True)
class AuditRecord:
    """One line of the audit log, as read back."""

    time: str
    time_ns: int
    action: str
    id: str
    title: str
    by: str
    bytes: int | None
    raw: dict[str, JSON] = field(repr=False, compare=False)

    def to_dict(self) -> dict[str, JSON]:
        """The record exactly as stored (unknown fields kept)."""
        return dict(self.raw)


@dataclass
class AuditRead:
    """Records (newest first) and what could not be read."""

    records: list[AuditRecord]
    #: One line about damaged input (or ``None``): lines skipped, a
    #: directory in the log's place, an unreadable file.
    problem: str | None = None


_ident: tuple[str, str] | None = None


def _who() -> tuple[str, str]:
    """(user, host), computed once per process."""
    global _ident
    if _ident is None:
        import getpass  # here, not at import: list imports this layer too

        try:
            user = getpass.getuser()
        except (OSError, KeyError, ImportError):
            user = str(os.getuid())
        # What socket.gethostname() returns on POSIX, without importing
        # socket (2 ms of every cleanup's start-up).
        host = os.uname().nodename
        _ident = (user, host)
    return _ident


def _version() -> str:
    """sessionctl's version. Read from the loaded package (always imported
    before its subpackages) rather than imported: the package root re-exports
    the api layer, which storage must not import."""
    return str(getattr(sys.modules[__name__.split(".")[0]], "__version__", ""))


def make_record(
    action: str, sid: str, *, title: str, size: int | None, by: str,
    time_ns: int | None = None, **extra: JSON,
) -> dict[str, JSON]:
    """A record with §8.1's fields in order; ``extra``: ``tags`` or ``old_title``."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    user, host = _who()
    rec: dict[str, JSON] = {
        "time": format_time(time_ns if time_ns is not None else now_ns()),
        "action": action, "id": sid, "title": title, "bytes": size, "by": by,
        "pid": os.getpid(), "user": user, "host": host, "version": _version(),
    }
    rec.update(extra)
    return rec


@functools.lru_cache(maxsize=4)  # a batch stamps all its records with one time
def format_time(ns: int) -> str:
    """RFC 3339 UTC with all nine digits of nanoseconds (§8.1)."""
    stamp = format_ns(ns - ns % 10**9)[:-1]
    return f"{stamp}.{ns % 10**9:09d}Z"


class AuditLog:
    """``<store>/.sessionctl/audit.jsonl`` of one store."""

    def __init__(self, store_dir: Path) -> None:
        self.dir = store_dir / STATE_DIR
        self.path = self.dir / AUDIT_NAME

    def append(self, records: Sequence[dict[str, JSON]]) -> None:
        """Append ``records`` in one write and one fsync (creating
        ``.sessionctl/`` 0700 on first use). Raises :class:`StoreIOError`
        with a one-line reason, leaving an existing log untouched."""
        if not records:
            return
        import orjson

        data = b"".join(orjson.dumps(r) + b"\n" for r in records)
        try:
            fsio.ensure_dir(self.dir)
            with locking.file_lock(self.dir / f"{AUDIT_NAME}.flock", timeout=LOCK_TIMEOUT,
                                   what="being written"):
                st = _lstat(self.path)
                if st is not None and not stat.S_ISREG(st.st_mode):
                    raise StoreIOError(f"cannot write the audit log {self.path}: "
                                       "it is not a regular file (move it away)")
                fsio.durable_append(self.path, data)
        except OSError as err:
            raise StoreIOError.wrap("write the audit log", err) from err

    def read(
        self, *, since_ns: int | None = None, actions: Iterable[str] = (),
        ids: Iterable[str] = (), limit: int | None = None,
    ) -> AuditRead:
        """Records newest first, filtered (``since`` inclusive; all of the
        given filters must match). Never creates or locks anything."""
        import orjson

        wanted_actions = set(actions)
        wanted_ids = set(ids)
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK)
        except FileNotFoundError:
            return AuditRead([])
        except OSError as err:
            return AuditRead([], f"cannot read the audit log {self.path}: "
                                 f"{err.strerror or err}")
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return AuditRead([], f"cannot read the audit log {self.path}: "
                                     "it is not a regular file")
            with os.fdopen(fd, "rb", closefd=False) as f:
                data = f.read()
        except OSError as err:
            return AuditRead([], f"cannot read the audit log {self.path}: "
                                 f"{err.strerror or err}")
        finally:
            os.close(fd)
        out: list[AuditRecord] = []
        bad = 0
        for line in data.split(b"\n"):
            if not line.strip():
                continue
            try:
                obj = orjson.loads(line)
            except orjson.JSONDecodeError:
                bad += 1
                continue
            rec = _record(obj)
            if rec is None:
                bad += 1
                continue
            if since_ns is not None and rec.time_ns < since_ns:
                continue
            if wanted_actions and rec.action not in wanted_actions:
                continue
            if wanted_ids and rec.id not in wanted_ids:
                continue
            out.append(rec)
        # Appends are in time order; a stable sort keeps the file's order
        # among equal times, then newest first.
        out.sort(key=lambda r: r.time_ns)
        out.reverse()
        if limit is not None:
            out = out[:limit]
        problem = None
        if bad:
            problem = (f"skipped {bad} damaged line{'s' if bad != 1 else ''} "
                       f"in the audit log {self.path}")
        return AuditRead(out, problem)


def _record(obj: JSON) -> AuditRecord | None:
    if not isinstance(obj, dict):
        return None
    t, action, sid = obj.get("time"), obj.get("action"), obj.get("id")
    ns = parse_ns(t)
    if ns is None or not isinstance(action, str) or not isinstance(sid, str):
        return None
    title, by, size = obj.get("title"), obj.get("by"), obj.get("bytes")
    return AuditRecord(
        time=t if isinstance(t, str) else "", time_ns=ns, action=action, id=sid,
        title=title if isinstance(title, str) else "", by=by if isinstance(by, str) else "",
        bytes=size if isinstance(size, int) and not isinstance(size, bool) else None, raw=obj,
    )


def _lstat(path: Path) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except FileNotFoundError:
        return None
