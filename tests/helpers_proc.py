"""Child-process side of the concurrency, crash and lock tests.

Two halves:

* run as a script (``python helpers_proc.py COMMAND '<json params>'``) it is
  one of the actors of a test: an appender, a lister, a saver, or a raw
  "agent" that takes the lock files with ``fcntl.flock`` exactly as ggcode
  v1.3.2xx's Go code does (SPEC §6, research notes B.1) -- without going
  through sessionctl, so the two implementations are checked against each
  other;
* imported by the tests it provides :class:`Procs` (spawn children with an
  explicit environment, read their output with timeouts, kill them all at
  teardown) and a few readers of raw store files.

Children never read anything outside the directories they are given; the
parent passes ``SESSIONCTL_CACHE_DIR`` explicitly.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import queue
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve()
EXIT_INJECTED = 77  # exit status of a child killed by an injected crash


# =============================================================================
# Parent side
# =============================================================================


def child_env(cache_dir: Path | None = None, **extra: str | None) -> dict[str, str]:
    """The one environment of every child process of the tests (helpers
    and ``python -m sessionctl``): the test's environment (conftest points
    HOME and the cache at tmp dirs), no ``SESSIONCTL_DIR``/``_DEBUG``/
    ``_RESUME_COMMAND``, the tested package first on ``PYTHONPATH``;
    ``cache_dir`` sets ``SESSIONCTL_CACHE_DIR``; in ``extra``, ``None``
    removes a variable."""
    import sessionctl

    package_root = Path(sessionctl.__file__).resolve().parent.parent
    env = dict(os.environ)
    for key in ("SESSIONCTL_DIR", "SESSIONCTL_DEBUG", "SESSIONCTL_RESUME_COMMAND"):
        env.pop(key, None)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(package_root), env.get("PYTHONPATH", "")) if p)
    if cache_dir is not None:
        env["SESSIONCTL_CACHE_DIR"] = str(cache_dir)
    for key, value in extra.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


class Child:
    """One running helper; its stdout is read line by line by a thread."""

    def __init__(self, popen: subprocess.Popen[str], name: str) -> None:
        self.p = popen
        self.name = name
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.all_lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.p.stdout is not None
        for line in self.p.stdout:
            if line.endswith("\n"):  # a line cut by SIGKILL is not a report
                self.all_lines.append(line[:-1])
                self.lines.put(line[:-1])
        self.lines.put(None)

    @property
    def pid(self) -> int:
        return self.p.pid

    def readline(self, timeout: float = 20.0) -> str:
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"{self.name}: no output within {timeout}s") from None
        if line is None:
            self.lines.put(None)
            raise AssertionError(f"{self.name}: exited ({self.p.poll()}): {self.stderr_text()}")
        return line

    def expect(self, prefix: str, timeout: float = 20.0) -> str:
        line = self.readline(timeout)
        assert line.startswith(prefix), f"{self.name}: expected {prefix!r}, got {line!r}"
        return line

    def send(self, line: str) -> None:
        assert self.p.stdin is not None
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()

    def wait(self, timeout: float = 60.0) -> int:
        rc = self.p.wait(timeout=timeout)
        self._reader.join(timeout=10)
        return rc

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.p.send_signal(signal.SIGKILL)
        self.wait(timeout=10)

    def stderr_text(self) -> str:
        if self.p.poll() is None or self.p.stderr is None:
            return ""
        with contextlib.suppress(Exception):
            return self.p.stderr.read()[-4000:]
        return ""

    def finish(self, timeout: float = 60.0) -> list[str]:
        """Wait for a normal exit; its complete output lines."""
        rc = self.wait(timeout)
        assert rc == 0, f"{self.name} exited {rc}: {self.stderr_text()}"
        return list(self.all_lines)


class Procs:
    """Spawns helper children; kills whatever is still running at the end."""

    def __init__(self, cache_dir: Path | None) -> None:
        self.env = child_env(cache_dir)
        self.children: list[Child] = []

    def spawn(self, command: str, name: str | None = None, **params: Any) -> Child:
        p = subprocess.Popen(
            [sys.executable, str(HERE), command, json.dumps(params)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, bufsize=1, env=self.env, start_new_session=True,
        )
        child = Child(p, name or command)
        self.children.append(child)
        return child

    def close(self) -> None:
        for c in self.children:
            if c.p.poll() is None:
                c.kill()
            for stream in (c.p.stdin, c.p.stdout, c.p.stderr):
                with contextlib.suppress(Exception):
                    if stream is not None:
                        stream.close()


class Agent:
    """A raw agent child (``cmd_agent``) holding one lock file."""

    def __init__(self, procs: Procs, path: Path, kind: str, **kw: Any) -> None:
        self.child = procs.spawn("agent", f"agent:{path.name}", path=str(path), kind=kind, **kw)
        line = self.child.readline(timeout=30)
        self.held = line.startswith("held")
        self.pid = int(line.split()[1])

    def release(self) -> float:
        self.child.send("release")
        t = float(self.child.expect("released", timeout=10).split()[1])
        self.child.send("exit")
        self.child.wait(timeout=10)
        return t


@contextlib.contextmanager
def agent_holding(path: Path) -> Iterator[int]:
    """Another process holds ``path`` (an ``<id>.lock``) the way an agent
    does (``GoSessionLock``: flock, its PID written without a newline);
    yields the PID. On exit it lets go as a crashed agent would: the file
    stays behind, unheld."""
    procs = Procs(None)
    try:
        agent = Agent(procs, path, "session", unlink=False)
        assert agent.held, f"{path.name} busy (pid {agent.pid})"
        yield agent.pid
        agent.release()
    finally:
        procs.close()


def read_lines(path: Path) -> list[bytes]:
    """The raw lines of a file, each with its newline (the last may lack it)."""
    return path.read_bytes().splitlines(keepends=True)


def parse_all(path: Path) -> list[dict[str, Any]]:
    """Every line of a session file, each required to be a complete JSON object."""
    out = []
    data = path.read_bytes()
    assert data == b"" or data.endswith(b"\n"), f"{path.name}: last line has no newline"
    for n, line in enumerate(data.splitlines(), 1):
        try:
            rec = json.loads(line)
        except ValueError:
            raise AssertionError(f"{path.name}:{n}: torn or glued line {line[:120]!r}") from None
        assert isinstance(rec, dict), f"{path.name}:{n}: not an object"
        out.append(rec)
    return out


def message_texts(records: list[dict[str, Any]]) -> list[str]:
    """The first text of every message record, in file order."""
    out = []
    for r in records:
        if r.get("type") == "message":
            out.append(r["message"]["content"][0]["text"])
    return out


def tag_of(text: str) -> str:
    """``"p3:17:xxxx..."`` -> ``"p3:17"``."""
    a, b, _ = text.split(":", 2)
    return f"{a}:{b}"


# =============================================================================
# Child side
# =============================================================================


def _pad(rng: random.Random, big: int = 9000) -> str:
    r = rng.random()
    if r < 0.5:
        n = rng.randint(10, 300)
    elif r < 0.8:
        n = rng.randint(1000, 4000)
    else:
        n = rng.randint(4097, big)  # more than PIPE_BUF in one record
    return "x" * n


def _wait_go(p: dict[str, Any]) -> None:
    go = p.get("go")
    if not go:
        return
    deadline = time.monotonic() + 30
    while not os.path.exists(go):
        if time.monotonic() > deadline:
            raise SystemExit("no go signal")
        time.sleep(0.002)


def _out(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def cmd_append_many(p: dict[str, Any]) -> None:
    """Append ``n`` messages ``<tag>:<i>:<padding>`` to one session."""
    from sessionctl import JSONLStore
    from sessionctl.core.models import Message
    from sessionctl.core.session import Session

    store = JSONLStore(p["dir"])
    ses = Session(p["sid"])
    rng = random.Random(p.get("seed", 0))
    _wait_go(p)
    for i in range(p["n"]):
        role = "user" if i % 3 == 0 else "assistant"
        msg = Message.text_message(role, f"{p['tag']}:{i}:{_pad(rng, p.get('big', 9000))}")
        store.append_message_to_disk(ses, msg)
    _out(f"done {p['n']}")


def cmd_append_timed(p: dict[str, Any]) -> None:
    """Like append_many, reporting ``<tag>:<i> <start> <end>`` (CLOCK_MONOTONIC)."""
    from sessionctl import JSONLStore
    from sessionctl.core.models import Message
    from sessionctl.core.session import Session

    store = JSONLStore(p["dir"])
    ses = Session(p["sid"])
    rng = random.Random(p.get("seed", 0))
    _wait_go(p)
    for i in range(p["n"]):
        msg = Message.text_message("user", f"{p['tag']}:{i}:{_pad(rng, 6000)}")
        t0 = time.monotonic()
        store.append_message_to_disk(ses, msg)
        t1 = time.monotonic()
        _out(f"{p['tag']}:{i} {t0!r} {t1!r}")
        if p.get("sleep"):
            time.sleep(rng.random() * p["sleep"])
    _out("done")


def _check_raw(path: Path) -> str | None:
    """Every complete line of the file parses; a problem, else None."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return "file missing"
    lines = data.split(b"\n")
    for n, line in enumerate(lines[:-1], 1):  # the last piece may be an append in progress
        try:
            rec = json.loads(line)
        except ValueError:
            return f"line {n} does not parse: {line[:80]!r}"
        if not isinstance(rec, dict):
            return f"line {n} is not an object"
    if not data.startswith(b'{"type":"meta"'):
        return f"file does not start with its meta record: {data[:60]!r}"
    return None


