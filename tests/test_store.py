"""JSONLStore: the seed's contracts and the eight points of SPEC §2 where the
reference is wrong (each test here fails on the reference's behaviour)."""

from __future__ import annotations

import builtins
import json
import os
import re
import stat
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from conftest import V1333, V13216, aged, copy_store, read_records, write_lines

import sessionctl.api as api_mod
import sessionctl.storage.removal as removal_mod
from sessionctl import (
    AmbiguousSessionId,
    ContentBlock,
    InvalidSessionId,
    JSONLStore,
    Message,
    Session,
    SessionError,
    SessionLocked,
    SessionNotFound,
    TunnelEvent,
    new_session,
)
from sessionctl.core.times import format_ns, parse_ns

pytestmark = pytest.mark.usefixtures("fast_fsync")

MSG_ID = re.compile(r"msg_[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
ALL_FIXTURE_FILES = [
    pytest.param(V1333, p.stem, id=f"v1.3.33-{p.stem[-6:]}")
    for p in sorted((V1333 / "sessions").glob("*.jsonl"))
] + [
    pytest.param(V13216, p.stem, id=f"v1.3.216-{p.stem[-6:]}")
    for p in sorted((V13216 / "sessions").glob("*.jsonl"))
]
OLD_META_LESS = "20261124-145443-66557f9434be87c7"  # v1.3.33; index says January
TORN = "20261124-145443-323477e0a6f93c62"


def objects(path: Path) -> list[dict[str, Any]]:
    return [r for r in read_records(path) if isinstance(r, dict)]


def text(role: str, t: str) -> Message:
    return Message.text_message(role, t)


@pytest.fixture
def fresh(empty_store: JSONLStore) -> tuple[JSONLStore, Session]:
    ses = new_session("anthropic", "default", "claude")
    return empty_store, ses


# -- 1. nothing is lost on round trips ----------------------------------------

def assert_lossless(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> None:
    """Every record of ``before`` is in ``after``, in order and unchanged,
    except: a meta record added in front when there was none, the meta's
    updated_at, a message ``id``/record ``timestamp`` added where missing, and
    the record's ``session_id`` added where missing."""
    if not any(r.get("type") == "meta" for r in before):
        assert after[0]["type"] == "meta"
        after = after[1:]
    assert len(after) == len(before)
    for b, a in zip(before, after, strict=True):
        a = json.loads(json.dumps(a))
        if "session_id" not in b and a.get("type") in ("message", "tunnel_event", "checkpoint"):
            a.pop("session_id", None)
        if b.get("type") == "meta":
            b = {k: v for k, v in b.items() if k != "updated_at"}
            a.pop("updated_at", None)
        elif b.get("type") == "message" and isinstance(b.get("message"), dict):
            am = a.get("message")
            if isinstance(am, dict) and "id" in am and "id" not in b["message"]:
                assert MSG_ID.fullmatch(am.pop("id"))
            if "timestamp" in a and "timestamp" not in b:
                assert parse_ns(a.pop("timestamp")) is not None
        assert a == b


@pytest.mark.parametrize(("fixture", "sid"), ALL_FIXTURE_FILES)
def test_load_save_keeps_every_record(tmp_path: Path, fixture: Path, sid: str) -> None:
    d = copy_store(fixture / "sessions", tmp_path / "s")
    store = JSONLStore(d)
    before = objects(d / f"{sid}.jsonl")
    ses = store.load(sid)
    store.save(ses)
    after = objects(d / f"{sid}.jsonl")
    assert_lossless(before, after)
    again = store.load(sid)
    assert [m.to_dict() for m in again.messages] == [m.to_dict() for m in ses.messages]
    assert [m.to_dict() for m in again.context_messages] == [
        m.to_dict() for m in ses.context_messages]
    assert [e.to_dict() for e in again.tunnel_events] == [e.to_dict() for e in ses.tunnel_events]
    assert again.cost == ses.cost
    assert (again.title, again.workspace, again.vendor, again.endpoint, again.model) == (
        ses.title, ses.workspace, ses.vendor, ses.endpoint, ses.model)
    assert again.created_at_str == ses.created_at_str
    assert again.updated_at_str == ses.updated_at_str
    # A second round trip changes nothing but the meta's updated_at.
    store.save(again)
    assert_lossless(after, objects(d / f"{sid}.jsonl"))


def test_round_trip_keeps_unknown_records_and_fields(empty_store: JSONLStore) -> None:
    sid = "20261124-145443-00000000000000aa"
    recs = [
        {"type": "meta", "session_id": sid, "title": "t", "created_at": "2026-01-02T03:04:05Z",
         "updated_at": "2026-01-02T03:04:05.123456789Z", "permission_mode": "auto",
         "context_window": 1000, "sidebar_visible": False},
        {"type": "message", "session_id": sid, "message": {
            "id": "msg_x", "role": "user", "future": [1],
            "content": [{"type": "text", "text": "hi", "cache": True}]},
         "timestamp": "2026-01-02T03:04:06Z", "token_usage": {"input_tokens": 1}},
        {"type": "usage", "session_id": sid, "usage_entry": {"turn_index": 1}},
        {"type": "metric", "metric_event": {"name": "x"}},
        {"type": "brand_new", "payload": {"deep": [None, 1.5, "s"]}},
        {"type": "checkpoint", "session_id": sid, "checkpoint_messages": [
            {"role": "user", "content": [{"type": "text", "text": "sum"}]}],
         "checkpoint_tokens": 7, "extra": "kept"},
        {"type": "cost", "cost": {"usd": 0.5}},
        {"type": "tunnel_event", "tunnel_event": {"event_id": "e", "type": "t", "x": 1}},
    ]
    write_lines(empty_store.dir / f"{sid}.jsonl", *recs)
    before = objects(empty_store.dir / f"{sid}.jsonl")
    ses = empty_store.load(sid)
    assert ses.messages[0].content[0].extra == {"cache": True}
    assert ses.messages[0].extra == {"future": [1]}
    empty_store.save(ses)
    assert_lossless(before, objects(empty_store.dir / f"{sid}.jsonl"))


# -- 2. a torn last line is repaired before the next append ------------------

def test_torn_tail_is_ended_not_cut(store33: JSONLStore) -> None:
    path = store33.dir / f"{TORN}.jsonl"
    original = path.read_bytes()
    assert not original.endswith(b"\n")
    ses = store33.load(TORN)
    store33.append_message_to_disk(ses, text("user", "appended after the tear"))
    data = path.read_bytes()
    # The fragment is kept byte for byte and ended with a newline...
    assert data.startswith(original + b"\n")
    # ...and the appended record is a line of its own that parses.
    new_lines = data[len(original) + 1:].splitlines()
    recs = [json.loads(ln) for ln in new_lines]
    assert recs[-1]["message"]["content"][0]["text"] == "appended after the tear"
    again = store33.load(TORN)
    assert again.messages[-1].texts() == ["appended after the tear"]
    assert len(again.messages) == len(ses.messages) + 1


def test_complete_record_without_newline_is_not_lost(empty_store: JSONLStore) -> None:
    sid = "s1"
    rec = {"type": "message", "message": {"role": "user", "content": [
        {"type": "text", "text": "no newline"}]}}
    (empty_store.dir / "s1.jsonl").write_bytes(json.dumps(rec).encode())
    ses = empty_store.load(sid)
    empty_store.append_message(ses, text("assistant", "reply"))
    again = empty_store.load(sid)
    assert [m.texts() for m in again.messages] == [["no newline"], ["reply"]]


# -- 3. modes -----------------------------------------------------------------

@contextmanager
def umask(mask: int) -> Iterator[None]:
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


def test_files_0600_and_dir_0700(tmp_path: Path) -> None:
    with umask(0):
        store = JSONLStore(tmp_path / "a" / "sessions")
        assert mode(store.dir) == 0o700
        s1 = new_session()
        store.append_message(s1, text("user", "hello"))
        s2 = new_session()
        s2.messages.append(text("user", "saved"))
        store.save(s2)
        s3 = new_session()
        s3.messages.append(text("user", "ensured"))
        store.ensure_meta(s3)
        store.list()
    files = [p for p in store.dir.iterdir() if not p.name.endswith(".lock")]
    assert {p.name for p in files} >= {
        f"{s1.id}.jsonl", f"{s2.id}.jsonl", f"{s3.id}.jsonl", "index.json"}
    for p in files:
        assert mode(p) == 0o600, p.name


def test_save_over_a_0644_file_leaves_0600(store33: JSONLStore) -> None:
    path = store33.dir / f"{TORN}.jsonl"
    os.chmod(path, 0o644)  # as the reference's Save created it
    store33.save(store33.load(TORN))
    assert mode(path) == 0o600


def test_index_rewrite_keeps_its_mode_and_owner(store33: JSONLStore) -> None:
    """SPEC §8.5: a command that rewrites index.json keeps its mode (and, run
    as root, its owner): a 0600 root-owned index would lock its owner out."""
    ipath = store33.dir / "index.json"
    os.chmod(ipath, 0o644)
    root = os.geteuid() == 0
    if root:
        os.chown(ipath, 4242, 4343)
    sid = "20261124-145443-b233e91a293453b3"
    ino = ipath.stat().st_ino
    store33.delete(sid)
    assert ipath.stat().st_ino != ino  # really rewritten (replaced by rename)
    assert sid not in {e["id"] for e in json.loads(ipath.read_bytes())}
    assert mode(ipath) == 0o644
    if root:
        assert (ipath.stat().st_uid, ipath.stat().st_gid) == (4242, 4343)
    store33.save(store33.load(TORN))
    assert mode(ipath) == 0o644


# -- 4. every new file starts with a meta record -----------------------------

FIRST_WRITES: list[tuple[str, Callable[[JSONLStore, Session], None]]] = [
    ("append_message", lambda st, s: st.append_message(s, text("user", "q"))),
    ("append_message_to_disk", lambda st, s: st.append_message_to_disk(s, text("user", "q"))),
    ("append_checkpoint", lambda st, s: st.append_checkpoint(s, [text("user", "sum")], 9)),
    ("append_checkpoint_to_disk",
     lambda st, s: st.append_checkpoint_to_disk(s, [text("user", "sum")], 9)),
    ("append_tunnel_event_to_disk",
     lambda st, s: st.append_tunnel_event_to_disk(s, TunnelEvent("e1", "text_delta"))),
    ("save", lambda st, s: (s.messages.append(text("user", "q")), st.save(s))[-1]),
    ("ensure_meta", lambda st, s: (s.messages.append(text("user", "q")), st.ensure_meta(s))[-1]),
]


@pytest.mark.parametrize(("name", "write"), FIRST_WRITES, ids=[n for n, _ in FIRST_WRITES])
def test_meta_first_in_every_new_file(
    fresh: tuple[JSONLStore, Session], name: str, write: Callable[[JSONLStore, Session], None]
) -> None:
    store, ses = fresh
    write(store, ses)
    recs = objects(store.dir / f"{ses.id}.jsonl")
    meta = recs[0]
    assert meta["type"] == "meta"
    assert meta["session_id"] == ses.id
    assert (meta["vendor"], meta["endpoint"], meta["model"]) == ("anthropic", "default", "claude")
    assert parse_ns(meta["created_at"]) is not None
    assert parse_ns(meta["updated_at"]) is not None
    assert sum(r["type"] == "meta" for r in recs) == 1


def test_title_set_after_first_message_is_not_lost(fresh: tuple[JSONLStore, Session]) -> None:
    store, ses = fresh
    store.append_message(ses, text("user", "first prompt"))
    assert ses.title == "first prompt"
    ses.title = "A better title"
    store.append_message_to_disk(ses, text("assistant", "answer"))
    assert store.load(ses.id).title == "A better title"
    metas = [r for r in objects(store.dir / f"{ses.id}.jsonl") if r["type"] == "meta"]
    assert len(metas) == 2
    # Unchanged metadata: no further meta record.
    store.append_message_to_disk(ses, text("user", "more"))
    metas = [r for r in objects(store.dir / f"{ses.id}.jsonl") if r["type"] == "meta"]
    assert len(metas) == 2


# -- 5. times of a session without meta: index entry, else mtime, never now ---

OLD = "2025-03-04T05:06:07.123456789Z"
OLDER = "2025-03-01T00:00:00Z"


def _metaless(store: JSONLStore, sid: str) -> Path:
    return write_lines(store.dir / f"{sid}.jsonl", {
        "type": "message", "session_id": sid, "created_at": "0001-01-01T00:00:00Z",
        "updated_at": "0001-01-01T00:00:00Z",
        "message": {"role": "user", "content": [{"type": "text", "text": "old question"}]}})


def test_metaless_times_from_index_entry(empty_store: JSONLStore) -> None:
    sid = "20250301-000000-00000000000000ab"
    _metaless(empty_store, sid)
    (empty_store.dir / "index.json").write_text(json.dumps([{
        "id": sid, "title": "From the index", "created_at": OLDER, "updated_at": OLD,
        "msg_count": 1, "workspace": "/w", "model": "m"}]))
    ses = empty_store.load(sid)
    assert (ses.created_at_str, ses.updated_at_str) == (OLDER, OLD)
    assert (ses.title, ses.workspace, ses.model) == ("From the index", "/w", "m")
    info = empty_store.list()[0]
    assert (info.created[1], info.updated[1]) == (OLDER, OLD)
    assert info.title == "From the index"
    # Written just now, whatever the index says: not old (SPEC §8.5) ...
    cutoff = datetime(2025, 6, 1, tzinfo=timezone.utc)
    assert empty_store.cleanup_older_than(cutoff) == 0
    # ... until the file itself is as old as its index entry.
    aged(empty_store.dir, parse_ns(OLD) or 0)
    assert empty_store.cleanup_older_than(cutoff) == 1


def test_metaless_times_from_mtime_without_index(empty_store: JSONLStore) -> None:
    sid = "20250301-000000-00000000000000ac"
    path = _metaless(empty_store, sid)
    mtime_ns = 1741000000 * 10**9 + 5  # 2025-03-03
    os.utime(path, ns=(mtime_ns, mtime_ns))
    for index in (None, "corrupt{", "[]", '{"not": "a list"}'):
        ipath = empty_store.dir / "index.json"
        if index is None:
            ipath.unlink(missing_ok=True)
        else:
            ipath.write_text(index)
        os.utime(path, ns=(mtime_ns, mtime_ns))
        ses = empty_store.load(sid)
        assert ses.created_at_str == ses.updated_at_str == format_ns(mtime_ns)
        assert ses.title == "old question"
        info = empty_store.list()[0]
        assert info.updated[0] == mtime_ns
    # Never "now": an old file is cleaned up.
    assert empty_store.cleanup_older_than(datetime(2025, 6, 1, tzinfo=timezone.utc)) == 1
    assert not path.exists()


def test_new_unsaved_session_has_times() -> None:
    ses = new_session()
    assert ses.created_at == ses.updated_at
    assert abs(ses.created_at - datetime.now(timezone.utc)) < timedelta(minutes=1)


# -- 6. list is read-only on session files -----------------------------------

def test_list_never_removes_or_changes_files(empty_store: JSONLStore) -> None:
    d = empty_store.dir
    write_lines(d / "blank.jsonl", {"type": "message", "message": {
        "role": "user", "content": [{"type": "text", "text": " \n\t"}]}})
    (d / "empty.jsonl").write_bytes(b"")
    write_lines(d / "garbage.jsonl", raw=b"\xff\xfe not json at all")
    (d / "adir.jsonl").mkdir()
    os.symlink("/etc/hostname", d / "link.jsonl")
    write_lines(d / "good.jsonl", {"type": "message", "message": {
        "role": "user", "content": [{"type": "text", "text": "real"}]}})
    snapshot = {p.name: (p.read_bytes() if p.is_file() and not p.is_symlink() else None)
                for p in d.iterdir()}
    listing = empty_store.listing()
    assert [i.id for i in listing.sessions] == ["good"]
    assert {sid for sid, _ in listing.skipped} == {"adir", "link"}
    hidden = {i.id for i in empty_store.list(include_hidden=True)}
    assert hidden == {"good", "blank", "empty", "garbage"}
    after = {p.name: (p.read_bytes() if p.is_file() and not p.is_symlink() else None)
             for p in d.iterdir()}
    assert after == snapshot  # no index.json written, no .flock created (SPEC §8.5)


def test_save_never_deletes(store33: JSONLStore) -> None:
    ghost = "20260101-000000-00000000deadbeef"
    ses = store33.load(ghost)
    assert not ses.has_user_interaction()
    store33.save(ses)  # the reference's Save deleted such a file
    assert (store33.dir / f"{ghost}.jsonl").exists()
    assert store33.load(ghost).title == "ghost"


def test_save_writes_the_derived_title_into_meta(fresh: tuple[JSONLStore, Session]) -> None:
    """SPEC §8.5: an untitled session is saved with its derived title in the
    meta, so the agent (which reads only the meta) shows the same title."""
    store, ses = fresh
    prompt = "Please find out why the listing test fails on macOS but never on Linux"
    ses.messages.append(text("user", prompt))
    ses.messages.append(text("assistant", "Looking."))
    assert ses.title == ""
    store.save(ses)
    path = store.dir / f"{ses.id}.jsonl"
    metas = [r for r in objects(path) if r["type"] == "meta"]
    assert [m.get("title") for m in metas] == [prompt[:57] + "..."]
    assert ses.title == prompt[:57] + "..."
    assert json.loads((store.dir / "index.json").read_bytes())[0]["title"] == ses.title
    # A file whose meta has an empty title (the agent wrote it) gets one too.
    raw = [r if r["type"] != "meta" else {**r, "title": ""} for r in objects(path)]
    path.write_bytes(b"".join(json.dumps(r).encode() + b"\n" for r in raw))
    store.save(store.load(ses.id))
    assert [r.get("title") for r in objects(path) if r["type"] == "meta"] == [ses.title]


def test_save_of_empty_new_session_writes_nothing(fresh: tuple[JSONLStore, Session]) -> None:
    store, ses = fresh
    store.save(ses)
    assert not (store.dir / f"{ses.id}.jsonl").exists()


# -- 7. cost: appends do not rewrite the index; cleanup rewrites it once ------

def test_append_does_not_rewrite_index(store33: JSONLStore) -> None:
    store33.list()
    ipath = store33.dir / "index.json"
    sid = "20261124-145443-b233e91a293453b3"
    ses = store33.load(sid)
    n0 = {i.id: i for i in store33.list()}[sid].msg_count
    st0, data0 = ipath.stat(), ipath.read_bytes()
    for i in range(3):
        store33.append_message_to_disk(ses, text("user", f"more {i}"))
    store33.append_message(ses, text("assistant", "done"))
    st1 = ipath.stat()
    assert (st1.st_ino, st1.st_mtime_ns, st1.st_size) == (st0.st_ino, st0.st_mtime_ns, st0.st_size)
    assert ipath.read_bytes() == data0
    info = {i.id: i for i in store33.list()}[sid]
    assert info.msg_count == n0 + 4
    last_ts = objects(store33.dir / f"{sid}.jsonl")[-1]["timestamp"]
    assert info.updated[1] == last_ts
    assert store33.list()[0].id == sid


def test_cleanup_rewrites_index_once(
    store33: JSONLStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    real = removal_mod.write_index

    def counting(directory: Path, entries: list[dict[str, Any]]) -> None:
        calls.append(len(entries))
        real(directory, entries)

    monkeypatch.setattr(removal_mod, "write_index", counting)
    aged(store33.dir)
    assert store33.cleanup_older_than(datetime(2026, 6, 1, tzinfo=timezone.utc)) == 5
    assert len(calls) == 1


# -- 8. delete and cleanup never remove a session another process holds -----

LockHolder = Callable[[Path], AbstractContextManager[int]]


def test_delete_refuses_locked_session(store33: JSONLStore, lock_holder: LockHolder) -> None:
    sid = TORN
    with lock_holder(store33.dir / f"{sid}.lock") as pid:
        with pytest.raises(SessionLocked) as info:
            store33.delete(sid)
        assert info.value.pid == pid
        assert str(pid) in str(info.value)
        assert (store33.dir / f"{sid}.jsonl").exists()
        # A batch with one held session removes nothing.
        other = "20261124-145443-c44c267359c5a5b5"
        with pytest.raises(SessionLocked):
            store33.delete_many([other, sid])
        assert (store33.dir / f"{other}.jsonl").exists()
        # store.lock() also names the holder.
        with pytest.raises(SessionLocked) as info2, store33.lock(sid, timeout=0.1):
            pass
        assert info2.value.pid == pid
    store33.delete(sid)
    assert not (store33.dir / f"{sid}.jsonl").exists()
    assert not (store33.dir / f"{sid}.lock").exists()


def test_cleanup_skips_locked_session(store33: JSONLStore, lock_holder: LockHolder) -> None:
    aged(store33.dir)
    with lock_holder(store33.dir / f"{OLD_META_LESS}.lock") as pid:
        report = store33.cleanup(before=datetime(2026, 6, 1, tzinfo=timezone.utc))
        assert OLD_META_LESS not in report.removed
        assert len(report.removed) == 4
        assert report.skipped == [(OLD_META_LESS, f"in use by process {pid}")]
        assert (store33.dir / f"{OLD_META_LESS}.jsonl").exists()
        assert store33.cleanup_older_than(datetime(2026, 6, 1, tzinfo=timezone.utc)) == 0
    assert store33.cleanup_older_than(datetime(2026, 6, 1, tzinfo=timezone.utc)) == 1


def test_own_lock_does_not_block_delete(store33: JSONLStore) -> None:
    with store33.lock(TORN) as handle:
        assert handle.held
        lock_file = store33.dir / f"{TORN}.lock"
        assert lock_file.read_bytes() == str(os.getpid()).encode()  # no newline
        store33.delete(TORN)
    assert not (store33.dir / f"{TORN}.jsonl").exists()


def test_stale_lock_file_does_not_block(store33: JSONLStore) -> None:
    (store33.dir / f"{TORN}.lock").write_bytes(b"999999")  # nobody holds it
    store33.delete(TORN)
    assert not (store33.dir / f"{TORN}.jsonl").exists()
    assert not (store33.dir / f"{TORN}.lock").exists()


# -- recent sessions survive cleanup -----------------------------------------

def test_session_appended_a_minute_ago_survives_cleanup(store33: JSONLStore) -> None:
    # The index says January 2026 for this meta-less session.
    entry = {e["id"]: e for e in json.loads((store33.dir / "index.json").read_text())}
    assert entry[OLD_META_LESS]["updated_at"] == "2026-01-10T08:30:00Z"
    ses = store33.load(OLD_META_LESS)
    store33.append_message_to_disk(ses, text("user", "still here"))
    report = store33.cleanup(before=datetime.now(timezone.utc) - timedelta(days=1))
    assert OLD_META_LESS not in report.removed
    assert (store33.dir / f"{OLD_META_LESS}.jsonl").exists()
    # The other sessions the index dates to January are removed.
    assert "20261124-145443-e13b335da74e7cfb" in report.removed


def test_agent_append_a_minute_ago_survives_cleanup(store33: JSONLStore) -> None:
    # A v1.3.2xx agent appended a turn a minute ago; it rewrites the index at
    # most every 5 s and this one was not rewritten.
    sid = "20261124-145443-e13b335da74e7cfb"
    store33.list(include_hidden=True)  # caches a summary of the old state
    path = store33.dir / f"{sid}.jsonl"
    minute_ago = datetime.now(timezone.utc) - timedelta(minutes=1)
    with path.open("ab") as f:
        f.write(json.dumps({
            "type": "message", "session_id": sid,
            "created_at": "0001-01-01T00:00:00Z", "updated_at": "0001-01-01T00:00:00Z",
            "message": {"id": "msg_00000000-0000-4000-8000-000000000002", "role": "user",
                        "content": [{"type": "text", "text": "new turn"}]},
            "timestamp": minute_ago.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        }).encode() + b"\n")
    removed = store33.cleanup(before=datetime.now(timezone.utc) - timedelta(days=1)).removed
    assert sid not in removed
    assert path.exists()


# -- ids are validated before the filesystem is touched ----------------------

BAD_IDS = ["../x", "a/b", "", "a\0b", "x" * 200, "-rf", "..", ".hidden", "a b", "é"]


@contextmanager
def no_filesystem(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    def boom(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"filesystem touched: {args!r}")

    with monkeypatch.context() as m:
        for name in ("open", "stat", "lstat", "scandir", "listdir", "mkdir", "unlink",
                     "replace", "rename"):
            m.setattr(os, name, boom)
        m.setattr(os.path, "lexists", boom)
        m.setattr(os.path, "exists", boom)
        m.setattr(builtins, "open", boom)
        yield


def _calls(bad: str) -> list[tuple[str, Callable[[JSONLStore], Any]]]:
    def ses() -> Session:
        s = Session(bad)
        s.messages.append(text("user", "x"))
        return s

    return [
        ("load", lambda st: st.load(bad)),
        ("delete", lambda st: st.delete(bad)),
        ("delete_many", lambda st: st.delete_many(["ok", bad])),
        ("export_markdown", lambda st: st.export_markdown(bad)),
        ("write_markdown", lambda st: st.write_markdown(bad, _Sink())),
        ("write_markdown_file", lambda st: st.write_markdown_file(bad, st.dir / "out.md")),
        ("in_use", lambda st: st.in_use(bad)),
        ("resolve_id", lambda st: st.resolve_id(bad)),
        ("lock", lambda st: st.lock(bad).__enter__()),
        ("save", lambda st: st.save(ses())),
        ("ensure_meta", lambda st: st.ensure_meta(ses())),
        ("append_message", lambda st: st.append_message(ses(), text("user", "y"))),
        ("append_message_to_disk",
         lambda st: st.append_message_to_disk(ses(), text("user", "y"))),
        ("append_checkpoint", lambda st: st.append_checkpoint(ses(), [text("user", "s")], 1)),
        ("append_checkpoint_to_disk",
         lambda st: st.append_checkpoint_to_disk(ses(), [text("user", "s")], 1)),
        ("append_tunnel_event_to_disk",
         lambda st: st.append_tunnel_event_to_disk(ses(), TunnelEvent("e", "t"))),
    ]


class _Sink:
    def write(self, s: str) -> int:
        return len(s)


@pytest.mark.parametrize("bad", BAD_IDS, ids=repr)
def test_invalid_ids_rejected_before_filesystem_access(
    empty_store: JSONLStore, monkeypatch: pytest.MonkeyPatch, bad: str
) -> None:
    before = sorted(os.listdir(empty_store.dir))
    for name, call in _calls(bad):
        with no_filesystem(monkeypatch), pytest.raises(InvalidSessionId):
            call(empty_store)
        assert sorted(os.listdir(empty_store.dir)) == before, name
    assert isinstance(InvalidSessionId(bad), SessionError)


def test_valid_ids() -> None:
    from sessionctl.core.ids import is_valid_id

    assert is_valid_id("20261124-145343-0626a978c20577ff")
    assert is_valid_id("_x")
    assert is_valid_id("a" * 128)
    assert not is_valid_id("a" * 129)


# -- shapes of what sessionctl writes ----------------------------------------

def _reference_shapes() -> dict[str, dict[str, set[str]]]:
    """record type -> key -> JSON type names, from every reference line."""
    shapes: dict[str, dict[str, set[str]]] = {}
    for fx in (V1333, V13216):
        for p in (fx / "sessions").glob("*.jsonl"):
            for r in objects(p):
                t = r.get("type")
                if t not in ("meta", "message", "checkpoint", "tunnel_event", "cost"):
                    continue
                if t == "message" and r.get("session_id") is None:
                    continue
                for k, v in r.items():
                    shapes.setdefault(t, {}).setdefault(k, set()).add(type(v).__name__)
    return shapes


def test_written_records_follow_reference_shapes(fresh: tuple[JSONLStore, Session]) -> None:
    store, ses = fresh
    ses.title = "Shapes"
    store.append_message(ses, text("user", "q"))
    store.append_message_to_disk(ses, Message("assistant", [
        ContentBlock("text", text="a"),
        ContentBlock("tool_use", tool_name="grep", tool_id="t1", input={"p": 1})]))
    store.append_checkpoint(ses, [text("user", "summary"), text("assistant", "ok")], 120)
    store.append_tunnel_event_to_disk(ses, TunnelEvent("e1", "text_delta", stream_id="s",
                                                       data={"t": 1}))
    ses.cost = {"total_usd": 0.1}
    ses.tunnel_events_complete = True
    store.save(store.load(ses.id))
    ses2 = store.load(ses.id)
    ses2.cost = {"total_usd": 0.2}
    store.save(ses2)
    shapes = _reference_shapes()
    recs = objects(store.dir / f"{ses.id}.jsonl")
    assert {r["type"] for r in recs} >= {"meta", "message", "checkpoint", "tunnel_event", "cost"}
    for r in recs:
        ref = shapes[r["type"]]
        for k, v in r.items():
            assert k in ref, (r["type"], k)
            assert type(v).__name__ in ref[k], (r["type"], k, v)
        if r["type"] == "message":
            assert set(r["message"]) <= {"id", "role", "content"}
            assert MSG_ID.fullmatch(r["message"]["id"])
            assert parse_ns(r["timestamp"]) is not None
            assert r["session_id"] == ses.id
        if r["type"] == "checkpoint":
            # Legacy form, read by both generations (SPEC §6).
            assert "checkpoint_messages" in r and "checkpoint_summary_msg_id" not in r
            assert r["checkpoint_tokens"] == 120
            assert [m["role"] for m in r["checkpoint_messages"]] == ["user", "assistant"]
        for k in ("created_at", "updated_at", "timestamp"):
            if k in r:
                assert re.fullmatch(
                    r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)", r[k]), r[k]


def test_saved_messages_get_ids_and_timestamps(store33: JSONLStore) -> None:
    sid = "20261124-145443-b233e91a293453b3"
    ses = store33.load(sid)
    ses.messages.append(text("user", "added in memory"))
    store33.save(ses)
    msgs = [r for r in objects(store33.dir / f"{sid}.jsonl") if r["type"] == "message"]
    assert len(msgs) == 11
    ids = [m["message"]["id"] for m in msgs]
    assert all(MSG_ID.fullmatch(i) for i in ids) and len(set(ids)) == len(ids)
    assert all(parse_ns(m["timestamp"]) for m in msgs)
    # The context follows (derived, not a second copy): the new message ends it.
    again = store33.load(sid)
    assert again.context_messages[-1].texts() == ["added in memory"]
    assert len(again.context_messages) == 5


def test_existing_ids_and_timestamps_are_kept(store216: JSONLStore) -> None:
    sid = "20261125-111826-b911e8b808f20ddd"
    before = [r for r in objects(store216.dir / f"{sid}.jsonl") if r["type"] == "message"]
    store216.save(store216.load(sid))
    after = [r for r in objects(store216.dir / f"{sid}.jsonl") if r["type"] == "message"]
    assert after == before


# -- seed contracts -----------------------------------------------------------

def test_append_message_updates_session(fresh: tuple[JSONLStore, Session]) -> None:
    store, ses = fresh
    t0 = ses.updated_at
    msg = text("user", "x" * 70)
    store.append_message(ses, msg)
    assert ses.messages == [msg]
    assert MSG_ID.fullmatch(msg.id) and msg.timestamp
    assert ses.title == "x" * 57 + "..."
    assert ses.updated_at >= t0
    loaded = store.load(ses.id)
    assert loaded.title == ses.title
    assert [m.to_dict() for m in loaded.messages] == [msg.to_dict()]
    assert loaded.updated_at_str == ses.updated_at_str


def test_title_counts_characters(fresh: tuple[JSONLStore, Session]) -> None:
    store, ses = fresh
    store.append_message(ses, text("user", "日本語" * 30))
    assert ses.title == ("日本語" * 30)[:57] + "..."


def test_to_disk_variants_leave_session_alone(fresh: tuple[JSONLStore, Session]) -> None:
    store, ses = fresh
    store.append_message(ses, text("user", "q"))
    snapshot = (len(ses.messages), len(ses.checkpoints), len(ses.tunnel_events), ses.updated_at_str)
    store.append_message_to_disk(ses, text("assistant", "a"))
    store.append_checkpoint_to_disk(ses, [text("user", "s")], 3)
    store.append_tunnel_event_to_disk(ses, TunnelEvent("e", "done"))
    assert (len(ses.messages), len(ses.checkpoints), len(ses.tunnel_events),
            ses.updated_at_str) == snapshot
    loaded = store.load(ses.id)
    assert len(loaded.messages) == 2
    assert [m.texts() for m in loaded.context_messages] == [["s"]]
    assert [e.event_id for e in loaded.tunnel_events] == ["e"]
    # The stored and listed updated_at still moved.
    assert loaded.updated_ns > ses.updated_ns
    assert store.list()[0].updated[0] == loaded.updated_ns


def test_append_checkpoint(fresh: tuple[JSONLStore, Session]) -> None:
    store, ses = fresh
    for i in range(4):
        store.append_message(ses, text("user" if i % 2 == 0 else "assistant", f"m{i}"))
    store.append_checkpoint(ses, [text("user", "summary")], 42)
    store.append_message(ses, text("user", "after"))
    assert [m.texts()[0] for m in ses.context_messages] == ["summary", "after"]
    assert len(ses.messages) == 5  # the full history is not replaced
    loaded = store.load(ses.id)
    assert [m.texts()[0] for m in loaded.context_messages] == ["summary", "after"]
    assert loaded.to_dict()["checkpoints"] == [{"after_message": 4, "tokens": 42, "messages": 1}]


def test_save_sets_updated_at_to_now(store33: JSONLStore) -> None:
    ses = store33.load(OLD_META_LESS)
    assert ses.updated_at.year == 2026 and ses.updated_at.month == 1
    store33.save(ses)
    assert abs(ses.updated_at - datetime.now(timezone.utc)) < timedelta(minutes=1)
    assert store33.load(OLD_META_LESS).updated_at_str == ses.updated_at_str
    # It now has a meta: metadata from the index is kept in the file.
    assert store33.load(OLD_META_LESS).title.startswith("日本語 handles")


def test_ensure_meta(fresh: tuple[JSONLStore, Session]) -> None:
    store, ses = fresh
    store.ensure_meta(ses)  # no user text yet: nothing, as the reference
    assert not (store.dir / f"{ses.id}.jsonl").exists()
    ses.messages.append(text("user", "q"))
    store.ensure_meta(ses)
    path = store.dir / f"{ses.id}.jsonl"
    data = path.read_bytes()
    assert [r["type"] for r in objects(path)] == ["meta"]
    store.ensure_meta(ses)  # exists: untouched
    assert path.read_bytes() == data
    assert ses.id in {e["id"] for e in json.loads((store.dir / "index.json").read_text())}


def test_delete(store33: JSONLStore) -> None:
    store33.delete(TORN)
    assert not (store33.dir / f"{TORN}.jsonl").exists()
    assert TORN not in {e["id"] for e in json.loads((store33.dir / "index.json").read_text())}
    with pytest.raises(SessionNotFound):
        store33.delete(TORN)
    with pytest.raises(SessionNotFound):
        store33.load(TORN)
    with pytest.raises(SessionNotFound):
        store33.export_markdown(TORN)


def test_resolve_id(store33: JSONLStore) -> None:
    assert store33.resolve_id(TORN) == TORN
    assert store33.resolve_id("323477") == TORN  # hex-part prefix
    assert store33.resolve_id("20261124-145443-3234") == TORN
    assert store33.resolve_id("2026010") == "20260101-000000-00000000deadbeef"  # hidden too
    with pytest.raises(AmbiguousSessionId) as info:
        store33.resolve_id("20261124")
    assert len(info.value.candidates) == 17
    with pytest.raises(SessionNotFound):
        store33.resolve_id("zzz")


def test_export_markdown_smoke(store33: JSONLStore) -> None:
    md = store33.export_markdown("20261124-145443-b233e91a293453b3")
    assert md.startswith("# `code` 函数 parser")
    assert "## Checkpoint" in md
    assert store33.export_markdown(
        "20261124-145443-b233e91a293453b3", context=True).count("## User") == 2


def test_store_protocol_and_dir(tmp_path: Path) -> None:
    store = JSONLStore(tmp_path / "x")
    assert store.dir == tmp_path / "x"
    with pytest.raises(AttributeError):
        store.dir = tmp_path  # type: ignore[misc]
    s: api_mod.Store = store
    assert s.list() == []


def test_same_size_rewrite_in_the_same_tick_is_noticed(empty_store: JSONLStore) -> None:
    # The summary cache keys files by (size, mtime, inode). A file rewritten
    # in place, with the same size, within the clock's tick, keeps all three:
    # list must still see the new content (so fresh files are not cached).
    path = empty_store.dir / "s.jsonl"

    def content(second: dict[str, Any], size: int = 0) -> bytes:
        first = json.dumps({"type": "message", "message": {
            "role": "user", "content": [{"type": "text", "text": "q"}]}})
        line = json.dumps({**second, "pad": ""})
        pad = max(0, size - len(first) - len(line) - 2)
        return (first + "\n" + json.dumps({**second, "pad": "x" * pad}) + "\n").encode()

    a = content({"type": "usage"}, 300)
    b = content({"type": "message", "message": {"role": "assistant", "content": []}}, 300)
    assert len(a) == len(b)
    path.write_bytes(a)
    assert empty_store.list()[0].msg_count == 1
    st = path.stat()
    with path.open("r+b") as f:
        f.write(b)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    st2 = path.stat()
    assert (st2.st_size, st2.st_mtime_ns, st2.st_ino) == (st.st_size, st.st_mtime_ns, st.st_ino)
    assert empty_store.list()[0].msg_count == 2


def test_default_dir_is_the_agents_store(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from sessionctl import default_dir, new_default_store

    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_dir() == tmp_path / "home" / ".ggcode" / "sessions"
    store = new_default_store()
    assert store.dir == default_dir() and store.dir.is_dir()
    assert stat.S_IMODE(store.dir.stat().st_mode) == 0o700
