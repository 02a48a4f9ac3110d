"""The listing caches: they only ever cost speed, never correctness.

``list`` answers from its snapshot only while every file and index.json are
exactly as they were; the first listing of a big store reads files in
worker processes and must give the same answer as reading in-process.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from sessionctl import JSONLStore, Message, Session
from sessionctl.storage import bulk
from sessionctl.storage import index as index_mod
from sessionctl.storage import listing as listing_mod
from sessionctl.storage.listing import Lister
from sessionctl.storage.summaries import FileKey, SummaryCache

OLD_NS = 1_700_000_000 * 10**9  # well outside the "changed just now" window


def _age(directory: Path) -> None:
    for p in directory.iterdir():
        os.utime(p, ns=(OLD_NS, OLD_NS))


def _rows(store: JSONLStore) -> list[dict[str, object]]:
    return [i.to_dict() for i in store.list(include_hidden=True)]


def _snapshot_files(cache: Path) -> list[Path]:
    return sorted(cache.glob("listing-*.json")) if cache.exists() else []


def _summarized(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The ids whose files listings summarise from now on (read, or taken
    from the summary cache), in order."""
    read: list[str] = []
    real = Lister.summarize

    def spy(self: Lister, s: str, key: FileKey, cache: SummaryCache) -> object:
        read.append(s)
        return real(self, s, key, cache)

    monkeypatch.setattr(Lister, "summarize", spy)
    return read


@pytest.fixture
def cache_dir() -> Path:
    return Path(os.environ["SESSIONCTL_CACHE_DIR"])