def cmd_load_save_loop(p: dict[str, Any]) -> None:
    """Load and save one session until ``stop`` exists, checking the raw file
    between saves; reports ``save <load-start> <save-end> <messages>``."""
    from sessionctl import JSONLStore

    store = JSONLStore(p["dir"])
    path = Path(p["dir"]) / f"{p['sid']}.jsonl"
    _wait_go(p)
    deadline = time.monotonic() + p.get("max_seconds", 30)
    n = 0
    while not os.path.exists(p["stop"]) and time.monotonic() < deadline:
        problem = _check_raw(path)
        if problem:
            _out(f"bad {problem}")
        t0 = time.monotonic()
        ses = store.load(p["sid"])
        store.save(ses)
        t1 = time.monotonic()
        _out(f"save {t0!r} {t1!r} {len(ses.messages)}")
        problem = _check_raw(path)
        if problem:
            _out(f"bad {problem}")
        n += 1
        time.sleep(0.003)
    _out(f"done {n}")


def cmd_lister(p: dict[str, Any]) -> None:
    """list() and cleanup_older_than(now - 1 day) in a loop until ``stop``."""
    from datetime import datetime, timedelta, timezone

    from sessionctl import JSONLStore
    from sessionctl.errors import SessionError

    store = JSONLStore(p["dir"])
    _wait_go(p)
    deadline = time.monotonic() + p.get("max_seconds", 60)
    iters = removed = 0
    errors: list[str] = []
    skipped: list[Any] = []
    seen: set[str] = set()
    while not os.path.exists(p["stop"]) and time.monotonic() < deadline:
        try:
            listing = store.listing(include_hidden=True)
            seen.update(i.id for i in listing.sessions)
            skipped.extend(listing.skipped)
            if p.get("cleanup", True):
                removed += store.cleanup_older_than(
                    datetime.now(timezone.utc) - timedelta(days=1))
        except SessionError as err:
            errors.append(f"{type(err).__name__}: {err}")
        iters += 1
    _out(json.dumps({"iters": iters, "removed": removed, "errors": errors[:20],
                     "skipped": skipped[:20], "seen": sorted(seen)}))


