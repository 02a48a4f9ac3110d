"""The single-pass scan behind export-md and show --json.

The streamed documents equal what the loaded Session gives, whatever the
file holds and however its lines fall across read blocks.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from builders import write_lines
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_records import SID, lines_of, records

import sessionctl.core.records as records_mod
from sessionctl import JSONLStore, export_session_markdown

FILES = settings(max_examples=40, deadline=None,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
SUMMARY = "[Previous conversation summary]"


def documents(store: JSONLStore, sid: str) -> dict[str, bytes]:
    """Every streamed document of one session."""
    out: dict[str, bytes] = {}
    for context in (False, True):
        buf = io.StringIO()
        store.write_markdown(sid, buf, context=context)
        out[f"md{context}"] = buf.getvalue().encode()
        raw = io.BytesIO()
        store.write_json(sid, raw, context=context)
        out[f"json{context}"] = raw.getvalue()
    return out


def expected(store: JSONLStore, sid: str) -> dict[str, Any]:
    """What the loaded Session says."""
    ses = store.load(sid)
    want: dict[str, Any] = {}
    for context in (False, True):
        d = ses.to_dict()
        if context:
            d["messages"] = d["context_messages"]
        want[f"json{context}"] = d
        want[f"md{context}"] = export_session_markdown(ses, context=context).encode()
    return want


def check(store: JSONLStore, sid: str, docs: dict[str, bytes]) -> None:
    want = expected(store, sid)
    for context in (False, True):
        got = json.loads(docs[f"json{context}"])
        assert list(got) == list(want[f"json{context}"])
        assert got == json.loads(json.dumps(want[f"json{context}"])), (sid, context)
        assert docs[f"md{context}"] == want[f"md{context}"], (sid, context)


def test_fixture_sessions_stream_as_loaded(dir216: Path, dir33: Path) -> None:
    for d in (dir216, dir33):
        store = JSONLStore(d)
        for sid in store.ids():
            check(store, sid, documents(store, sid))


# -- generated files: checkpoints, summaries, duplicates across the halves ---------

summary_ids = st.sampled_from(["s1", "s2", "msg_a"])


@st.composite
def summary_records(draw: st.DrawFn) -> dict[str, Any]:
    """A compaction summary message, or a v1.3.2xx checkpoint naming one."""
    if draw(st.booleans()):
        return {"type": "message", "session_id": SID, "message": {
            "id": draw(summary_ids), "role": "system",
            "content": [{"type": "text", "text": SUMMARY + " " + draw(st.text(max_size=8))}]}}
    return {"type": "checkpoint", "session_id": SID,
            "checkpoint_summary_msg_id": draw(summary_ids),
            "checkpoint_last_msg_id": draw(st.sampled_from(["", "msg_a", "msg_b", "s1"])),
            "checkpoint_tokens": draw(st.integers(0, 99))}


session_files = st.lists(records() | summary_records(), min_size=1, max_size=16)


def write_session(tmp: Path, recs: list[dict[str, Any]]) -> JSONLStore:
    write_lines(tmp / f"{SID}.jsonl", raw=b"".join(lines_of(recs)), mode=None)
    return JSONLStore(tmp, cache=False)


@FILES
@given(session_files)
def test_generated_sessions_stream_as_loaded(recs: list[dict[str, Any]]) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp, pytest.MonkeyPatch.context() as mp:
        store = write_session(Path(tmp), recs)
        one = documents(store, SID)
        check(store, SID, one)
        mp.setattr(records_mod, "_BLOCK", 64)  # lines across many read blocks
        assert documents(store, SID) == one


def test_duplicate_id_is_read_once(tmp_path: Path) -> None:
    """A message id seen twice is read once, as ``load`` does."""
    def m(mid: str, text: str, ts: str) -> dict[str, Any]:
        return {"type": "message", "session_id": SID, "timestamp": ts,
                "message": {"id": mid, "role": "user", "content": [{"type": "text", "text": text}]}}

    recs = [m(f"m{i}", f"t{i}", f"2026-01-01T00:00:{i:02d}Z") for i in range(10)]
    recs.append(m("m1", "the duplicate", "2026-06-01T00:00:00Z"))
    store = write_session(tmp_path, recs)
    docs = documents(store, SID)
    check(store, SID, docs)
    assert b"the duplicate" not in docs["mdFalse"]
    assert json.loads(docs["jsonFalse"])["updated_at"] == "2026-01-01T00:00:09Z"


def test_numbers_beyond_64_bits_are_shown_exactly(tmp_path: Path) -> None:
    """orjson reads integers beyond 64 bits as floats: wherever an export
    shows one (tool input, any message field in JSON, a checkpoint's tokens
    and messages, tunnel events, the cost), its line is read again exactly;
    real floats and "e+" in text stay as they are."""
    big, neg = 18446744073709551616, -9223372036854775809
    huge = 123456789012345678901234567890

    def tool(mid: str, value: Any) -> dict[str, Any]:
        return {"id": mid, "role": "assistant", "content": [
            {"type": "tool_use", "tool_name": "t", "input": {"n": value}}]}

    recs: list[dict[str, Any]] = [
        {"type": "message", "session_id": SID, "message": tool("m1", big)},
        {"type": "message", "session_id": SID, "message": tool("m2", [neg, 1e20, "size+1e+5"])},
        {"type": "message", "session_id": SID, "message": {
            "id": "m3", "role": "user", "extra": huge,
            "content": [{"type": "text", "text": "a line+ and 1e+30"}]}},
        {"type": "checkpoint", "session_id": SID, "checkpoint_tokens": huge,
         "checkpoint_messages": [tool("c1", -huge)]},
        {"type": "message", "session_id": SID, "message": tool("m4", 7)},
        {"type": "tunnel_event", "session_id": SID,
         "tunnel_event": {"event_id": "e", "type": "x", "data": {"n": huge}}},
        {"type": "cost", "session_id": SID, "cost": {"usd": huge}},
    ]
    store = write_session(tmp_path, recs)
    one = documents(store, SID)
    check(store, SID, one)
    md = one["mdFalse"].decode()
    for n in (big, neg, -huge):
        assert str(n) in md
    assert f"({huge} tokens)" in md and "1e+20" in md and "size+1e+5" in md
    doc = json.loads(one["jsonFalse"])
    assert doc["messages"][2]["extra"] == huge and doc["cost"] == {"usd": huge}
    assert doc["tunnel_events"][0]["data"] == {"n": huge}
