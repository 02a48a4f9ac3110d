"""Locks exactly as ggcode v1.3.2xx takes them (SPEC §6 "Locks", "Lessons", §7).

The other side is a raw "agent" process (``helpers_proc.py agent``) that
calls ``fcntl.flock`` directly, transcribed from the Go code: a real agent
must see sessionctl's locks and sessionctl must see the agent's.
"""

from __future__ import annotations

import errno
import json
import os
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

import sessionctl.storage.removal as removal_mod
import sessionctl.storage.store as store_mod
from sessionctl import JSONLStore
from sessionctl.core.models import Message
from sessionctl.core.session import Session
from sessionctl.errors import SessionError, SessionLocked, StoreIOError
from sessionctl.storage import locking
from sessionctl.storage.index import read_index, write_index

try:
    from .builders import write_lines
except ImportError:
    from builders import write_lines

try:
    from . import helpers_proc as hp
except ImportError:
    import helpers_proc as hp

FUTURE = datetime.now(timezone.utc) + timedelta(days=3650)


def _write_session(d: Path, sid: str, text: str = "hello") -> bytes:
    lines = [
        {"type": "meta", "session_id": sid, "title": sid,
         "created_at": "2020-01-01T00:00:00Z", "updated_at": "2020-01-02T00:00:00Z"},
        {"type": "message", "session_id": sid, "timestamp": "2020-01-02T00:00:00Z",
         "message": {"id": f"msg_{sid}", "role": "user",
                     "content": [{"type": "text", "text": text}]}},
    ]
    return write_lines(d / f"{sid}.jsonl", *lines, ensure_ascii=True, mode=None).read_bytes()


@pytest.fixture
def store(tmp_path: Path) -> JSONLStore:
    st = JSONLStore(tmp_path / "store")
    for sid in ("s1", "s2"):
        _write_session(st.dir, sid)
    write_index(st.dir, st.lister.index_entries(None))  # as the agent would
    return st


Agent = hp.Agent


def agent_try(procs: hp.Procs, path: Path) -> str:
    """What a second agent's TryAcquireSessionLock sees: ``acquired`` or ``busy <pid>``."""
    c = procs.spawn("agent_try", path=str(path))
    out = c.finish(timeout=30)
    return out[-1]


def _in_thread(fn: Callable[[], object]) -> tuple[threading.Thread, dict[str, Any]]:
    res: dict[str, Any] = {}

    def run() -> None:
        try:
            res["value"] = fn()
        except BaseException as err:
            res["error"] = err
        res["end"] = time.monotonic()

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, res


# -- (a) and (h): an agent holds <id>.lock -------------------------------------


def test_agent_held_session_is_never_removed(store: JSONLStore, procs: hp.Procs) -> None:
    lock_path = store.dir / "s1.lock"
    agent = Agent(procs, lock_path, "session")
    assert agent.held and agent.pid == agent.child.pid
    assert lock_path.read_bytes() == str(agent.pid).encode()  # decimal, no newline

    with pytest.raises(SessionLocked) as ei:
        store.delete("s1")
    assert ei.value.pid == agent.pid and str(agent.pid) in str(ei.value)
    assert (store.dir / "s1.jsonl").exists()

    # all or nothing: s2 is not removed either
    with pytest.raises(SessionLocked):
        store.delete_many(["s2", "s1"])
    assert (store.dir / "s2.jsonl").exists()

    report = store.cleanup(before=FUTURE)
    assert report.removed == ["s2"]
    assert [sid for sid, _ in report.skipped] == ["s1"]
    reason = report.skipped[0][1]
    assert "in use" in reason and str(agent.pid) in reason
    assert report.to_dict()["skipped"] == [{"id": "s1", "reason": reason}]
    assert store.cleanup_older_than(FUTURE) == 0
    assert (store.dir / "s1.jsonl").exists()

    t0 = time.monotonic()
    with pytest.raises(SessionLocked) as ei, store.lock("s1", timeout=0.2):
        pass
    assert time.monotonic() - t0 >= 0.2
    assert ei.value.pid == agent.pid

    # (h) no contender truncated the holder's file
    assert lock_path.read_bytes() == str(agent.pid).encode()
    assert agent_try(procs, lock_path) == f"busy {agent.pid}"
    index = read_index(store.dir)
    assert index is not None and set(index) == {"s1"}

    agent.release()
    assert not lock_path.exists()
    store.delete("s1")
    assert store.ids() == []


