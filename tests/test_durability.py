"""Durable writes and I/O faults, through the ``fsio._fsync``/``_replace`` seam.

* order: a replaced file is fsynced before the rename, its directory after
  it; an append is fsynced after its data is written; a new file's
  directory is fsynced;
* faults: an fsync or rename that fails surfaces as a ``SessionError``
  (``StoreIOError``), never a bare ``OSError``; the old data survives
  intact and no temp file is left behind.
"""

from __future__ import annotations

import errno
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sessionctl import JSONLStore
from sessionctl.core.models import Message
from sessionctl.core.session import Session
from sessionctl.errors import SessionError, StoreIOError
from sessionctl.storage import fsio
from sessionctl.storage.index import read_index


@pytest.fixture
def store(tmp_path: Path) -> JSONLStore:
    return JSONLStore(tmp_path / "store", cache=tmp_path / "cache")


def _fd_path(fd: int) -> str:
    return os.readlink(f"/proc/self/fd/{fd}")


class Seam:
    """Records fsync/rename calls (with what the file held at fsync time) and
    injects faults."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.events: list[tuple[str, str, Any]] = []
        self.fail: Callable[[str, str, str], bool] = lambda op, a, b: False
        real_fsync, real_replace = fsio._fsync, fsio._replace

        def fsync(fd: int) -> None:
            path = _fd_path(fd)
            if self.fail("fsync", path, ""):
                raise OSError(errno.EIO, "Input/output error")
            content = None if os.path.isdir(path) else Path(path).read_bytes()
            self.events.append(("fsync", path, content))
            real_fsync(fd)

        def replace(src: Any, dst: Any) -> None:
            src, dst = os.fspath(src), os.fspath(dst)
            if self.fail("replace", src, dst):
                raise OSError(errno.EIO, "Input/output error")
            self.events.append(("replace", src, dst))
            real_replace(src, dst)

        monkeypatch.setattr(fsio, "_fsync", fsync)
        monkeypatch.setattr(fsio, "_replace", replace)

    def check_atomic_replace(self, path: Path) -> None:
        """fsync(tmp with the final content) < rename(tmp, path) < fsync(dir)."""
        renames = [i for i, e in enumerate(self.events) if e[0] == "replace" and e[2] == str(path)]
        assert renames, f"{path.name} was not replaced atomically"
        r = renames[-1]
        tmp = self.events[r][1]
        assert Path(tmp).parent == path.parent and Path(tmp).name.startswith(".")
        assert Path(tmp).name.endswith(".tmp")
        synced = [e for e in self.events[:r] if e[0] == "fsync" and e[1] == tmp]
        assert synced, "temp file not fsynced before the rename"
        assert synced[-1][2] == path.read_bytes(), "fsynced before all data was written"
        after = [e for e in self.events[r + 1:] if e[0] == "fsync" and e[1] == str(path.parent)]
        assert after, "directory not fsynced after the rename"


def _session(sid: str, *texts: str) -> Session:
    ses = Session(sid, title=f"title {sid}")
    for i, t in enumerate(texts):
        ses.messages.append(Message.text_message("user" if i % 2 == 0 else "assistant", t))
    return ses


def _no_tmp(d: Path) -> None:
    assert not [p.name for p in d.iterdir() if p.name.endswith(".tmp")]


# -- order ---------------------------------------------------------------------


def test_save_fsyncs_file_then_renames_then_fsyncs_dir(
    store: JSONLStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    seam = Seam(monkeypatch)
    ses = _session("a1", "hello", "world")
    store.save(ses)  # new file
    seam.check_atomic_replace(store.dir / "a1.jsonl")
    seam.check_atomic_replace(store.dir / "index.json")
    seam.events.clear()
    ses.messages.append(Message.text_message("user", "again"))
    store.save(ses)  # replacing an existing file
    seam.check_atomic_replace(store.dir / "a1.jsonl")
    seam.check_atomic_replace(store.dir / "index.json")
    # the session is durable before the index mentions it
    kinds = [(e[0], Path(e[2] if e[0] == "replace" else e[1]).name) for e in seam.events]
    assert kinds.index(("replace", "a1.jsonl")) < kinds.index(("replace", "index.json"))


def test_append_fsyncs_after_writing(store: JSONLStore, monkeypatch: pytest.MonkeyPatch) -> None:
    seam = Seam(monkeypatch)
    path = store.dir / "b1.jsonl"
    msg = Message.text_message("user", "first")
    store.append_message_to_disk(Session("b1"), msg)
    syncs = [e for e in seam.events if e[0] == "fsync"]
    file_syncs = [i for i, e in enumerate(syncs) if e[1] == str(path)]
    dir_syncs = [i for i, e in enumerate(syncs) if e[1] == str(store.dir)]
    assert file_syncs and dir_syncs and file_syncs[0] < dir_syncs[0]  # new file: name made durable
    assert msg.id.encode() in syncs[file_syncs[0]][2]

    seam.events.clear()
    msg2 = Message.text_message("assistant", "second")
    store.append_message_to_disk(Session("b1"), msg2)
    syncs = [e for e in seam.events if e[0] == "fsync" and e[1] == str(path)]
    assert len(syncs) == 1 and syncs[0][2] == path.read_bytes()
    assert not [e for e in seam.events if e[0] == "replace" and e[2].endswith("index.json")], \
        "an append rewrote index.json (SPEC §2 point 7)"


def test_ensure_meta_creates_durably(store: JSONLStore, monkeypatch: pytest.MonkeyPatch) -> None:
    seam = Seam(monkeypatch)
    store.ensure_meta(_session("c1", "hello"))
    path = store.dir / "c1.jsonl"
    names = [e[1] for e in seam.events if e[0] == "fsync"]
    assert str(path) in names and str(store.dir) in names
    assert names.index(str(path)) < names.index(str(store.dir))
    assert json.loads(path.read_bytes())["type"] == "meta"


# -- faults: save ----------------------------------------------------------------


FAULTS = {
    "fsync_tmp": lambda name: lambda op, a, b: op == "fsync" and Path(a).name.startswith(
        f".{name}.") and a.endswith(".tmp"),
    "replace": lambda name: lambda op, a, b: op == "replace" and Path(b).name == name,
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_save_fault_keeps_old_version(
    store: JSONLStore, monkeypatch: pytest.MonkeyPatch, fault: str
) -> None:
    ses = _session("d1", "one", "two")
    store.save(ses)
    path = store.dir / "d1.jsonl"
    old, old_index = path.read_bytes(), (store.dir / "index.json").read_bytes()
    seam = Seam(monkeypatch)
    seam.fail = FAULTS[fault]("d1.jsonl")
    ses.messages.append(Message.text_message("user", "three"))
    with pytest.raises(StoreIOError) as ei:
        store.save(ses)
    assert isinstance(ei.value, SessionError) and not isinstance(ei.value, OSError)
    assert "d1" in str(ei.value)
    assert path.read_bytes() == old
    assert (store.dir / "index.json").read_bytes() == old_index
    _no_tmp(store.dir)
    monkeypatch.undo()
    assert [m.texts() for m in store.load("d1").messages] == [["one"], ["two"]]
    store.save(ses)  # and it works again
    assert len(store.load("d1").messages) == 3


def test_save_dir_fsync_fault_reports_but_file_is_whole(
    store: JSONLStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    ses = _session("e1", "one")
    store.save(ses)
    path = store.dir / "e1.jsonl"
    old = path.read_bytes()
    seam = Seam(monkeypatch)
    seam.fail = lambda op, a, b: op == "fsync" and a == str(store.dir)
    ses.messages.append(Message.text_message("assistant", "two"))
    with pytest.raises(StoreIOError):
        store.save(ses)
    _no_tmp(store.dir)
    data = path.read_bytes()
    # renamed but not known durable: the whole new version, never a mix
    assert data != old and all(json.loads(x) for x in data.splitlines())
    assert len(store.load("e1").messages) == 2


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_index_write_fault(store: JSONLStore, monkeypatch: pytest.MonkeyPatch, fault: str) -> None:
    store.save(_session("f1", "one"))
    index_path = store.dir / "index.json"
    old_index = index_path.read_bytes()
    seam = Seam(monkeypatch)
    seam.fail = FAULTS[fault]("index.json")

    # a writer surfaces it
    with pytest.raises(StoreIOError):
        store.save(_session("f2", "two"))
    assert index_path.read_bytes() == old_index
    _no_tmp(store.dir)
    assert (store.dir / "f2.jsonl").exists()  # the session itself was written

    # a reader does not fail: it just skips writing the index back
    listed = [i.id for i in store.list()]
    assert sorted(listed) == ["f1", "f2"]
    assert index_path.read_bytes() == old_index
    _no_tmp(store.dir)

    # delete: the file goes, the error is reported, no lock file is left
    with pytest.raises(StoreIOError):
        store.delete("f1")
    assert not (store.dir / "f1.jsonl").exists()
    assert not list(store.dir.glob("*.lock"))
    assert index_path.read_bytes() == old_index
    _no_tmp(store.dir)

    monkeypatch.undo()
    assert [i.id for i in store.list()] == ["f2"]
    index = read_index(store.dir)
    assert index is not None and set(index) == {"f2"}


def test_cache_write_fault_costs_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = JSONLStore(tmp_path / "store", cache=tmp_path / "cache")
    store.save(_session("g1", "one"))
    seam = Seam(monkeypatch)
    seam.fail = lambda op, a, b: "cache" in Path(b or a).parent.name
    (tmp_path / "cache").mkdir(exist_ok=True)
    for p in (tmp_path / "cache").iterdir():
        p.unlink()
    assert [i.id for i in store.list()] == ["g1"]
    assert not [p for p in (tmp_path / "cache").iterdir() if p.name.endswith(".tmp")]


# -- faults: append ----------------------------------------------------------------


def test_append_fsync_fault(store: JSONLStore, monkeypatch: pytest.MonkeyPatch) -> None:
    ses = Session("h1")
    store.append_message_to_disk(ses, Message.text_message("user", "one"))
    path = store.dir / "h1.jsonl"
    old = path.read_bytes()
    seam = Seam(monkeypatch)
    seam.fail = lambda op, a, b: op == "fsync" and a == str(path)
    with pytest.raises(StoreIOError) as ei:
        store.append_message_to_disk(ses, Message.text_message("user", "two"))
    assert "h1" in str(ei.value)
    data = path.read_bytes()
    assert data.startswith(old) and data.endswith(b"\n")
    monkeypatch.undo()
    store.append_message_to_disk(ses, Message.text_message("user", "three"))
    texts = [m.texts()[0] for m in store.load("h1").messages]
    assert texts[0] == "one" and texts[-1] == "three"
    assert all(json.loads(x) for x in path.read_bytes().splitlines())


def test_append_creating_file_dir_fsync_fault(
    store: JSONLStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    seam = Seam(monkeypatch)
    seam.fail = lambda op, a, b: op == "fsync" and a == str(store.dir)
    with pytest.raises(StoreIOError):
        store.append_message_to_disk(Session("i1"), Message.text_message("user", "one"))
    _no_tmp(store.dir)
    monkeypatch.undo()
    assert [m.texts() for m in store.load("i1").messages] == [["one"]]


def test_cleanup_index_fault_reports_error(
    store: JSONLStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import datetime, timedelta, timezone

    for sid in ("j1", "j2"):
        store.save(_session(sid, "x"))
    old_index = (store.dir / "index.json").read_bytes()
    seam = Seam(monkeypatch)
    seam.fail = FAULTS["replace"]("index.json")
    with pytest.raises(SessionError):
        store.cleanup(before=datetime.now(timezone.utc) + timedelta(days=1))
    assert (store.dir / "index.json").read_bytes() == old_index
    assert not list(store.dir.glob("*.lock"))
    _no_tmp(store.dir)
    monkeypatch.undo()
    assert store.list(include_hidden=True) == []  # the stale index resurrects nothing


def test_modes_do_not_depend_on_the_umask(tmp_path: Path) -> None:
    """Files 0600 and the directory 0700 even under a permissive umask
    (SPEC §2 point 3), lock files and temp files included."""
    old = os.umask(0)
    try:
        store = JSONLStore(tmp_path / "store", cache=tmp_path / "cache")
        ses = _session("k1", "hello")
        store.save(ses)
        store.append_message_to_disk(Session("k2"), Message.text_message("user", "x"))
        store.ensure_meta(_session("k3", "hi"))
        with store.lock("k1"):
            assert (store.dir / "k1.lock").stat().st_mode & 0o777 == 0o600
    finally:
        os.umask(old)
    assert store.dir.stat().st_mode & 0o777 == 0o700
    for p in store.dir.iterdir():
        assert p.stat().st_mode & 0o777 == 0o600, p.name
    names = {p.name for p in store.dir.iterdir()}
    assert {"k1.jsonl", "k2.jsonl", "k3.jsonl", "index.json", "index.json.flock",
            "k1.jsonl.flock"} <= names
