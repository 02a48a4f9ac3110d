"""Damaged stores: a broken index.json, damaged session files, names that are
not regular files (SPEC §2 points 5-6, §5 "Size", §6 "Lessons").

``list``, ``load``, ``export_markdown`` and ``cleanup`` keep working, report
what they skip (``Listing.skipped``), and never follow a name out of the
store: a file outside it keeps its content and mtime even after a cleanup
whose cutoff is in the future.
"""

from __future__ import annotations

import contextlib
import json
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from sessionctl import JSONLStore
from sessionctl.core.models import Message
from sessionctl.core.session import Session
from sessionctl.errors import SessionError
from sessionctl.storage.index import read_index

PAST = datetime(2000, 1, 1, tzinfo=timezone.utc)
FUTURE = datetime.now(timezone.utc) + timedelta(days=3650)


def _line(rec: Any) -> bytes:
    return json.dumps(rec).encode() + b"\n"


def _meta(sid: str, **kw: Any) -> dict[str, Any]:
    return {"type": "meta", "session_id": sid, "title": kw.get("title", sid),
            "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-02T00:00:00Z"}


def _msg(sid: str, text: str, role: str = "user", mid: str | None = None) -> dict[str, Any]:
    return {"type": "message", "session_id": sid, "timestamp": "2024-01-02T00:00:00Z",
            "message": {"id": mid or f"msg_{sid}_{len(text)}", "role": role,
                        "content": [{"type": "text", "text": text}]}}


class Outside:
    """A file beside the store that nothing may touch."""

    def __init__(self, path: Path, content: bytes) -> None:
        self.path = path
        path.write_bytes(content)
        os.utime(path, ns=(1_600_000_000 * 10**9, 1_600_000_000 * 10**9))
        self.content = content
        self.mtime = path.stat().st_mtime_ns

    def check(self) -> None:
        assert self.path.exists(), f"{self.path.name} outside the store was removed"
        assert self.path.read_bytes() == self.content
        assert self.path.stat().st_mtime_ns == self.mtime


@pytest.fixture
def store(tmp_path: Path) -> JSONLStore:
    st = JSONLStore(tmp_path / "store", cache=tmp_path / "cache")
    for sid in ("good-1", "good-2"):
        ses = Session(sid, title=f"title {sid}")
        ses.messages.append(Message.text_message("user", f"hello {sid}"))
        st.save(ses)
    return st


def _works(st: JSONLStore, expect: set[str]) -> None:
    listing = st.listing(include_hidden=True)
    assert {i.id for i in listing.sessions} == expect
    for sid in expect:
        st.load(sid)
        assert f"**Session:** {sid}" in st.export_markdown(sid)


# -- index.json ----------------------------------------------------------------