def test_holder_without_pid_yet(store: JSONLStore, procs: hp.Procs) -> None:
    """The holder writes its PID only after the inode check: a SessionLocked
    may carry an unknown PID, and the empty file stays empty."""
    lock_path = store.dir / "s1.lock"
    agent = Agent(procs, lock_path, "session", write_pid=False)
    assert agent.held
    with pytest.raises(SessionLocked) as ei:
        store.delete("s1")
    assert ei.value.pid is None and "another process" in str(ei.value)
    with pytest.raises(SessionLocked) as ei, store.lock("s1", timeout=0.05):
        pass
    assert ei.value.pid is None
    report = store.cleanup(before=FUTURE)
    assert report.skipped == [("s1", "in use by another process")]
    assert lock_path.read_bytes() == b""
    agent.release()


# -- (b) stale lock files ------------------------------------------------------


@pytest.mark.parametrize("content", [b"", b"999999999", b"1", b"garbage\n", b"12345\n", "own"])
def test_stale_lock_file_is_no_obstacle(store: JSONLStore, content: object) -> None:
    lock_path = store.dir / "s1.lock"
    lock_path.write_bytes(str(os.getpid()).encode() if content == "own" else content)
    store.delete("s1")
    assert not (store.dir / "s1.jsonl").exists()
    assert not lock_path.exists()


def test_stale_lock_of_a_dead_agent(store: JSONLStore, procs: hp.Procs) -> None:
    """An agent that died holding the lock leaves its file (with its PID)
    behind: cleanup and lock() take it over."""
    lock_path = store.dir / "s1.lock"
    agent = Agent(procs, lock_path, "session", unlink=False)
    agent.release()  # closes without unlinking, like a crash
    assert lock_path.read_bytes() == str(agent.pid).encode()
    with store.lock("s1"):
        assert lock_path.read_bytes() == str(os.getpid()).encode()
    assert not lock_path.exists()
    lock_path.write_bytes(str(agent.pid).encode())
    report = store.cleanup(before=FUTURE)
    assert sorted(report.removed) == ["s1", "s2"] and report.skipped == []
    assert not lock_path.exists()


# -- (c) sessionctl's lock as the agent sees it ---------------------------------


def test_agent_sees_our_lock(store: JSONLStore, procs: hp.Procs) -> None:
    lock_path = store.dir / "s1.lock"
    with store.lock("s1") as handle:
        assert handle.held
        assert lock_path.read_bytes() == str(os.getpid()).encode()  # no newline
        assert lock_path.stat().st_mode & 0o777 == 0o600
        assert agent_try(procs, lock_path) == f"busy {os.getpid()}"
        assert lock_path.read_bytes() == str(os.getpid()).encode()
    assert not lock_path.exists()  # release unlinks
    assert agent_try(procs, lock_path) == "acquired"
    assert not lock_path.exists()


def test_our_lock_waits_for_an_agent_within_timeout(store: JSONLStore, procs: hp.Procs) -> None:
    lock_path = store.dir / "s1.lock"
    agent = Agent(procs, lock_path, "session")
    cm = store.lock("s1", timeout=20)  # kept referenced: its exit releases
    t, res = _in_thread(cm.__enter__)
    time.sleep(0.3)
    assert t.is_alive()
    released = agent.release()
    t.join(20)
    assert "error" not in res, res
    assert res["end"] > released
    assert res["value"].held
    assert lock_path.read_bytes() == str(os.getpid()).encode()
    cm.__exit__(None, None, None)
    assert not lock_path.exists()


# -- (d) <id>.jsonl.flock ------------------------------------------------------


