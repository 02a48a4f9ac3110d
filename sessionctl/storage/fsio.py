"""Durable file operations: the only module that renames or fsyncs.

* :func:`atomic_write` replaces a file so a crash leaves the complete old or
  the complete new version: temp file in the same directory, fsync, rename,
  fsync of the directory (without it the rename itself may not survive a
  power cut).
* :func:`durable_append` appends whole records: it first ends a torn last
  line with a newline (never cuts it: it may be a complete record that only
  lost its newline), then writes and fsyncs.

``_fsync`` and ``_replace`` are module attributes so tests can inject faults.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

__all__ = [
    "atomic_write",
    "atomic_writer",
    "create_exclusive",
    "durable_append",
    "ensure_dir",
    "fsync_dir",
    "open_regular",
]

FILE_MODE = 0o600
DIR_MODE = 0o700
_CHUNK = 1 << 20

_fsync = os.fsync
_replace = os.replace


def ensure_dir(path: Path) -> bool:
    """Create ``path`` (and parents) with mode 0700; True if it was created."""
    if path.is_dir():
        return False
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    os.chmod(path, DIR_MODE)  # mkdir's mode is filtered by the umask
    return True


def fsync_dir(path: Path) -> None:
    """Make a rename or a new name in ``path`` durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        _fsync(fd)
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes | bytearray | memoryview) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def atomic_write(
    path: Path, chunks: Iterable[bytes], *, mode: int = FILE_MODE, durable: bool = True,
    like: os.stat_result | None = None,
) -> None:
    """Replace ``path`` with ``chunks`` atomically and (unless ``durable`` is
    False, for caches) durably. See :func:`atomic_writer`."""
    with atomic_writer(path, mode=mode, durable=durable, like=like) as f:
        for chunk in chunks:
            f.write(chunk)


@contextlib.contextmanager
def atomic_writer(
    path: Path, *, mode: int = FILE_MODE, durable: bool = True, sync_dir: bool = True,
    like: os.stat_result | None = None,
) -> Iterator[BinaryIO]:
    """A file object whose content replaces ``path`` atomically on success.

    The temp file is in the same directory, its name starts with ``.`` and
    ends with ``.tmp`` (no reader takes it for a session or the index, and
    two writers never share one); on success it is flushed, fsync'd, renamed
    over ``path`` and the directory fsync'd; on any error it is removed and
    ``path`` is untouched. ``durable=False`` skips
    the fsyncs (caches); ``sync_dir=False`` skips only the directory's (a
    batch of exports syncs their directory once at the end). ``like``: the
    replaced file's stat; the new file gets its mode and, when this process
    may give files away (root), its owner.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, mode)
    try:
        with os.fdopen(fd, "wb", buffering=_CHUNK) as f:
            if like is not None:
                os.fchmod(fd, stat.S_IMODE(like.st_mode))
                if os.geteuid() == 0 and (like.st_uid, like.st_gid) != (0, 0):
                    os.fchown(fd, like.st_uid, like.st_gid)
            yield f
            f.flush()
            if durable:
                _fsync(f.fileno())
        _replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    if durable and sync_dir:
        fsync_dir(path.parent)


def durable_append(path: Path, data: bytes, *, create: bool = True) -> bool:
    """Append ``data`` (whole lines) to ``path``, repairing a torn tail first.

    The caller holds the file's ``.flock``. Returns True if the file was
    created by this call.
    """
    flags = os.O_WRONLY | os.O_APPEND | os.O_CLOEXEC | os.O_NOFOLLOW
    created = False
    if create:
        try:
            fd = os.open(path, flags | os.O_CREAT | os.O_EXCL, FILE_MODE)
            created = True
        except FileExistsError:
            fd = os.open(path, flags)
    else:
        fd = os.open(path, flags)
    try:
        size = os.fstat(fd).st_size
        if size:
            rfd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
            try:
                last = os.pread(rfd, 1, size - 1)
            finally:
                os.close(rfd)
            if last != b"\n":
                data = b"\n" + data  # end the torn line; it is skipped on read
        _write_all(fd, data)
        _fsync(fd)
    finally:
        os.close(fd)
    if created:
        fsync_dir(path.parent)
    return created


def create_exclusive(path: Path, data: bytes) -> bool:
    """Create ``path`` holding ``data`` unless it exists (``O_EXCL``, never
    check-then-truncate); True if this call created it."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, FILE_MODE)
    except FileExistsError:
        return False
    try:
        _write_all(fd, data)
        _fsync(fd)
    except BaseException:
        os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(path)
        raise
    os.close(fd)
    fsync_dir(path.parent)
    return True


def open_regular(path: Path) -> BinaryIO:
    """Open a session file for reading, refusing symlinks and non-files.

    Raises ``FileNotFoundError`` when absent and ``IsADirectoryError`` /
    ``OSError`` for anything that is not a regular file of the store.
    """
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise IsADirectoryError(21, "not a regular file", str(path))
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb", buffering=_CHUNK)
    except BaseException:
        os.close(fd)
        raise