def cmd_index_worker(p: dict[str, Any]) -> None:
    """Create sessions (save or ensure_meta) and delete some of them again."""
    from sessionctl import JSONLStore
    from sessionctl.core.models import Message
    from sessionctl.core.session import Session

    store = JSONLStore(p["dir"])
    rng = random.Random(p.get("seed", 0))
    _wait_go(p)
    alive: list[str] = []
    created: list[str] = []
    deleted: list[str] = []
    for i in range(p["n"]):
        sid = f"{p['prefix']}-{i:03d}"
        ses = Session(sid, title=f"session {sid}")
        ses.messages.append(Message.text_message("user", f"hello from {sid}"))
        if i % 2:
            store.save(ses)
        else:
            store.ensure_meta(ses)
        created.append(sid)
        alive.append(sid)
        if rng.random() < p.get("delete_ratio", 0.4) and len(alive) > 1:
            victim = alive.pop(rng.randrange(len(alive)))
            store.delete(victim)
            deleted.append(victim)
    _out(json.dumps({"created": created, "deleted": deleted}))


def cmd_append_report(p: dict[str, Any]) -> None:
    """Append forever (bounded), printing each id once its append returned."""
    from sessionctl import JSONLStore
    from sessionctl.core.models import Message
    from sessionctl.core.session import Session

    if p.get("chunked"):
        _chunked_writes()
    store = JSONLStore(p["dir"])
    ses = Session(p["sid"])
    rng = random.Random(p.get("seed"))
    for i in range(p.get("max", 20000)):
        r = rng.random()
        size = rng.randint(50, 3000) if r < 0.6 else rng.randint(20_000, p.get("big", 400_000))
        msg = Message.text_message("user" if i % 2 == 0 else "assistant", f"r{i}:" + "y" * size)
        store.append_message_to_disk(ses, msg)
        _out(msg.id)


