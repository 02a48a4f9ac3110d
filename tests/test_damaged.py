"""Bad data never crashes a read, and every record that is a JSON object
survives load -> save (SPEC §1, §2.1, §6)."""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from conftest import read_records, write_lines
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sessionctl import JSONLStore, Message, Session, SessionError
from sessionctl.core.records import dumps_line, loads_line
from sessionctl.core.times import parse_ns
from sessionctl.storage.index import read_index

pytestmark = pytest.mark.usefixtures("fast_fsync")

SID = "20261124-145443-00000000000000d1"
GOOD = {"type": "message", "session_id": SID, "message": {
    "role": "user", "content": [{"type": "text", "text": "a real question"}]}}
REPLY = {"type": "message", "session_id": SID, "message": {
    "role": "assistant", "content": [{"type": "text", "text": "an answer"}]}}
BIG = 123456789012345678901234567890

#: name -> (raw line bytes, is it a JSON object that must survive a save?)
DAMAGED: dict[str, tuple[bytes, bool]] = {
    "garbage": (b"this is not json", False),
    "torn": (b'{"type":"message","message":{"role":"user","content":[{"type":"te', False),
    "array": (b'[{"type":"message"}]', False),
    "string": (b'"just a string"', False),
    "number": (b"42", False),
    "null": (b"null", False),
    "nan": (b'{"type":"cost","cost":NaN}', False),
    "infinity": (b'{"type":"cost","cost":{"x":1e999}}', False),
    "nul_bytes": (b'{"type":"x",\x00"y":1}', False),
    "deep_array": (b"[" * 100_000, False),
    "deep_object": (b'{"a":' * 5_000, False),
    "content_str": (b'{"type":"message","message":{"role":"user","content":"str"}}', True),
    "content_list_of_str": (
        b'{"type":"message","message":{"role":"user","content":["a"]}}', True),
    "message_int": (b'{"type":"message","message":5}', True),
    "message_null": (b'{"type":"message","message":null}', True),
    "role_int": (b'{"type":"message","message":{"role":1,"content":[]}}', True),
    "id_int": (b'{"type":"message","message":{"id":7,"role":"user","content":[]}}', True),
    "content_null": (b'{"type":"message","message":{"role":"assistant","content":null}}', True),
    "type_int": (b'{"type":5}', True),
    "type_missing": (b'{"session_id":"x"}', True),
    "empty_object": (b"{}", True),
    "huge_int_cost": (b'{"type":"cost","cost":{"n":' + str(BIG).encode() + b"}}", True),
    "huge_int_input": (
        b'{"type":"message","message":{"role":"assistant","content":[{"type":"tool_use",'
        b'"tool_name":"t","input":{"n":-' + str(BIG).encode() + b'}}]}}', True),
    "huge_negative_unknown": (b'{"type":"usage","n":-99999999999999999999999}', True),
    "non_utf8": (
        b'{"type":"message","message":{"role":"user","content":[{"type":"text",'
        b'"text":"bad \xff\xfe bytes"}]}}', True),
    "non_utf8_unknown": (b'{"type":"metric","name":"\xc3\x28"}', True),
    "lone_surrogate_escape": (
        b'{"type":"message","message":{"role":"assistant","content":[{"type":"text",'
        b'"text":"half \\ud800 pair"}]}}', True),
    "meta_wrong_types": (
        b'{"type":"meta","title":5,"workspace":[],"created_at":5,"updated_at":"yesterday",'
        b'"tunnel_events_complete":"yes"}', True),
    "meta_out_of_range_times": (
        b'{"type":"meta","title":"t","created_at":"0001-01-01T00:00:00+01:00",'
        b'"updated_at":"9999-12-31T23:59:59-01:00"}', True),
    "bad_timestamp": (
        b'{"type":"message","message":{"role":"assistant","content":[]},"timestamp":"soon"}',
        True),
    "checkpoint_str": (b'{"type":"checkpoint","checkpoint_messages":"str"}', True),
    "checkpoint_bad_msgs": (b'{"type":"checkpoint","checkpoint_messages":[1,2]}', True),
    "checkpoint_tokens_str": (
        b'{"type":"checkpoint","checkpoint_messages":[{"role":"user","content":[]}],'
        b'"checkpoint_tokens":"many"}', True),
    "checkpoint_summary_int": (b'{"type":"checkpoint","checkpoint_summary_msg_id":3}', True),
    "tunnel_int": (b'{"type":"tunnel_event","tunnel_event":5}', True),
    "tunnel_fields_wrong": (
        b'{"type":"tunnel_event","tunnel_event":{"event_id":1,"type":null}}', True),
    "block_fields_wrong": (
        b'{"type":"message","message":{"role":"user","content":[{"type":1,"text":[],'
        b'"is_error":"yes","images":"x","input":null}]}}', True),
    "crlf": (b'{"type":"unknown_crlf","x":1}\r', True),
    "duplicate_keys": (b'{"type":"usage","a":1,"a":2}', True),
    "escaped_html": (b'{"type":"x","t":"\\u003chtml\\u003e \\u2028"}', True),
}