def test_snapshot_is_written_and_used(dir216: Path, cache_dir: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    store = JSONLStore(dir216)
    _age(dir216)
    index, names = (dir216 / "index.json").read_bytes(), sorted(os.listdir(dir216))
    # The stale index is left as it is (SPEC §8.5); the snapshot is saved
    # keyed by that index's version.
    first = _rows(store)
    assert (dir216 / "index.json").read_bytes() == index
    assert sorted(os.listdir(dir216)) == names
    assert _snapshot_files(cache_dir)
    assert _rows(store) == first

    def no_reading(*a: object, **k: object) -> None:
        raise AssertionError("the snapshot should have answered")

    monkeypatch.setattr(index_mod, "read_index", no_reading)
    monkeypatch.setattr(listing_mod, "read_index", no_reading)
    assert _rows(JSONLStore(dir216)) == first


@pytest.mark.parametrize("change", ["append", "index", "delete", "new"])
def test_snapshot_is_not_used_after_a_change(dir216: Path, cache_dir: Path, change: str) -> None:
    store = JSONLStore(dir216)
    _rows(store)
    _age(dir216)
    before = _rows(store)
    assert _snapshot_files(cache_dir)
    sid = before[0]["id"]
    assert isinstance(sid, str)
    if change == "append":
        store.append_message_to_disk(Session(sid), Message.text_message("user", "more"))
        after = _rows(store)
        row = next(r for r in after if r["id"] == sid)
        assert row["msg_count"] == next(r for r in before if r["id"] == sid)["msg_count"] + 1
    elif change == "index":
        # Another program rewrites index.json: the meta-less session takes
        # its title from the index, so the new title must show up although
        # no session file changed.
        path = dir216 / "index.json"
        entries = json.loads(path.read_bytes())
        for e in entries:
            e["title"] = "renamed: " + e["title"]
        os.unlink(path)
        path.write_text(json.dumps(entries))
        titles = {r["id"]: r["title"] for r in _rows(store)}
        renamed = [sid for sid, t in titles.items() if str(t).startswith("renamed: ")]
        # "nometa", the one session without meta that has an entry (the 0-byte
        # one has none: list() no longer writes the index, SPEC §8.5)
        assert renamed == ["20261125-111826-c132f393a97906ef"]
    elif change == "delete":
        os.unlink(dir216 / f"{sid}.jsonl")
        assert sid not in [r["id"] for r in _rows(store)]
    else:
        s = Session("brand-new-session", title="fresh")
        store.append_message(s, Message.text_message("user", "hello"))
        assert "brand-new-session" in [r["id"] for r in _rows(store)]


def test_parallel_first_listing_equals_in_process(
    dir216: Path, dir33: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    calls: list[int] = []
    real = bulk.summarize_many

    def spy(directory: Path, files: list[tuple[str, int]], workers: int) -> object:
        calls.append(workers)
        return real(directory, files, workers)

    for d in (dir216, dir33):
        expected = _rows(JSONLStore(d, cache=False))
        with monkeypatch.context() as m:
            m.setattr(bulk, "worth_parallel", lambda count, size: 2)
            m.setattr(bulk, "summarize_many", spy)
            # A library store starts no process unless asked (the CLI asks).
            assert _rows(JSONLStore(d, cache=tmp_path / f"lib-{d.name}")) == expected
            assert calls == []
            got = _rows(JSONLStore(d, cache=tmp_path / f"cache-{d.name}", parallel=True))
        assert calls.pop() == 2  # the workers really ran
        assert got == expected


def test_worker_errors_are_reported_like_in_process(
    dir33: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (dir33 / "adir.jsonl").mkdir()
    os.symlink("/etc/hostname", dir33 / "alink.jsonl")
    expected = JSONLStore(dir33, cache=False).listing(include_hidden=True)
    calls: list[int] = []
    real = bulk.summarize_many

    def spy(directory: Path, files: list[tuple[str, int]], workers: int) -> object:
        calls.append(workers)
        return real(directory, files, workers)

    monkeypatch.setattr(bulk, "worth_parallel", lambda count, size: 2)
    monkeypatch.setattr(bulk, "summarize_many", spy)
    got = JSONLStore(dir33, cache=tmp_path / "c", parallel=True).listing(include_hidden=True)
    assert calls == [2]  # the workers really ran
    assert got.skipped == expected.skipped
    assert [i.id for i in got.sessions] == [i.id for i in expected.sessions]


def test_no_workers_falls_back(dir33: Path, monkeypatch: pytest.MonkeyPatch,
                               tmp_path: Path) -> None:
    tried: list[bool] = []

    def broken(*a: object, **k: object) -> object:
        tried.append(True)
        raise OSError("cannot start processes here")

    monkeypatch.setattr(bulk, "worth_parallel", lambda count, size: 2)
    monkeypatch.setattr(bulk, "summarize_many", broken)
    assert _rows(JSONLStore(dir33, cache=tmp_path / "c", parallel=True)) == _rows(
        JSONLStore(dir33, cache=False))
    assert tried == [True]


def test_worth_parallel_thresholds(monkeypatch: pytest.MonkeyPatch) -> None:
    """Workers only for many files, much to read and two usable cores (the
    cores this process may run on, not the machine's)."""
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 64)
    assert bulk.worth_parallel(10, 10**9) == 0  # few files
    assert bulk.worth_parallel(10_000, 1000) == 0  # little to read
    assert bulk.worth_parallel(10_000, 300 << 20) == 2  # the affinity, not cpu_count
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0}, raising=False)
    assert bulk.worth_parallel(10_000, 300 << 20) == 0  # one core: no workers


def test_same_size_rewrite_within_one_tick_is_seen(dir216: Path) -> None:
    """A file changed just before a listing may change again with the same
    size and mtime: its snapshot row is flagged and the file read again."""
    store = JSONLStore(dir216)
    _rows(store)
    _age(dir216)
    path = dir216 / "20261125-111826-b443dd28e58609b0.jsonl"
    now = time.time_ns()
    os.utime(path, ns=(now, now))  # "just changed"
    before = {r["id"]: r["title"] for r in _rows(store)}
    assert before[path.stem] == "Walking directory trees in Go"
    data = path.read_bytes()
    with open(path, "r+b") as f:  # in place: same inode, same size
        f.write(data.replace(b"Walking directory", b"Talking directory"))
    os.utime(path, ns=(now, now))  # and the same mtime
    after = {r["id"]: r["title"] for r in _rows(store)}
    assert after[path.stem] == "Talking directory trees in Go"