def _chunked_writes(chunk: int = 8192, pause: float = 0.0003) -> None:
    """Make fsio write in small pieces with pauses: the kernel may split any
    write like this; here a SIGKILL lands between two pieces often, so the
    kill tests see many torn tails."""
    from sessionctl.storage import fsio

    def write_all(fd: int, data: Any) -> None:
        view = memoryview(data)
        while view:
            n = os.write(fd, view[:chunk])
            view = view[n:]
            if view:
                time.sleep(pause)

    fsio._write_all = write_all  # type: ignore[assignment]


def _install_crash(p: dict[str, Any]) -> None:
    """Make the ``at``-th matching fsio call end the process abruptly.

    ``where``: ``fsync_file`` (fsync of the temp file of ``target``, before
    the rename), ``replace_before`` / ``replace_after`` (around the rename to
    ``target``), ``fsync_dir`` (the directory fsync after that rename).
    """
    from sessionctl.storage import fsio

    where, target, at = p["where"], p["target"], p.get("at", 1)
    real_fsync, real_replace = fsio._fsync, fsio._replace
    state = {"renamed": False, "hits": 0}

    def hit() -> bool:
        state["hits"] += 1
        return state["hits"] >= at

    def fsync(fd: int) -> None:
        try:
            name = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            name = ""
        base = os.path.basename(name)
        mine = base.startswith(f".{target}.") and base.endswith(".tmp")
        if where == "fsync_file" and mine and hit():
            os._exit(EXIT_INJECTED)
        if where == "fsync_dir" and state["renamed"] and os.path.isdir(name):
            state["renamed"] = False
            if hit():
                os._exit(EXIT_INJECTED)
        real_fsync(fd)

    def replace(src: Any, dst: Any) -> None:
        mine = os.path.basename(os.fspath(dst)) == target
        if mine and where == "replace_before" and hit():
            os._exit(EXIT_INJECTED)
        real_replace(src, dst)
        if mine:
            state["renamed"] = True
            if where == "replace_after" and hit():
                os._exit(EXIT_INJECTED)

    fsio._fsync = fsync  # type: ignore[assignment]
    fsio._replace = replace  # type: ignore[assignment]