def test_append_waits_for_the_agents_data_lock(
    store: JSONLStore, procs: hp.Procs, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = store.dir / "s1.jsonl"
    before = path.read_bytes()
    agent = Agent(procs, store.dir / "s1.jsonl.flock", "flock")
    msg = Message.text_message("assistant", "written after the agent let go")
    t, res = _in_thread(lambda: store.append_message_to_disk(Session("s1"), msg))
    time.sleep(0.4)
    assert t.is_alive(), "append did not wait for <id>.jsonl.flock"
    assert path.read_bytes() == before
    released = agent.release()
    t.join(20)
    assert "error" not in res, res
    assert res["end"] > released
    assert [m.id for m in store.load("s1").messages][-1] == msg.id

    # With a short timeout the append gives up, writing nothing.
    monkeypatch.setattr(store_mod, "LOCK_TIMEOUT", 0.3)  # appends and saves
    monkeypatch.setattr(removal_mod, "LOCK_TIMEOUT", 0.3)  # removals
    agent = Agent(procs, store.dir / "s1.jsonl.flock", "flock")
    before = path.read_bytes()
    t0 = time.monotonic()
    with pytest.raises(SessionLocked):
        store.append_message_to_disk(Session("s1"), Message.text_message("user", "no"))
    assert 0.3 <= time.monotonic() - t0 < 5
    with pytest.raises(SessionLocked):
        store.save(store.load("s1"))
    # delete takes <id>.lock, then waits on the data lock, then gives up
    # without removing anything and without leaving its <id>.lock behind.
    with pytest.raises(SessionLocked):
        store.delete("s1")
    assert path.read_bytes() == before
    assert not (store.dir / "s1.lock").exists()
    agent.release()
    store.delete("s1")
    # <id>.jsonl.flock is never removed (SPEC §7)
    assert (store.dir / "s1.jsonl.flock").exists()
    assert not path.exists() and not (store.dir / "s1.lock").exists()


# -- (e) index.json.flock ------------------------------------------------------


def test_readers_never_wait_on_the_index_lock(store: JSONLStore, procs: hp.Procs) -> None:
    index_path = store.dir / "index.json"
    index_path.unlink()  # stale: list() reads the files, writes nothing back
    agent = Agent(procs, store.dir / "index.json.flock", "flock")
    t0 = time.monotonic()
    listed = [i.id for i in store.list()]
    assert time.monotonic() - t0 < 2
    assert sorted(listed) == ["s1", "s2"]
    assert not index_path.exists(), "list() wrote the index"
    assert store.cleanup(before=FUTURE, dry_run=True).removed
    store.load("s1")
    store.export_markdown("s1")

    t, res = _in_thread(lambda: store.delete("s2"))
    time.sleep(0.4)
    assert t.is_alive(), "delete did not wait for index.json.flock"
    released = agent.release()
    t.join(20)
    assert "error" not in res, res
    assert res["end"] > released
    index = read_index(store.dir)
    assert index is not None and set(index) == {"s1"}


def test_creating_a_session_waits_for_the_index_lock(
    store: JSONLStore, procs: hp.Procs
) -> None:
    agent = Agent(procs, store.dir / "index.json.flock", "flock")
    ses = Session("s3", title="new")
    ses.messages.append(Message.text_message("user", "hi"))
    t, res = _in_thread(lambda: store.save(ses))
    time.sleep(0.3)
    assert t.is_alive()
    released = agent.release()
    t.join(20)
    assert "error" not in res and res["end"] > released
    index = read_index(store.dir)
    assert index is not None and set(index) == {"s1", "s2", "s3"}


# -- (f) re-entrancy -----------------------------------------------------------


def test_delete_inside_own_lock(store: JSONLStore, procs: hp.Procs) -> None:
    lock_path = store.dir / "s1.lock"
    with store.lock("s1"):
        with store.lock("s1"):
            pass
        assert lock_path.exists()  # the inner exit did not release
        assert agent_try(procs, lock_path) == f"busy {os.getpid()}"
        store.delete("s1")
        assert not (store.dir / "s1.jsonl").exists()
        assert agent_try(procs, lock_path) == f"busy {os.getpid()}"
        report = store.cleanup(before=FUTURE)
        assert report.removed == ["s2"] and report.skipped == []
    assert not lock_path.exists()
    assert agent_try(procs, lock_path) == "acquired"


# -- (g) the unlink race ---------------------------------------------------------


def _open_hook(
    monkeypatch: pytest.MonkeyPatch, lock_path: Path, between: Callable[[], None]
) -> list[int]:
    """Run ``between`` right after sessionctl's first open of ``lock_path``
    (before its flock): the window of the unlink race."""
    real_open = os.open
    opened: list[int] = []

    def hooked(path: Any, flags: int, mode: int = 0o777, **kw: Any) -> int:
        fd = real_open(path, flags, mode, **kw)
        if os.fspath(path) == str(lock_path):
            opened.append(os.fstat(fd).st_ino)
            if len(opened) == 1:
                between()
        return fd

    monkeypatch.setattr(locking.os, "open", hooked)
    return opened


def test_unlink_race_release_during_open(
    store: JSONLStore, procs: hp.Procs, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The holder unlinks and unlocks between our open and our flock: our
    flock then succeeds on the dead inode; we must notice and retry."""
    lock_path = store.dir / "s1.lock"
    agent = Agent(procs, lock_path, "session")
    opened = _open_hook(monkeypatch, lock_path, agent.release)
    with store.lock("s1") as handle:
        fd = handle._fd
        st = os.fstat(fd)
        assert st.st_nlink == 1, "holding an unlinked inode"
        assert st.st_ino == lock_path.stat().st_ino
        assert len(opened) >= 2, "the dead inode was not noticed"
        monkeypatch.undo()
        assert agent_try(procs, lock_path) == f"busy {os.getpid()}"
    assert not lock_path.exists()


def test_unlink_race_new_holder_in_between(
    store: JSONLStore, procs: hp.Procs, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between our open and flock the holder releases and a new agent takes
    the (new) file: we must report the new holder, and not touch its PID."""
    lock_path = store.dir / "s1.lock"
    first = Agent(procs, lock_path, "session")
    second: list[Agent] = []

    def swap() -> None:
        first.release()
        second.append(Agent(procs, lock_path, "session"))
        assert second[0].held

    _open_hook(monkeypatch, lock_path, swap)
    with pytest.raises(SessionLocked) as ei, store.lock("s1"):
        pass
    monkeypatch.undo()
    assert ei.value.pid == second[0].pid
    assert lock_path.read_bytes() == str(second[0].pid).encode()
    assert agent_try(procs, lock_path) == f"busy {second[0].pid}"
    second[0].release()


def test_lock_race_stress(tmp_path: Path, procs: hp.Procs) -> None:
    """Two sessionctl processes and one Go-style agent take and release one
    lock as fast as they can: never two holders, never an unlinked inode."""
    d = tmp_path / "store"
    JSONLStore(d)
    go = tmp_path / "go"
    kids = [
        procs.spawn("lock_race", f"race{k}", dir=str(d), sid="race", n=150, seed=k,
                    impl=impl, go=str(go))
        for k, impl in enumerate(["sessionctl", "sessionctl", "go"])
    ]
    go.touch()
    for k in kids:
        r = json.loads(k.finish(timeout=60)[-1])
        assert r["violations"] == [], r
        assert r["done"] == 150, r
    assert not (d / "race.lock").exists()
    assert not (d / "critical-section").exists()


# -- fail closed -----------------------------------------------------------------


def _fd_count() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_flock_errors_fail_closed(store: JSONLStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """A flock call that errors (not contention) is retried three times,
    then the write fails: never written unlocked, no descriptor leaked."""
    calls: list[int] = []

    def broken(fd: int, op: int) -> None:
        calls.append(op)
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(locking.time, "sleep", lambda s: None)
    path = store.dir / "s1.jsonl"
    before = path.read_bytes()
    fds = _fd_count()
    monkeypatch.setattr(locking.fcntl, "flock", broken)
    with pytest.raises(StoreIOError):
        store.append_message_to_disk(Session("s1"), Message.text_message("user", "no"))
    assert len(calls) == 3
    assert path.read_bytes() == before
    with pytest.raises(StoreIOError):
        store.save(store.load("s1"))
    with pytest.raises(SessionError), store.lock("s1"):
        pass
    with pytest.raises(SessionError):
        store.delete("s1")
    report = store.cleanup(before=FUTURE)
    assert report.removed == [] and {sid for sid, _ in report.failed} == {"s1", "s2"}
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert _fd_count() == fds, "a lock file descriptor leaked"
    assert store.ids() == ["s1", "s2"]
    # and the store works again once flock does
    store.delete("s1")
    assert not (store.dir / "s1.lock").exists()


def test_symlinked_lock_files_are_never_followed(tmp_path: Path) -> None:
    """A lock file replaced by a symlink must not make sessionctl truncate
    or write into the file it points to."""
    st = JSONLStore(tmp_path / "store")
    _write_session(st.dir, "s1")
    outside = tmp_path / "precious.txt"
    outside.write_bytes(b"do not touch")
    for name in ("s1.lock", "s1.jsonl.flock", "index.json.flock"):
        (st.dir / name).symlink_to(outside)
    with pytest.raises(SessionError), st.lock("s1"):
        pass
    with pytest.raises(SessionError):
        st.append_message_to_disk(Session("s1"), Message.text_message("user", "x"))
    with pytest.raises(SessionError):
        st.delete("s1")
    assert [i.id for i in st.list()] == ["s1"]  # reading still works
    report = st.cleanup(before=FUTURE)
    assert report.removed == [] and [sid for sid, _ in report.failed] == ["s1"]
    assert outside.read_bytes() == b"do not touch"
    assert (st.dir / "s1.jsonl").exists()


def test_reentrant_across_store_objects_and_path_spellings(
    tmp_path: Path, procs: hp.Procs, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The process's own lock is recognised whichever JSONLStore object (and
    whichever spelling of the directory: relative, through a symlink) asks."""
    real = JSONLStore(tmp_path / "store")
    for sid in ("s1", "s2"):
        _write_session(real.dir, sid)
    (tmp_path / "alias").symlink_to(tmp_path / "store")
    monkeypatch.chdir(tmp_path)
    relative = JSONLStore(Path("store"))
    aliased = JSONLStore(tmp_path / "alias")
    with real.lock("s1"):
        relative.delete("s1")
        with aliased.lock("s2", timeout=0):
            with relative.lock("s2", timeout=0):
                pass
            assert agent_try(procs, real.dir / "s2.lock") == f"busy {os.getpid()}"
        assert not (real.dir / "s2.lock").exists()
        assert agent_try(procs, real.dir / "s1.lock") == f"busy {os.getpid()}"
    assert not (real.dir / "s1.lock").exists()
    assert real.ids() == ["s2"]
