"""Cross-process locks, exactly as ggcode v1.3.2xx takes them (SPEC §6).

The only module that calls ``flock``. Three kinds of lock file:

* ``<id>.lock`` -- held (non-blocking ``LOCK_EX``) while a process has the
  session open; holds the holder's PID in decimal, no newline. Released by
  unlinking while still holding, then unlocking.
* ``<id>.jsonl.flock`` -- blocking ``LOCK_EX`` around every append to and
  every rewrite of ``<id>.jsonl``. Never removed.
* ``index.json.flock`` -- blocking ``LOCK_EX`` around every
  read-modify-write of ``index.json``.

Order, to rule out deadlock: ``<id>.lock`` before ``<id>.jsonl.flock``
before ``index.json.flock``. flock belongs to an open file, so two opens in
one process would block each other: this module keeps one registry of the
locks its own process holds and makes them re-entrant.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from ..errors import SessionLocked, StoreIOError

__all__ = [
    "SessionLockHandle",
    "acquire_session_lock",
    "file_lock",
    "holds_session_lock",
    "read_pid",
]

_POLL = 0.02
_registry_guard = threading.Lock()
# path -> [fd, depth] of the .flock files this process holds
_held: dict[str, list[int]] = {}
_thread_guard: dict[str, threading.RLock] = {}


def dir_key(directory: Path) -> str | None:
    """A directory's identity for :func:`_key`, to compute once for many
    locks in it (``None`` when it cannot be stat'ed)."""
    try:
        st = os.stat(directory)
    except OSError:
        return None
    return f"{st.st_dev}:{st.st_ino}"


#: Lock file paths: a Path, or a str (cleanup's hot loop builds strings).
StrPath = str | Path


def _key(path: StrPath, directory: str | None = None) -> str:
    """The identity of a lock file for this process's registries: its name
    in its directory's (device, inode), so two spellings of one store
    (relative, absolute, through a symlink) name the same lock.
    ``directory``: the directory's :func:`dir_key`, if known."""
    name = os.fspath(path)
    directory = directory or dir_key(Path(os.path.dirname(name) or "."))
    if directory is None:
        return os.path.abspath(name)
    return f"{directory}/{os.path.basename(name)}"


def read_pid(path: StrPath) -> int | None:
    """The PID written in a lock file (first 16 bytes), or ``None``."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
    except OSError:
        return None
    try:
        data = os.read(fd, 16)
    except OSError:
        return None
    finally:
        os.close(fd)
    text = data.decode("ascii", "replace")
    return int(text) if text.isdigit() and int(text) > 0 else None


def _flock(fd: int, op: int) -> bool:
    """flock; False on contention. Other errors are retried three times
    with a short backoff, then raised: never go on unlocked (fail closed)."""
    for attempt in range(3):
        try:
            fcntl.flock(fd, op)
            return True
        except BlockingIOError:
            return False
        except OSError as err:
            if err.errno in (errno.EAGAIN, errno.EACCES):
                return False
            if attempt == 2:
                raise
            time.sleep(0.01 * (1 << attempt))
    return False  # pragma: no cover


#: Called once with a one-line message when a wait for a lock passes
#: :data:`NOTICE_AFTER` seconds (SPEC §8.5); the command line sets it to
#: print on stderr, a library user may set it (see :func:`on_wait`).
_wait_notice: Callable[[str], object] | None = None
NOTICE_AFTER = 1.0


def on_wait(notice: Callable[[str], object] | None) -> None:
    """Have ``notice(message)`` called when a lock wait passes a second."""
    global _wait_notice
    _wait_notice = notice


class _Waiting:
    """Announces a wait on ``what`` once it has lasted :data:`NOTICE_AFTER`."""

    def __init__(self, what: str, since: float | None = None) -> None:
        self._what = what
        self.since = time.monotonic() if since is None else since
        self._said = False

    def tick(self, pid: int | None = None) -> None:
        if self._said or _wait_notice is None:
            return
        if time.monotonic() - self.since >= NOTICE_AFTER:
            self._said = True
            holder = f"process {pid}" if pid else "another process"
            _wait_notice(f"waiting for {self._what} (held by {holder})")


def _thread_lock(key: str) -> threading.RLock:
    with _registry_guard:
        lk = _thread_guard.get(key)
        if lk is None:
            lk = _thread_guard[key] = threading.RLock()
        return lk


@contextlib.contextmanager
def file_lock(
    path: StrPath, *, timeout: float | None = 30.0, session_id: str = "",
    what: str = "being written",
    directory: str | None = None,
) -> Iterator[bool]:
    """Hold the ``.flock`` side file ``path`` exclusively.

    ``timeout=None`` waits forever; ``timeout=0`` tries once and yields
    False when busy (read commands never wait on ``index.json.flock``).
    Otherwise raises :class:`SessionLocked` when the time is up.
    ``directory``: the :func:`dir_key` of ``path``'s directory, if known.
    """
    key = _key(path, directory)
    tlock = _thread_lock(key)
    # The clock is read only once there is a wait: the uncontended path
    # (every removal of a cleanup) makes no clock read and no _Waiting.
    started: float | None = None
    if tlock.acquire(blocking=False):
        got_thread = True
    elif timeout == 0:
        got_thread = False
    else:  # another thread of this process holds it: that wait counts too
        started = time.monotonic()
        got_thread = tlock.acquire(timeout=-1 if timeout is None else max(timeout, 0.0))
    deadline: float | None = None
    if not got_thread:
        if timeout == 0:
            yield False
            return
        raise SessionLocked(session_id or os.path.basename(path), None, what)
    try:
        with _registry_guard:
            entry = _held.get(key)
            if entry is not None:
                entry[1] += 1
        if entry is not None:  # re-entered by this thread
            try:
                yield True
            finally:
                with _registry_guard:
                    entry[1] -= 1
            return
        try:
            fd = os.open(path, os.O_CREAT | os.O_RDWR | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
        except OSError as err:
            raise StoreIOError.wrap("open lock file", err) from err
        waiting: _Waiting | None = None  # made on the first contention only
        try:
            while True:
                try:
                    got = _flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError as err:
                    raise StoreIOError.wrap("lock", err) from err
                if got:
                    break
                if timeout == 0:
                    os.close(fd)
                    fd = -1
                    yield False
                    return
                if waiting is None:
                    waiting = _Waiting(os.path.basename(path), started)
                    if timeout is not None:
                        deadline = waiting.since + timeout
                if deadline is not None and time.monotonic() >= deadline:
                    raise SessionLocked(session_id or os.path.basename(path), None, what)
                waiting.tick()
                time.sleep(_POLL)
            with _registry_guard:
                _held[key] = [fd, 1]
            try:
                yield True
            finally:
                with _registry_guard:
                    _held.pop(key, None)
                with contextlib.suppress(OSError):
                    fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            if fd >= 0:
                os.close(fd)
    finally:
        tlock.release()


class SessionLockHandle:
    """A held ``<id>.lock``; :meth:`release` unlinks it while still holding."""

    def __init__(self, path: StrPath, fd: int, key: str) -> None:
        self.path = path
        self._fd = fd
        self._key = key
        self.depth = 1

    @property
    def held(self) -> bool:
        return self._fd >= 0

    def release(self) -> None:
        """Drop one level; the last one unlinks the file, then unlocks."""
        with _registry_guard:
            self.depth -= 1
            if self.depth > 0 or self._fd < 0:
                return
            _sessions.pop(self._key, None)
            fd, self._fd = self._fd, -1
        # Unlink while holding: a contender that opened the old inode then
        # sees a different inode at the path and retries (SPEC §6).
        with contextlib.suppress(OSError):
            os.unlink(self.path)
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)

    def __enter__(self) -> SessionLockHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


_sessions: dict[str, SessionLockHandle] = {}


def _try_session_lock(path: StrPath) -> tuple[int | None, int | None]:
    """One non-blocking attempt: (fd, None) when acquired, (None, pid) when held."""
    open_flags = os.O_CREAT | os.O_RDWR | os.O_CLOEXEC | os.O_NOFOLLOW  # never O_TRUNC
    fd = os.open(path, open_flags, 0o600)
    try:
        for _ in range(3):
            if not _flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB):
                return None, read_pid(path)
            # The holder may have unlinked this inode between our open and
            # our flock: only a lock on the inode the path names counts.
            held_st = os.fstat(fd)
            try:
                same = os.path.samestat(held_st, os.stat(path, follow_symlinks=False))
            except FileNotFoundError:
                same = False
            if same:
                if held_st.st_size:  # a new lock file is empty: nothing to cut
                    os.ftruncate(fd, 0)
                # Not fsync'd (SPEC §8.5): other processes see it without,
                # and after a crash the flock is gone anyway.
                os.pwrite(fd, str(os.getpid()).encode(), 0)
                held, fd = fd, -1  # handed to the caller, not closed below
                return held, None
            fcntl.flock(fd, fcntl.LOCK_UN)
            old, fd = fd, -1
            os.close(old)
            fd = os.open(path, open_flags, 0o600)
        raise OSError(errno.EAGAIN, "lock file kept changing under us", str(path))  # fail closed
    finally:
        # Every path but success (contention, a flock/stat/write error, the
        # fail-closed exit) closes the descriptor: closing drops a lock we
        # may hold on it, and nothing leaks.
        if fd >= 0:
            os.close(fd)


def acquire_session_lock(
    path: StrPath, session_id: str, *, timeout: float = 0.0, directory: str | None = None
) -> SessionLockHandle:
    """Take ``<id>.lock`` (re-entrant within this process).

    Retries until ``timeout`` seconds pass, then raises
    :class:`SessionLocked` naming the holder's PID (``None`` if it had not
    written it yet). ``directory``: as for :func:`file_lock`.
    """
    key = _key(path, directory)
    with _registry_guard:
        handle = _sessions.get(key)
        if handle is not None and handle.held:
            handle.depth += 1
            return handle
    waiting: _Waiting | None = None  # made on the first contention only
    while True:
        try:
            fd, pid = _try_session_lock(path)
        except OSError as err:
            raise StoreIOError.wrap("lock session", err) from err
        if fd is not None:
            handle = SessionLockHandle(path, fd, key)
            with _registry_guard:
                _sessions[key] = handle
            return handle
        if timeout <= 0:
            raise SessionLocked(session_id, pid)
        if waiting is None:
            waiting = _Waiting(os.path.basename(path))
        if time.monotonic() >= waiting.since + timeout:
            raise SessionLocked(session_id, pid)
        waiting.tick(pid)
        time.sleep(_POLL)


def holds_session_lock(path: StrPath) -> bool:
    """True when this process holds ``path`` (an ``<id>.lock``)."""
    with _registry_guard:
        h = _sessions.get(_key(path))
        return h is not None and h.held