def test_snapshot_rows_are_reused_for_unchanged_files(
    dir216: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One changed file is read again; the others come from the snapshot."""
    store = JSONLStore(dir216)
    _rows(store)
    _age(dir216)
    before = _rows(store)
    sid = str(before[-1]["id"])
    store.append_message_to_disk(Session(sid), Message.text_message("user", "one more"))
    read = _summarized(monkeypatch)
    after = _rows(store)
    assert read == [sid]
    assert after[0]["id"] == sid  # now the newest
    assert {r["id"] for r in after} == {r["id"] for r in before}


def test_snapshot_serves_a_store_without_an_index(
    dir216: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store with no index.json (one only sessionctl appended to) is
    listed from the snapshot too; an index appearing invalidates it."""
    (dir216 / "index.json").unlink()
    _age(dir216)
    store = JSONLStore(dir216, cache=tmp_path / "c")
    first = _rows(store)
    read = _summarized(monkeypatch)
    assert _rows(store) == first
    assert read == []  # answered from the snapshot
    (dir216 / "index.json").write_text("[]")
    assert _rows(store) == first
    assert read  # the index changed: the files were looked at again


def test_a_session_being_written_is_read_again_without_rewriting_the_snapshot(
    dir216: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Appends within the racy window change only that file's row, which is
    read again until the file settles: the snapshot is not rewritten for it
    (a session the agent is writing to), and is once the file is old."""
    store = JSONLStore(dir216)
    _rows(store)
    _age(dir216)
    _rows(store)
    [snap] = _snapshot_files(cache_dir)
    saved = snap.read_bytes()
    sid = "20261125-111826-b443dd28e58609b0"
    store.append_message_to_disk(Session(sid), Message.text_message("user", "one more"))
    count = next(r for r in _rows(store) if r["id"] == sid)["msg_count"]
    assert snap.read_bytes() == saved
    store.append_message_to_disk(Session(sid), Message.text_message("user", "two more"))
    assert next(r for r in _rows(store) if r["id"] == sid)["msg_count"] == count + 1
    assert snap.read_bytes() == saved
    _age(dir216)  # the writer is done
    settled = _rows(store)
    assert snap.read_bytes() != saved
    read = _summarized(monkeypatch)
    assert _rows(store) == settled
    assert read == []  # answered from the new snapshot


def test_index_is_read_only_for_a_changed_session_without_meta(
    dir216: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A changed file with meta and times is listed from itself alone;
    index.json (megabytes in a big store) is read when a changed file needs
    its entry (SPEC §7)."""
    store = JSONLStore(dir216)
    _rows(store)
    _age(dir216)
    before = {r["id"]: r for r in _rows(store)}
    reads: list[Path] = []
    real = listing_mod.read_index

    def spy(directory: Path) -> object:
        reads.append(directory)
        return real(directory)

    monkeypatch.setattr(listing_mod, "read_index", spy)
    with_meta, nometa = "20261125-111826-b443dd28e58609b0", "20261125-111826-c132f393a97906ef"
    store.append_message_to_disk(Session(with_meta), Message.text_message("user", "more"))
    after = {r["id"]: r for r in _rows(store)}
    assert reads == []
    assert after[with_meta]["msg_count"] == before[with_meta]["msg_count"] + 1
    line = {"type": "message", "session_id": nometa, "timestamp": "2026-11-25T11:20:00Z",
            "message": {"id": "msg_more", "role": "user",
                        "content": [{"type": "text", "text": "more"}]}}
    with open(dir216 / f"{nometa}.jsonl", "a") as f:  # as an agent without meta writes
        f.write(json.dumps(line) + "\n")
    after = {r["id"]: r for r in _rows(store)}
    assert reads == [dir216]
    assert after[nometa]["title"] == before[nometa]["title"]  # from its index entry
    assert after[nometa]["msg_count"] == before[nometa]["msg_count"] + 1


def test_a_racy_entry_alone_does_not_rewrite_a_keyed_cache(tmp_path: Path) -> None:
    """A value taken from a file changed within the racy window is never
    written (its version may not identify it), so putting it is no reason to
    rewrite the cache file; an old file's value is."""
    from sessionctl.core.folds import Summary

    cache = SummaryCache(tmp_path, tmp_path / "store")
    now = time.time_ns()
    cache.put("a", FileKey(1, now, 1), Summary(title="racy"))
    cache.flush()
    assert list(tmp_path.iterdir()) == []
    cache.put("b", FileKey(1, OLD_NS, 2), Summary(title="old"))
    cache.flush()
    again = SummaryCache(tmp_path, tmp_path / "store")
    assert again.get("b", FileKey(1, OLD_NS, 2)) == Summary(title="old")
    assert again.get("a", FileKey(1, now, 1)) is None