def _file(store: JSONLStore, *lines: bytes) -> Path:
    return write_lines(store.dir / f"{SID}.jsonl", *lines)


def _good() -> bytes:
    return json.dumps(GOOD).encode()


@pytest.mark.parametrize("name", list(DAMAGED))
def test_damaged_line_never_crashes_a_read(empty_store: JSONLStore, name: str) -> None:
    raw, _ = DAMAGED[name]
    _file(empty_store, _good(), raw, json.dumps(REPLY).encode())
    ses = empty_store.load(SID)
    assert ses.messages[0].texts() == ["a real question"]
    assert ses.messages[-1].texts() == ["an answer"]
    assert ses.has_user_interaction()
    ses.to_dict()
    json.dumps(ses.to_dict())
    ses.created_at, ses.updated_at  # noqa: B018 - must not raise
    [m.to_dict() for m in ses.context_messages]
    md = empty_store.export_markdown(SID)
    md.encode("utf-8")
    infos = empty_store.list()
    assert [i.id for i in infos] == [SID]
    infos[0].created_at, infos[0].updated_at
    infos[0].title.encode("utf-8")
    assert empty_store.list(include_hidden=True) == infos


def _normalized(rec: dict[str, Any], before: dict[str, Any]) -> dict[str, Any]:
    """``rec`` (written by save) without what save adds on purpose: the
    record's session_id, and for a message it models an ``id`` and a valid
    ``timestamp`` (SPEC §6) and ``content: []`` for ``null``."""
    rec = json.loads(json.dumps(rec))
    if "session_id" not in before:
        rec.pop("session_id", None)
    msg = rec.get("message")
    if rec.get("type") == "message" and isinstance(msg, dict) and isinstance(
            before.get("message"), dict):
        if "id" in msg and "id" not in before["message"]:
            assert str(msg.pop("id")).startswith("msg_")
        if before["message"].get("content") is None and msg.get("content") == []:
            msg["content"] = None
        if "timestamp" in rec and parse_ns(before.get("timestamp")) is None:
            assert parse_ns(rec.pop("timestamp")) is not None
            if "timestamp" in before:
                # An unusable timestamp is replaced (Go could not read the
                # line at all: its time fields must be RFC 3339).
                rec["timestamp"] = before["timestamp"]
    return rec


@pytest.mark.parametrize("name", [n for n, (_, keep) in DAMAGED.items() if keep])
def test_damaged_json_objects_survive_load_save(empty_store: JSONLStore, name: str) -> None:
    raw, _ = DAMAGED[name]
    path = _file(empty_store, _good(), raw)
    before = loads_line(raw, exact=True)
    assert before is not None
    ses = empty_store.load(SID)
    empty_store.save(ses)
    after = [r for r in read_records(path) if isinstance(r, dict)]
    if name.startswith("meta_"):
        # This meta is the session's meta: save rewrites it with the
        # session's (validated) metadata, in place.
        assert [r.get("type") for r in after] == ["message", "meta"]
        return
    assert [r.get("type") for r in after][:2] == ["meta", "message"]
    # The damaged record is written back as it was read (numbers exact).
    assert len(after) == 3
    assert _normalized(after[2], before) == json.loads(json.dumps(before))
    # ... and it reads back the same again.
    again = empty_store.load(SID)
    empty_store.save(again)
    assert [r for r in read_records(path) if isinstance(r, dict)][2] == after[2]


