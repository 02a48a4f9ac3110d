"""The data model: loss-free payload objects and Session.to_dict / from_dict (SPEC §5)."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from pathlib import Path

import pytest
from conftest import V1333, V13216

from sessionctl import (
    ContentBlock,
    JSONLStore,
    Message,
    Session,
    SessionInfo,
    TunnelEvent,
    new_session,
)
from sessionctl.core.session import Checkpoint

pytestmark = pytest.mark.usefixtures("fast_fsync")

SESSION_KEYS = [
    "id", "title", "workspace", "vendor", "endpoint", "model", "created_at", "updated_at",
    "messages", "context_messages", "checkpoints", "tunnel_events", "tunnel_events_complete",
    "cost", "has_user_interaction",
]


# -- ContentBlock -----------------------------------------------------------

def test_block_unknown_fields_and_key_order_survive() -> None:
    d = {"type": "tool_use", "future": {"x": [1]}, "tool_name": "grep", "input": {"b": 1, "a": 2},
         "cache": True}
    b = ContentBlock.from_dict(d)
    assert b.to_dict() == d and list(b.to_dict()) == list(d)
    assert b.extra == {"future": {"x": [1]}, "cache": True}
    assert (b.type, b.tool_name, b.input) == ("tool_use", "grep", {"b": 1, "a": 2})
    d["tool_name"] = "changed"  # from_dict copied
    assert b.tool_name == "grep"
    b.to_dict()["type"] = "x"  # to_dict returns a copy
    assert b.type == "tool_use"


def test_block_wrong_typed_known_fields_read_as_unset_but_are_kept() -> None:
    d = {"type": "text", "text": 5, "is_error": "yes", "images": "no", "output": None}
    b = ContentBlock.from_dict(d)
    assert (b.text, b.is_error, b.images, b.output) == ("", False, [], "")
    assert b.to_dict() == d


def test_block_constructor_and_setters() -> None:
    b = ContentBlock("text", text="hi", image_mime=None)
    assert b.to_dict() == {"type": "text", "text": "hi"}
    b.text = None
    assert b.to_dict() == {"type": "text"}
    b.text = "again"
    b.type = "thinking"
    assert b.to_dict() == {"type": "thinking", "text": "again"}
    assert ContentBlock("x") == ContentBlock.from_dict({"type": "x"})
    with pytest.raises(TypeError):
        ContentBlock.from_dict([("type", "x")])  # type: ignore[arg-type]


# -- Message ----------------------------------------------------------------

def test_message_round_trip_keeps_unknown_fields() -> None:
    d = {"id": "msg_1", "role": "assistant", "content": [
        {"type": "thinking", "thinking_signature": "sig", "new": 1},
        {"type": "text", "text": "hi"}], "timestamp": "2026-05-01T10:00:01Z", "z": None}
    m = Message.from_dict(d)
    assert m.to_dict() == d and list(m.to_dict()) == list(d)
    assert (m.id, m.role, m.texts()) == ("msg_1", "assistant", ["hi"])
    assert m.extra == {"timestamp": "2026-05-01T10:00:01Z", "z": None}
    assert m.timestamp == ""  # the record-level timestamp, not this message field
    d["content"][1]["text"] = "changed"
    assert m.texts() == ["hi"]


@pytest.mark.parametrize("bad", [
    {"content": []}, {"role": 1, "content": []}, {"role": "user", "content": "str"},
    {"role": "user", "content": ["a"]}, {"role": "user", "content": {}},
    {"id": 5, "role": "user", "content": []},
])
def test_message_from_dict_rejects_non_messages(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        Message.from_dict(bad)


def test_message_null_content_reads_as_empty() -> None:
    m = Message.from_dict({"role": "user", "content": None})
    assert m.content == [] and m.texts() == []


def test_message_constructor_and_id() -> None:
    m = Message("user", [ContentBlock("text", text="q")])
    assert m.to_dict() == {"role": "user", "content": [{"type": "text", "text": "q"}]}
    m.id = "msg_x"
    assert list(m.to_dict()) == ["id", "role", "content"]  # the reference's order
    m.id = "msg_y"
    assert m.to_dict()["id"] == "msg_y"
    m2 = Message("assistant", id="msg_z", timestamp="2026-01-01T00:00:00Z")
    assert m2.to_dict() == {"id": "msg_z", "role": "assistant", "content": []}
    assert m2.timestamp == "2026-01-01T00:00:00Z"
    assert Message.text_message("user", "q") == Message("user", [ContentBlock("text", text="q")])
    m.role = "system"
    assert m.role == "system"


def test_ensure_identity() -> None:
    m = Message.text_message("user", "q")
    m.ensure_identity(1_700_000_000 * 10**9 + 1)
    assert re.fullmatch(
        r"msg_[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", m.id)
    assert m.timestamp == "2023-11-14T22:13:20.000000001Z"
    first = (m.id, m.timestamp)
    m.ensure_identity(1_800_000_000 * 10**9)
    assert (m.id, m.timestamp) == first  # kept when present
    z = Message("user", timestamp="0001-01-01T00:00:00Z")
    z.ensure_identity(1_800_000_000 * 10**9)
    assert z.timestamp == "2027-01-15T08:00:00Z"  # a zero time is unset


# -- TunnelEvent -------------------------------------------------------------

def test_tunnel_event() -> None:
    e = TunnelEvent("ev-1", "text_delta", stream_id="st", data={"t": 1})
    assert e.to_dict() == {"event_id": "ev-1", "stream_id": "st", "type": "text_delta",
                           "data": {"t": 1}}
    assert TunnelEvent("ev-2", "done").to_dict() == {"event_id": "ev-2", "type": "done"}
    d = {"event_id": 1, "type": "x", "new": [1], "data": None}
    f = TunnelEvent.from_dict(d)
    assert f.to_dict() == d and (f.event_id, f.stream_id, f.type, f.data) == ("", "", "x", None)
    assert f == TunnelEvent.from_dict(dict(d))


# -- Session ----------------------------------------------------------------

def _fixture_sessions(tmp_path: Path) -> list[Session]:
    out = []
    for fx in (V1333, V13216):
        store = JSONLStore(tmp_path / fx.name)
        for p in sorted((fx / "sessions").glob("*.jsonl")):
            (store.dir / p.name).write_bytes(p.read_bytes())
        if (fx / "sessions" / "index.json").exists():
            (store.dir / "index.json").write_bytes((fx / "sessions" / "index.json").read_bytes())
        out.extend(store.load(p.stem) for p in sorted((fx / "sessions").glob("*.jsonl")))
    return out


def test_to_dict_shape(tmp_path: Path) -> None:
    for ses in _fixture_sessions(tmp_path):
        d = ses.to_dict()
        assert list(d) == SESSION_KEYS
        json.dumps(d)
        assert d["messages"] == [m.to_dict() for m in ses.messages]
        assert d["context_messages"] == [m.to_dict() for m in ses.context_messages]
        assert d["created_at"] == ses.created_at_str and d["updated_at"] == ses.updated_at_str
        assert d["has_user_interaction"] is ses.has_user_interaction()
        for cp in d["checkpoints"]:
            assert set(cp) == {"after_message", "tokens", "messages"}
            assert 0 <= cp["after_message"] <= len(d["messages"])


def test_to_dict_checkpoints(tmp_path: Path) -> None:
    by_id = {s.id: s for s in _fixture_sessions(tmp_path)}
    # v1.3.33 legacy checkpoint after 8 messages, 2 messages in it.
    assert by_id["20261124-145443-b233e91a293453b3"].to_dict()["checkpoints"] == [
        {"after_message": 8, "tokens": 1234, "messages": 2}]
    # The empty legacy checkpoint is ignored (SPEC §6), so not shown.
    assert by_id["20261124-145443-e656c7034fa9660c"].to_dict()["checkpoints"] == []
    # v1.3.216 new-format checkpoints: the summary message is the context.
    assert by_id["20261125-111826-08321499f0326c67"].to_dict()["checkpoints"] == [
        {"after_message": 3, "tokens": 2048, "messages": 1},
        {"after_message": 6, "tokens": 1024, "messages": 1}]


def test_from_dict_rebuilds_what_to_dict_shows(tmp_path: Path) -> None:
    for ses in _fixture_sessions(tmp_path):
        d = ses.to_dict()
        back = Session.from_dict(json.loads(json.dumps(d)))
        d2 = back.to_dict()
        # Only the last checkpoint is rebuilt (as a legacy one carrying its
        # context): earlier checkpoints' messages are not in the view.
        assert d2["checkpoints"] == d["checkpoints"][-1:], ses.id
        assert {k: v for k, v in d2.items() if k != "checkpoints"} == {
            k: v for k, v in d.items() if k != "checkpoints"}, ses.id


def test_from_dict_minimal() -> None:
    s = Session.from_dict({"id": "x"})
    assert (s.id, s.title, s.messages, s.cost, s.checkpoints) == ("x", "", [], None, [])
    d = s.to_dict()
    assert d["created_at"] == d["updated_at"] == "1970-01-01T00:00:00Z"


def test_context_is_derived_from_messages() -> None:
    s = Session("x")
    s.messages = [Message.text_message("user", "a"), Message.text_message("assistant", "b")]
    s.checkpoints.append(Checkpoint(after_message=1, tokens=3,
                                    messages=[Message.text_message("user", "sum")]))
    assert [m.texts()[0] for m in s.context_messages] == ["sum", "b"]
    s.messages.append(Message.text_message("user", "c"))
    assert [m.texts()[0] for m in s.context_messages] == ["sum", "b", "c"]


def test_append_to_messages_then_save(empty_store: JSONLStore) -> None:
    s = new_session("v", "e", "m")
    s.messages.append(Message.text_message("user", "hello"))
    empty_store.save(s)
    loaded = empty_store.load(s.id)
    loaded.messages.append(Message.text_message("assistant", "hi"))
    loaded.title = "Renamed"
    loaded.tunnel_events.append(TunnelEvent("e", "done"))
    empty_store.append_checkpoint(loaded, [Message.text_message("user", "summary")], 10)
    loaded.messages.append(Message.text_message("user", "after"))
    empty_store.save(loaded)
    again = empty_store.load(s.id)
    assert [m.texts()[0] for m in again.messages] == ["hello", "hi", "after"]
    assert [m.texts()[0] for m in again.context_messages] == ["summary", "after"]
    assert again.title == "Renamed" and [e.event_id for e in again.tunnel_events] == ["e"]


def test_plain_attributes_and_times() -> None:
    s = Session("x", title="t")
    s.title, s.workspace, s.vendor, s.endpoint, s.model = "a", "b", "c", "d", "e"
    s.tunnel_events_complete = True
    s.cost = {"usd": 1}
    when = datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=timezone.utc)
    s.created_at = when
    s.updated_at = when
    assert s.created_at == when and s.created_at.tzinfo is not None
    assert s.created_at_str == "2026-01-02T03:04:05.123456Z"
    d = s.to_dict()
    assert (d["title"], d["model"], d["cost"], d["tunnel_events_complete"]) == (
        "a", "e", {"usd": 1}, True)
    assert "x" in repr(s)


def test_has_user_interaction() -> None:
    s = Session("x")
    assert not s.has_user_interaction()
    s.messages.append(Message.text_message("user", " \n"))
    assert not s.has_user_interaction()
    s.messages.append(Message("user", [ContentBlock("tool_result", output="x")]))
    assert not s.has_user_interaction()
    s.messages.append(Message.text_message("assistant", "text"))
    assert not s.has_user_interaction()
    s.messages.append(Message.text_message("user", "real"))
    assert s.has_user_interaction()


def test_session_info_to_dict() -> None:
    info = SessionInfo(
        id="i", title="t", workspace="/w", vendor="v", endpoint="e", model="m",
        created=(0, "1970-01-01T00:00:00Z"), updated=(10**9, "1970-01-01T00:00:01Z"),
        msg_count=3, hidden=False, preview="p")
    assert info.to_dict() == {
        "id": "i", "title": "t", "workspace": "/w", "vendor": "v", "endpoint": "e",
        "model": "m", "created_at": "1970-01-01T00:00:00Z",
        "updated_at": "1970-01-01T00:00:01Z", "msg_count": 3, "hidden": False}
    assert info.updated_at == datetime(1970, 1, 1, 0, 0, 1, tzinfo=timezone.utc)


@pytest.mark.parametrize("bad", [{}, {"id": 5}, {"title": "x"}, [("id", "x")]])
def test_from_dict_rejects_non_sessions(bad: object) -> None:
    with pytest.raises(ValueError):
        Session.from_dict(bad)  # type: ignore[arg-type]