def cmd_save_loop(p: dict[str, Any]) -> None:
    """Load a session, then add message ``m<k>`` and save, ``n`` times."""
    from sessionctl import JSONLStore
    from sessionctl.core.models import Message

    if p.get("crash"):
        _install_crash(p["crash"])
    store = JSONLStore(p["dir"])
    ses = store.load(p["sid"])
    pad = "z" * p.get("pad", 2000)
    _out("loaded")
    for _ in range(p.get("n", 100000)):
        k = len(ses.messages)
        ses.messages.append(Message.text_message("user" if k % 2 == 0 else "assistant",
                                                 f"m{k}:{pad}"))
        store.save(ses)
        _out(f"saved {k + 1}")


def cmd_cleanup(p: dict[str, Any]) -> None:
    """One cleanup with a cutoff in the future (every session is due)."""
    from datetime import datetime, timedelta, timezone

    from sessionctl import JSONLStore

    if p.get("crash"):
        _install_crash(p["crash"])
    store = JSONLStore(p["dir"])
    _out("start")
    report = store.cleanup(before=datetime.now(timezone.utc) + timedelta(days=1))
    _out(json.dumps(report.to_dict()))


def cmd_lock_race(p: dict[str, Any]) -> None:
    """Take and release ``<sid>.lock`` ``n`` times, through sessionctl or as
    the Go agent does, checking mutual exclusion and the inode every time."""
    from sessionctl import JSONLStore
    from sessionctl.errors import SessionLocked

    store = JSONLStore(p["dir"])
    path = Path(p["dir"]) / f"{p['sid']}.lock"
    marker = Path(p["dir"]) / "critical-section"
    rng = random.Random(p.get("seed"))
    _wait_go(p)
    violations: list[str] = []
    done = busy = 0
    deadline = time.monotonic() + p.get("max_seconds", 20)
    while done < p["n"] and time.monotonic() < deadline:
        if p["impl"] == "sessionctl":
            try:
                handle = store.lock(p["sid"], timeout=0.0)
                ctx = handle.__enter__()
            except SessionLocked:
                busy += 1
                time.sleep(rng.random() * 0.001)
                continue
            fd = ctx._fd
            release = lambda c=handle: c.__exit__(None, None, None)  # noqa: E731
        else:
            agent = GoSessionLock(path)
            if not agent.try_acquire():
                busy += 1
                time.sleep(rng.random() * 0.001)
                continue
            assert agent.fd is not None
            fd = agent.fd
            release = agent.release
        try:
            st_fd, st_path = os.fstat(fd), os.stat(path)
            if (st_fd.st_dev, st_fd.st_ino) != (st_path.st_dev, st_path.st_ino):
                violations.append("held inode is not the one the path names")
            if st_fd.st_nlink == 0:
                violations.append("holding an unlinked inode")
        except FileNotFoundError:
            violations.append("lock file missing while held")
        try:
            mfd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
            os.close(mfd)
        except FileExistsError:
            violations.append("two holders at once")
            mfd = -1
        if rng.random() < 0.3:
            time.sleep(rng.random() * 0.0005)
        if mfd >= 0:
            os.unlink(marker)
        release()
        done += 1
    _out(json.dumps({"done": done, "busy": busy, "violations": violations[:20]}))


# -- the raw agent: ggcode v1.3.2xx's lock code, transcribed ------------------