def test_huge_integers_are_exact_after_save(empty_store: JSONLStore) -> None:
    path = _file(empty_store, _good(), DAMAGED["huge_int_cost"][0],
                 DAMAGED["huge_int_input"][0])
    ses = empty_store.load(SID)
    assert ses.cost == {"n": BIG}
    assert ses.messages[-1].content[0].input == {"n": -BIG}
    empty_store.save(ses)
    data = path.read_bytes()
    assert str(BIG).encode() in data and b"-" + str(BIG).encode() in data
    assert empty_store.load(SID).cost == {"n": BIG}


def test_non_utf8_and_lone_surrogates_read_as_replacement(empty_store: JSONLStore) -> None:
    # As Go's decoder: invalid bytes and lone surrogate escapes become U+FFFD,
    # so no string can fail to encode later (index, cache, --json output).
    _file(empty_store, DAMAGED["non_utf8"][0], DAMAGED["lone_surrogate_escape"][0])
    ses = empty_store.load(SID)
    assert ses.messages[0].texts() == ["bad \ufffd\ufffd bytes"]
    assert ses.messages[1].texts() == ["half \ufffd pair"]
    info = empty_store.list()[0]
    assert info.title == "bad \ufffd\ufffd bytes"
    assert not (empty_store.dir / "index.json").exists()  # list() writes no index
    empty_store.save(ses)  # writes the index: every string encodes
    index = json.loads((empty_store.dir / "index.json").read_bytes())
    assert [e["title"] for e in index] == ["bad \ufffd\ufffd bytes"]
    empty_store.load(SID)


def test_meta_with_wrong_types_reads_as_unset(empty_store: JSONLStore) -> None:
    path = _file(empty_store, DAMAGED["meta_wrong_types"][0], _good())
    os.utime(path, ns=(1_700_000_000 * 10**9,) * 2)
    ses = empty_store.load(SID)
    assert ses.title == "a real question"  # derived: the meta's title is no string
    assert ses.workspace == ""
    assert ses.tunnel_events_complete is False
    assert ses.updated_ns == 1_700_000_000 * 10**9  # mtime: no usable time anywhere


def test_out_of_range_times_read_as_unset(empty_store: JSONLStore) -> None:
    path = _file(empty_store, DAMAGED["meta_out_of_range_times"][0], _good())
    os.utime(path, ns=(1_700_000_000 * 10**9,) * 2)
    ses = empty_store.load(SID)
    assert ses.created_ns == ses.updated_ns == 1_700_000_000 * 10**9
    assert empty_store.list()[0].updated[0] == 1_700_000_000 * 10**9


def test_bad_timestamp_does_not_hide_good_ones(empty_store: JSONLStore) -> None:
    def msg(ts: str) -> bytes:
        return json.dumps({**REPLY, "timestamp": ts}).encode()

    _file(empty_store, msg("garbage"), _good(), msg("2026-03-01T00:00:00Z"),
          msg("2026-03-02T00:00:00Z"), msg("0001-01-01T00:00:00Z"), msg("also garbage"))
    ses = empty_store.load(SID)
    assert ses.created_at_str == "2026-03-01T00:00:00Z"
    assert ses.updated_at_str == "2026-03-02T00:00:00Z"
    info = empty_store.list()[0]
    assert (info.created[1], info.updated[1]) == ("2026-03-01T00:00:00Z", "2026-03-02T00:00:00Z")


def test_long_line_over_10mb_is_read(empty_store: JSONLStore) -> None:
    big = {"type": "message", "session_id": SID, "message": {
        "role": "assistant", "content": [{"type": "text", "text": "x" * (11 * 1024 * 1024)}]}}
    _file(empty_store, _good(), json.dumps(big).encode(), json.dumps(REPLY).encode())
    ses = empty_store.load(SID)
    assert len(ses.messages) == 3 and len(ses.messages[1].texts()[0]) == 11 * 1024 * 1024
    assert empty_store.list()[0].msg_count == 3


