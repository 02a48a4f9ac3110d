"""The listing caches: they only ever cost speed, never correctness.

``list`` answers from its snapshot only while every file and index.json are
exactly as they were; the first listing of a big store reads files in
worker processes and must give the same answer as reading in-process.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from sessionctl import JSONLStore, Message, Session
from sessionctl.storage import bulk
from sessionctl.storage import index as index_mod

OLD_NS = 1_700_000_000 * 10**9  # well outside the "changed just now" window


def _age(directory: Path) -> None:
    for p in directory.iterdir():
        os.utime(p, ns=(OLD_NS, OLD_NS))


def _rows(store: JSONLStore) -> list[dict[str, object]]:
    return [i.to_dict() for i in store.list(include_hidden=True)]


def _snapshot_files(cache: Path) -> list[Path]:
    return sorted(cache.glob("listing-*.json")) if cache.exists() else []


@pytest.fixture
def cache_dir() -> Path:
    return Path(os.environ["SESSIONCTL_CACHE_DIR"])


def test_snapshot_is_written_and_used(dir216: Path, cache_dir: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    store = JSONLStore(dir216)
    first = _rows(store)  # rewrites the stale index
    _age(dir216)
    second = _rows(store)  # index consistent and old: the snapshot is saved
    assert second == first
    assert _snapshot_files(cache_dir)

    def no_reading(*a: object, **k: object) -> None:
        raise AssertionError("the snapshot should have answered")

    monkeypatch.setattr(index_mod, "read_index", no_reading)
    monkeypatch.setattr("sessionctl.storage.store.read_index", no_reading)
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
        import json

        path = dir216 / "index.json"
        entries = json.loads(path.read_bytes())
        for e in entries:
            e["title"] = "renamed: " + e["title"]
        os.unlink(path)
        path.write_text(json.dumps(entries))
        titles = {r["id"]: r["title"] for r in _rows(store)}
        renamed = [sid for sid, t in titles.items() if str(t).startswith("renamed: ")]
        assert len(renamed) == 2  # "nometa" and the 0-byte one: the sessions without meta
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
            got = _rows(JSONLStore(d, cache=tmp_path / f"cache-{d.name}"))
        assert calls.pop() == 2  # the workers really ran
        assert got == expected


def test_worker_errors_are_reported_like_in_process(
    dir33: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (dir33 / "adir.jsonl").mkdir()
    os.symlink("/etc/hostname", dir33 / "alink.jsonl")
    expected = JSONLStore(dir33, cache=False).listing(include_hidden=True)
    monkeypatch.setattr(bulk, "worth_parallel", lambda count, size: 2)
    got = JSONLStore(dir33, cache=tmp_path / "c").listing(include_hidden=True)
    assert got.skipped == expected.skipped
    assert [i.id for i in got.sessions] == [i.id for i in expected.sessions]


def test_no_workers_falls_back(dir33: Path, monkeypatch: pytest.MonkeyPatch,
                               tmp_path: Path) -> None:
    def broken(*a: object, **k: object) -> object:
        raise OSError("cannot start processes here")

    monkeypatch.setattr(bulk, "worth_parallel", lambda count, size: 2)
    monkeypatch.setattr(bulk, "summarize_many", broken)
    assert _rows(JSONLStore(dir33, cache=tmp_path / "c")) == _rows(
        JSONLStore(dir33, cache=False))


def test_worth_parallel_thresholds() -> None:
    assert bulk.worth_parallel(10, 10**9) == 0  # few files
    assert bulk.worth_parallel(10_000, 1000) == 0  # little to read
    if (os.cpu_count() or 1) > 1:
        assert bulk.worth_parallel(10_000, 300 << 20) >= 2


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
    read: list[str] = []
    real = JSONLStore._summarize

    def spy(self: JSONLStore, s: str, key: object, cache: object) -> object:
        read.append(s)
        return real(self, s, key, cache)  # type: ignore[arg-type]

    monkeypatch.setattr(JSONLStore, "_summarize", spy)
    after = _rows(store)
    assert read == [sid]
    assert after[0]["id"] == sid  # now the newest
    assert {r["id"] for r in after} == {r["id"] for r in before}