def _index_cases(d: Path) -> dict[str, bytes]:
    real = (d / "index.json").read_bytes()
    return {
        "garbage": b"\x00\xffnot json at all{{{",
        "truncated": real[: len(real) // 2],
        "empty": b"",
        "object": b'{"id": "good-1"}',
        "number": b"42",
        "wrong_types": json.dumps([
            1, "good-1", None, [], {"id": 5}, {"title": "no id"},
            {"id": "good-1", "title": 5, "created_at": 7, "updated_at": ["x"],
             "msg_count": "many", "workspace": {"a": 1}},
            {"id": "good-2", "created_at": "not a time", "updated_at": "2024-13-45T99:99:99Z"},
        ]).encode(),
        "traversal": json.dumps([
            {"id": "../outside", "title": "escape", "updated_at": "2000-01-01T00:00:00Z"},
            {"id": "../../etc/passwd"}, {"id": "a/b"}, {"id": "x\u0000y"}, {"id": "-rf"},
            {"id": ".."}, {"id": ""}, {"id": "good-1/../../outside"},
        ]).encode(),
        "missing_files": json.dumps([
            {"id": "ghost-1", "title": "gone", "created_at": "2000-01-01T00:00:00Z",
             "updated_at": "2000-01-01T00:00:00Z", "msg_count": 3},
            {"id": "good-1", "title": "title good-1", "msg_count": 1},
        ]).encode(),
        "duplicates": json.dumps([{"id": "good-1"}, {"id": "good-1", "title": "again"}]).encode(),
    }


CASES = ["garbage", "truncated", "empty", "object", "number", "wrong_types", "traversal",
         "missing_files", "duplicates"]


@pytest.mark.parametrize("case", CASES)
def test_damaged_index(store: JSONLStore, tmp_path: Path, case: str) -> None:
    d = store.dir
    outside = Outside(tmp_path / "outside.jsonl", _line(_meta("outside")) + _line(
        _msg("outside", "not in the store")))
    (d / "index.json").write_bytes(_index_cases(d)[case])
    _works(store, {"good-1", "good-2"})
    # list() rebuilt a consistent index from the files
    index = read_index(d)
    assert index is not None and set(index) == {"good-1", "good-2"}
    assert len(json.loads((d / "index.json").read_bytes())) == 2

    (d / "index.json").write_bytes(_index_cases(d)[case] if case != "truncated" else b"[{")
    assert store.cleanup(before=PAST).removed == []
    assert store.cleanup_older_than(PAST) == 0
    for sid in ("ghost-1", "outside", "-rf"):
        with pytest.raises(SessionError):
            store.load(sid)
    with pytest.raises(SessionError):
        store.load("../outside")
    with pytest.raises(SessionError):
        store.delete("../outside")
    report = store.cleanup(before=FUTURE)
    assert sorted(report.removed) == ["good-1", "good-2"]
    assert report.failed == [] and report.skipped == []
    outside.check()
    assert store.list(include_hidden=True) == []
    assert read_index(d) == {}


def test_index_entry_with_wrong_types_for_a_session_without_meta(store: JSONLStore) -> None:
    """Without meta the index describes the session; garbage there must not
    crash anything (times then come from the file's mtime)."""
    d = store.dir
    rec = _msg("nometa-1", "no meta here")
    del rec["timestamp"]  # nothing in the file gives a time
    (d / "nometa-1.jsonl").write_bytes(_line(rec))
    os.utime(d / "nometa-1.jsonl", ns=(1_700_000_000 * 10**9,) * 2)
    (d / "index.json").write_bytes(json.dumps([
        {"id": "nometa-1", "title": 5, "created_at": 7, "updated_at": None,
         "workspace": ["x"], "vendor": {"v": 1}, "model": 3.5, "msg_count": "x"},
    ]).encode())
    info = {i.id: i for i in store.list()}["nometa-1"]
    assert info.title == "no meta here" and info.workspace == "" and info.model == ""
    assert info.updated[0] == 1_700_000_000 * 10**9
    ses = store.load("nometa-1")
    assert ses.title == "no meta here"
    assert "no meta here" in store.export_markdown("nometa-1")


def test_symlinked_index_is_never_written_through(store: JSONLStore, tmp_path: Path) -> None:
    outside = Outside(tmp_path / "precious.json", b"[]")
    (store.dir / "index.json").unlink()
    (store.dir / "index.json").symlink_to(outside.path)
    _works(store, {"good-1", "good-2"})
    ses = store.load("good-1")
    ses.messages.append(Message.text_message("assistant", "more"))
    store.save(ses)
    store.cleanup(before=FUTURE)
    outside.check()


# -- session files ---------------------------------------------------------------


BIG = 20 * 1024 * 1024


@pytest.fixture
def damaged(store: JSONLStore, tmp_path: Path) -> tuple[JSONLStore, Outside]:
    d = store.dir
    # a 20 MB line (beyond the reference's 10 MB scanner limit)
    big_text = "start-of-big " + "b" * BIG + " end-of-big"
    (d / "big-1.jsonl").write_bytes(_line(_meta("big-1")) + _line(_msg("big-1", big_text)))
    # invalid UTF-8 inside a string, then a normal message
    (d / "utf8-1.jsonl").write_bytes(
        _line(_meta("utf8-1"))
        + b'{"type":"message","session_id":"utf8-1","message":{"id":"msg_bad","role":"user",'
          b'"content":[{"type":"text","text":"bad \xff\xfe bytes"}]}}\n'
        + _line(_msg("utf8-1", "valid after invalid", mid="msg_ok")))
    # NUL bytes: a whole line of them, and one raw NUL inside a record
    (d / "nul-1.jsonl").write_bytes(
        _line(_meta("nul-1")) + b"\x00" * 100 + b"\n"
        + _line(_msg("nul-1", "nul\u0000escaped", mid="msg_nul_escaped"))
        + b'{"type":"message","message":{"role":"user",'
          b'"content":[{"type":"text","text":"a\x00b"}]}}\n'
        + _line(_msg("nul-1", "after the nuls", mid="msg_after")))
    # a JSON array line and other non-object JSON
    (d / "array-1.jsonl").write_bytes(
        _line(_meta("array-1")) + b"[1,2,3]\n" + b'"just a string"\n' + b"null\n"
        + b'{"type":"message","message":"not an object"}\n'
        + b'{"type":"message","message":{"role":"user","content":"not a list"}}\n'
        + _line(_msg("array-1", "the real message")))
    # a 0-byte file (v1.3.2xx's Save makes these)
    (d / "empty-1.jsonl").write_bytes(b"")
    # not regular files
    (d / "x.jsonl").mkdir()
    (d / "x.jsonl" / "inner.jsonl").write_bytes(_line(_meta("inner")))
    outside = Outside(tmp_path / "outside-session.jsonl",
                      _line(_meta("y")) + _line(_msg("y", "outside the store")))
    (d / "y.jsonl").symlink_to(outside.path)
    os.mkfifo(d / "z.jsonl")  # a naive reader would hang here
    return store, outside


SKIPPED = {"x", "y", "z"}
REGULAR = {"good-1", "good-2", "big-1", "utf8-1", "nul-1", "array-1"}


def test_damaged_files_list(damaged: tuple[JSONLStore, Outside]) -> None:
    store, outside = damaged
    listing = store.listing(include_hidden=True)
    assert {i.id for i in listing.sessions} == REGULAR | {"empty-1"}
    assert {sid for sid, _ in listing.skipped} == SKIPPED
    reasons = dict(listing.skipped)
    assert "symbolic link" in reasons["y"]
    assert "regular file" in reasons["x"]
    info = {i.id: i for i in listing.sessions}
    assert info["big-1"].msg_count == 1
    assert info["utf8-1"].msg_count == 2
    assert info["nul-1"].msg_count == 2  # a raw NUL inside a string is not JSON
    assert info["array-1"].msg_count == 1
    assert info["empty-1"].hidden and info["empty-1"].msg_count == 0
    visible = {i.id for i in store.list()}
    assert visible == REGULAR
    assert store.ids() == sorted(REGULAR | {"empty-1"} | SKIPPED)
    outside.check()


def test_damaged_files_load_and_export(damaged: tuple[JSONLStore, Outside]) -> None:
    store, outside = damaged
    big = store.load("big-1")
    text = big.messages[0].texts()[0]
    assert len(text) == BIG + len("start-of-big  end-of-big")
    md = store.export_markdown("big-1")
    assert "start-of-big" in md and "end-of-big" in md

    u = store.load("utf8-1")
    assert [m.id for m in u.messages] == ["msg_bad", "msg_ok"]
    assert "valid after invalid" in store.export_markdown("utf8-1")

    n = store.load("nul-1")
    assert [m.texts()[0] for m in n.messages][-1] == "after the nuls"
    assert "after the nuls" in store.export_markdown("nul-1")

    a = store.load("array-1")
    assert [m.texts()[0] for m in a.messages] == ["the real message"]
    assert "the real message" in store.export_markdown("array-1")

    assert store.load("empty-1").messages == []
    store.export_markdown("empty-1")

    for sid in SKIPPED:
        with pytest.raises(SessionError):
            store.load(sid)
        with pytest.raises(SessionError):
            store.export_markdown(sid)
    outside.check()


def test_damaged_files_cleanup(damaged: tuple[JSONLStore, Outside]) -> None:
    store, outside = damaged
    d = store.dir
    assert store.cleanup(before=PAST).removed == []
    dry = store.cleanup(before=FUTURE, dry_run=True)
    assert set(dry.removed) == REGULAR | {"empty-1"}
    assert {sid for sid, _ in dry.unreadable} == SKIPPED

    report = store.cleanup(before=FUTURE)
    assert set(report.removed) == REGULAR | {"empty-1"}
    assert report.failed == [] and report.skipped == []
    assert {sid for sid, _ in report.unreadable} == SKIPPED
    outside.check()
    # what cleanup does not understand, it leaves alone
    assert (d / "x.jsonl").is_dir() and (d / "x.jsonl" / "inner.jsonl").exists()
    assert (d / "y.jsonl").is_symlink()
    assert (d / "z.jsonl").exists()
    listing = store.listing(include_hidden=True)
    assert listing.sessions == [] and {s for s, _ in listing.skipped} == SKIPPED
    assert read_index(d) in (None, {})


def test_delete_of_odd_names(damaged: tuple[JSONLStore, Outside]) -> None:
    store, outside = damaged
    d = store.dir
    with pytest.raises(SessionError):
        store.delete("x")  # a directory is never removed as a session
    assert (d / "x.jsonl" / "inner.jsonl").exists()
    # removing the symlink removes the link, never what it points to
    with contextlib.suppress(SessionError):
        store.delete("y")
    outside.check()
    assert not (d / "y.lock").exists() and not (d / "x.lock").exists()


def test_symlink_to_a_session_inside_the_store_is_not_followed(store: JSONLStore) -> None:
    (store.dir / "alias.jsonl").symlink_to(store.dir / "good-1.jsonl")
    before = (store.dir / "good-1.jsonl").read_bytes()
    listing = store.listing(include_hidden=True)
    assert "alias" in dict(listing.skipped)
    with pytest.raises(SessionError):
        store.append_message_to_disk(Session("alias"), Message.text_message("user", "x"))
    assert (store.dir / "good-1.jsonl").read_bytes() == before