def test_deep_but_readable_record_survives_save(empty_store: JSONLStore) -> None:
    # orjson reads up to 1024 levels but writes only 254.
    deep = b'{"type":"x","v":' + b"[" * 1000 + b"]" * 1000 + b"}"
    path = _file(empty_store, _good(), deep)
    empty_store.save(empty_store.load(SID))
    assert path.read_bytes().splitlines()[-1] == deep


def test_deep_unreadable_record_is_skipped() -> None:
    assert loads_line(b'{"a":' * 5000 + b"1" + b"}" * 5000) is None
    assert loads_line(b"[" * 2000 + b"]" * 2000) is None


# -- index.json --------------------------------------------------------------

INDEXES: dict[str, bytes] = {
    "missing": b"",
    "empty": b"",
    "corrupt": b'[{"id": "x", "title": ',
    "object": b'{"id": "x"}',
    "null": b"null",
    "string": b'"index"',
    "number": b"7",
    "non_utf8": b'[{"id": "\xff"}]',
    "entries_wrong": (
        b'[1, "x", null, [], {"id": 5}, {"id": null}, {"title": "no id"},'
        b' {"id": "' + SID.encode() + b'", "title": 5, "created_at": "soon",'
        b' "updated_at": 12, "msg_count": "many", "workspace": {}, "model": []}]'),
    "traversal": (
        b'[{"id": "../../etc/passwd", "title": "evil", "updated_at": "2030-01-01T00:00:00Z",'
        b' "created_at": "2030-01-01T00:00:00Z", "msg_count": 1},'
        b' {"id": "a/b", "title": "evil2"}, {"id": "-rf", "title": "evil3"},'
        b' {"id": "x\\u0000y"}]'),
    "huge": b'[{"id": "' + SID.encode() + b'", "msg_count": 1' + b"0" * 40 + b"}]",
}


@pytest.mark.parametrize("name", list(INDEXES))
def test_bad_index_never_crashes(empty_store: JSONLStore, name: str) -> None:
    write_lines(empty_store.dir / f"{SID}.jsonl", GOOD, REPLY)
    ipath = empty_store.dir / "index.json"
    if name != "missing":
        ipath.write_bytes(INDEXES[name])
    read_index(empty_store.dir)
    ses = empty_store.load(SID)
    assert ses.title == "a real question"
    original = INDEXES[name] if name != "missing" else None
    infos = empty_store.list(include_hidden=True)
    assert [i.id for i in infos] == [SID]
    assert infos[0].msg_count == 2
    # list read the files and left the bad index as it was (SPEC §8.5: read
    # commands never write into the store); no bad id became a path.
    assert (ipath.read_bytes() if ipath.exists() else None) == original
    assert sorted(os.listdir(empty_store.dir)) == sorted(
        [f"{SID}.jsonl"] + (["index.json"] if original is not None else []))
    # Writers cope too. Appends never rewrite the index, not even for a new
    # file (SPEC §2.7); list shows the new file all the same.
    empty_store.append_message_to_disk(ses, Message.text_message("user", "more"))
    new = Session("20261124-145443-00000000000000d2")
    empty_store.append_message(new, Message.text_message("user", "new"))
    assert (ipath.read_bytes() if ipath.exists() else None) == original
    assert {i.id for i in empty_store.list()} == {SID, new.id}
    assert empty_store.cleanup_older_than(ses.created_at) == 0
    assert (ipath.read_bytes() if ipath.exists() else None) == original
    # A removal rewrites it, rebuilt from the files.
    empty_store.delete(SID)
    assert [e["id"] for e in json.loads(ipath.read_bytes())] == [new.id]


def test_index_entry_with_traversal_id_is_ignored(tmp_path: Path) -> None:
    store = JSONLStore(tmp_path / "s")
    (tmp_path / "victim.jsonl").write_text(json.dumps(GOOD) + "\n")
    (store.dir / "index.json").write_text(json.dumps([
        {"id": "../victim", "title": "x", "created_at": "2020-01-01T00:00:00Z",
         "updated_at": "2020-01-01T00:00:00Z", "msg_count": 1}]))
    assert store.list(include_hidden=True) == []
    assert store.cleanup_older_than(datetime.now(timezone.utc)) == 0
    assert (tmp_path / "victim.jsonl").exists()