class GoSessionLock:
    """``TryAcquireSessionLock`` / ``Release`` of lock_unix.go, line by line."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd: int | None = None
        self.holder_pid = 0

    def _read_pid(self) -> int:
        try:
            data = self.path.read_bytes()
        except OSError:
            return 0
        try:
            return int(data[:16].decode("ascii"), 10) if data else 0
        except ValueError:
            return 0

    def try_acquire(self, write_pid: bool = True) -> bool:
        flags = os.O_CREAT | os.O_RDWR | os.O_CLOEXEC
        fd = os.open(self.path, flags, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self.holder_pid = self._read_pid()
            os.close(fd)
            return False
        for _ in range(3):
            try:
                same = os.path.samestat(os.fstat(fd), os.stat(self.path))
            except FileNotFoundError:
                same = False
            if same:
                break
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
            fd = os.open(self.path, flags, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                self.holder_pid = self._read_pid()
                os.close(fd)
                return False
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(self.path))
        except FileNotFoundError:
            same = False
        if not same:
            os.close(fd)
            raise OSError(errno.EAGAIN, "unlink race persisted after retries")
        if write_pid:
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
            os.write(fd, str(os.getpid()).encode())
            os.fsync(fd)
        self.fd = fd
        return True

    def release(self) -> None:
        if self.fd is None:
            return
        with contextlib.suppress(FileNotFoundError):
            os.remove(self.path)  # remove WHILE locked
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)
        self.fd = None


def _go_flock(path: Path) -> int:
    """``lockIndexFile`` / ``lockSessionFile``: blocking LOCK_EX on a sidecar."""
    fd = os.open(path, os.O_CREAT | os.O_RDWR | os.O_CLOEXEC, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def cmd_agent(p: dict[str, Any]) -> None:
    """A raw agent holding one lock until told ``release`` on stdin.

    ``kind``: ``session`` (``<id>.lock`` via TryAcquireSessionLock, PID
    written unless ``write_pid`` is false) or ``flock`` (a blocking sidecar
    lock such as ``index.json.flock`` or ``<id>.jsonl.flock``).
    Prints ``held <pid>`` / ``busy <holder pid>``, then ``released <t>``
    (CLOCK_MONOTONIC taken just before the unlock).
    """
    path = Path(p["path"])
    if p["kind"] == "session":
        lock = GoSessionLock(path)
        if not lock.try_acquire(write_pid=p.get("write_pid", True)):
            _out(f"busy {lock.holder_pid}")
            return
        _out(f"held {os.getpid()}")
        for line in sys.stdin:
            if line.strip() == "release":
                break
        # Taken before the unlock, as for the flock kind below: a waiter
        # may get the lock before this process runs again.
        t = time.monotonic()
        if p.get("unlink", True):
            lock.release()
        else:  # a crashed holder: the file stays behind, unheld
            assert lock.fd is not None
            os.close(lock.fd)
        _out(f"released {t!r}")
    else:
        fd = _go_flock(path)
        _out(f"held {os.getpid()}")
        for line in sys.stdin:
            if line.strip() == "release":
                break
        t = time.monotonic()
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
        _out(f"released {t!r}")
    # wait to be told to exit so the parent controls the lifetime
    for line in sys.stdin:
        if line.strip() == "exit":
            break


def cmd_agent_try(p: dict[str, Any]) -> None:
    """One TryAcquireSessionLock: ``acquired`` (then released), or ``busy <pid>``."""
    lock = GoSessionLock(Path(p["path"]))
    if lock.try_acquire():
        lock.release()
        _out("acquired")
    else:
        _out(f"busy {lock.holder_pid}")


COMMANDS = {
    name[4:]: fn for name, fn in list(globals().items()) if name.startswith("cmd_")
}


def main(argv: list[str]) -> int:
    command, params = argv[1], json.loads(argv[2]) if len(argv) > 2 else {}
    COMMANDS[command](params)
    return 0


@contextlib.contextmanager
def go_session_lock(path: Path) -> Iterator[GoSessionLock]:
    """In-process use of the transcribed Go lock (for tests)."""
    lock = GoSessionLock(path)
    if not lock.try_acquire():
        raise AssertionError(f"lock busy (pid {lock.holder_pid})")
    try:
        yield lock
    finally:
        lock.release()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