def test_corrupt_summary_cache_is_ignored(empty_store: JSONLStore) -> None:
    write_lines(empty_store.dir / f"{SID}.jsonl", GOOD)
    empty_store.list()
    cache_dir = Path(os.environ["SESSIONCTL_CACHE_DIR"])
    files = list(cache_dir.iterdir())
    assert files  # the cache lives there, not in the store
    for f in files:
        f.write_bytes(b"\x00garbage{")
    assert [i.id for i in empty_store.list()] == [SID]
    for f in cache_dir.iterdir():
        data = json.loads(f.read_bytes())
        data["files"] = {SID: [1, 2, 3, ["wrong"]]}
        f.write_text(json.dumps(data))
    assert [i.id for i in empty_store.list()] == [SID]


def test_odd_files_in_store(empty_store: JSONLStore) -> None:
    d = empty_store.dir
    write_lines(d / f"{SID}.jsonl", GOOD)
    (d / "..jsonl").write_text("x")
    (d / "-x.jsonl").write_text(json.dumps(GOOD))
    (d / ".hidden.jsonl").write_text(json.dumps(GOOD))
    (d / "notes.txt").write_text("x")
    (d / f"{SID}.jsonl.tmp").write_text("x")
    (d / "sub").mkdir()
    (d / "dir.jsonl").mkdir()
    os.symlink(d / f"{SID}.jsonl", d / "link.jsonl")
    os.symlink(d / "nowhere", d / "dangling.jsonl")
    listing = empty_store.listing(include_hidden=True)
    assert [i.id for i in listing.sessions] == [SID]
    assert {s for s, _ in listing.skipped} == {"dir", "link", "dangling"}
    for sid in ("dir", "link", "dangling"):
        with pytest.raises(SessionError):
            empty_store.load(sid)
    assert empty_store.cleanup(empty=True, before=None).removed == []
    assert (d / "link.jsonl").is_symlink() and (d / "dir.jsonl").is_dir()


def test_dumps_line_never_writes_invalid_json() -> None:
    rec: dict[str, Any] = {"type": "x", "n": BIG, "s": "日本語 \u2028 <html>"}
    line = dumps_line(rec)
    assert line.endswith(b"\n") and json.loads(line) == rec
    assert loads_line(line, exact=True) == rec


def test_long_line_survives_save(empty_store: JSONLStore) -> None:
    text = "y" * (11 * 1024 * 1024)
    big = {"type": "usage", "blob": text}
    path = _file(empty_store, _good(), json.dumps(big).encode())
    empty_store.save(empty_store.load(SID))
    assert read_records(path)[-1] == big


_example_clock = [1_700_000_000 * 10**9]
_FILE_LINES = st.lists(
    st.one_of(
        st.binary(max_size=40),
        st.sampled_from([raw for raw, _ in DAMAGED.values() if len(raw) < 1000]),
        st.just(json.dumps(GOOD).encode()),
        st.just(json.dumps(REPLY).encode()),
    ),
    max_size=6,
)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(lines=_FILE_LINES, torn=st.binary(max_size=20))
def test_any_file_content_never_crashes_the_store(
    empty_store: JSONLStore, lines: list[bytes], torn: bytes
) -> None:
    path = empty_store.dir / f"{SID}.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n" + torn)
    # A distinct mtime per example: the summary cache keys on (size, mtime,
    # inode), and two same-size writes within the clock tick would look alike.
    _example_clock[0] += 10**9
    os.utime(path, ns=(_example_clock[0], _example_clock[0]))
    ses = empty_store.load(SID)
    json.dumps(ses.to_dict())
    empty_store.export_markdown(SID).encode("utf-8")
    infos = empty_store.list(include_hidden=True)
    assert [i.id for i in infos] == [SID]
    assert infos[0].msg_count == len(ses.messages)
    assert infos[0].hidden is not ses.has_user_interaction()
    empty_store.append_message_to_disk(ses, Message.text_message("user", "appended"))
    again = empty_store.load(SID)
    assert again.messages[-1].texts() == ["appended"]
    empty_store.save(again)
    assert [m.to_dict() for m in empty_store.load(SID).messages] == [
        m.to_dict() for m in again.messages]
