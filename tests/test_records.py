"""Line parsing and folding: Hypothesis properties and the reference's rules."""

from __future__ import annotations

import io
import json
import re
from datetime import datetime, timezone
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sessionctl.core.records as records_mod
from sessionctl.core.folds import MetaFold, read_session, summarize
from sessionctl.core.records import dumps_line, loads_line, serialize
from sessionctl.core.session import Session
from sessionctl.core.times import ZERO_TIME, format_ns

SID = "20261124-145443-0000000000000abc"
NOW = "2026-11-25T12:00:00Z"
FAST = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])
#: For properties over whole files of generated records (costly to draw).
FILES = settings(max_examples=60, deadline=None,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# -- strategies ---------------------------------------------------------------

json_scalars = (
    st.none() | st.booleans() | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                max_size=3),
    max_leaves=8,
)
times = st.one_of(
    st.just(ZERO_TIME),
    st.integers(min_value=0, max_value=4_000_000_000 * 10**9).map(format_ns),
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1),
                 timezones=st.just(timezone.utc)).map(lambda d: d.isoformat()),
    st.text(max_size=5),
)
ids = st.sampled_from(["", "msg_a", "msg_b", "msg_c", "msg_d"]) | st.text(max_size=4)


@st.composite
def blocks(draw: st.DrawFn) -> dict[str, Any]:
    b: dict[str, Any] = {"type": draw(st.sampled_from(
        ["text", "tool_use", "tool_result", "image", "thinking", "new_kind"]))}
    for key, strat in (
        ("text", st.text(max_size=20)), ("tool_name", st.text(max_size=5)),
        ("tool_id", st.text(max_size=5)), ("input", json_values),
        ("output", st.text(max_size=10)), ("is_error", st.booleans()),
        ("image_mime", st.just("image/png")), ("reasoning_content", st.text(max_size=5)),
        ("future_field", json_values),
    ):
        if draw(st.booleans()):
            b[key] = draw(strat)
    return b


@st.composite
def messages(draw: st.DrawFn) -> dict[str, Any]:
    m: dict[str, Any] = {}
    mid = draw(ids)
    if mid:
        m["id"] = mid
    m["role"] = draw(st.sampled_from(["user", "assistant", "system", "tool", ""]))
    m["content"] = draw(st.none() | st.lists(blocks(), max_size=3))
    if draw(st.booleans()):
        m["unknown"] = draw(json_values)
    return m


@st.composite
def records(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(
        ["meta", "message", "message", "message", "checkpoint", "checkpoint2",
         "tunnel_event", "cost", "usage", "other"]))
    rec: dict[str, Any]
    if kind == "meta":
        rec = {"type": "meta", "session_id": SID}
        for key in ("title", "workspace", "vendor", "endpoint", "model", "preview",
                    "permission_mode"):
            if draw(st.booleans()):
                rec[key] = draw(st.text(max_size=8))
        rec["created_at"] = draw(times)
        rec["updated_at"] = draw(times)
        if draw(st.booleans()):
            rec["tunnel_events_complete"] = draw(st.booleans())
    elif kind == "message":
        rec = {"type": "message", "session_id": SID, "message": draw(messages())}
        if draw(st.booleans()):
            rec["timestamp"] = draw(times)
        if draw(st.booleans()):
            rec["token_usage"] = {"input_tokens": draw(st.integers(0, 10**6))}
    elif kind == "checkpoint":
        rec = {"type": "checkpoint", "session_id": SID,
               "checkpoint_messages": draw(st.lists(messages(), max_size=3)),
               "checkpoint_tokens": draw(st.integers(0, 10**6))}
    elif kind == "checkpoint2":
        rec = {"type": "checkpoint", "session_id": SID,
               "checkpoint_summary_msg_id": draw(ids), "checkpoint_last_msg_id": draw(ids),
               "checkpoint_tokens": draw(st.integers(0, 10**6)), "timestamp": draw(times)}
    elif kind == "tunnel_event":
        ev: dict[str, Any] = {"event_id": draw(st.text(max_size=4)),
                              "type": draw(st.text(max_size=4))}
        if draw(st.booleans()):
            ev["data"] = draw(json_values)
        rec = {"type": "tunnel_event", "session_id": SID, "tunnel_event": ev}
    elif kind == "cost":
        rec = {"type": "cost", "session_id": SID, "cost": draw(json_values)}
    elif kind == "usage":
        rec = {"type": "usage", "usage_entry": draw(json_values), "timestamp": draw(times)}
    else:
        rec = {"type": draw(st.text(max_size=6)), "payload": draw(json_values)}
    return rec


def lines_of(recs: list[dict[str, Any]]) -> list[bytes]:
    return [dumps_line(r) for r in recs]


def fold(sid: str, lines: Any) -> tuple[Session, MetaFold]:
    """The loaded session and its metadata fold, as ``load`` reads a file."""
    ses, reading = read_session(sid, lines)
    return ses, reading.mf


def fold_timed(lines: list[bytes]) -> Session:
    """fold, with times resolved from the file alone as the store does."""
    ses, mf = fold(SID, lines)
    ses._set_times(*mf.times())
    return ses


def semantic(ses: Session) -> dict[str, Any]:
    return {
        "meta": (ses.title, ses.workspace, ses.vendor, ses.endpoint, ses.model,
                 ses.tunnel_events_complete),
        "messages": [(m.to_dict(), m.record_fields) for m in ses.messages],
        "context": [m.to_dict() for m in ses.context_messages],
        "checkpoints": [
            (c.after_message, c.tokens, c.summary_msg_id, c.last_msg_id,
             None if c.messages is None else [m.to_dict() for m in c.messages])
            for c in ses.checkpoints],
        "events": [(e.to_dict(), e.record_fields) for e in ses.tunnel_events],
        "cost": ses.cost,
        "raw": [r for k, r in ses._layout if k == "raw"],
        "interaction": ses.has_user_interaction(),
    }


def canon(x: Any) -> Any:
    return json.loads(json.dumps(x))


# -- properties ---------------------------------------------------------------

@FAST
@given(st.lists(st.binary(max_size=60), max_size=8))
def test_arbitrary_bytes_never_crash(lines: list[bytes]) -> None:
    for ln in lines:
        r = loads_line(ln)
        assert r is None or isinstance(r, dict)
        exact = loads_line(ln, exact=True)
        assert (exact is None) == (r is None)  # both readers take the same lines
        if not re.search(rb"\d{19}", ln):  # only numbers beyond 64 bits may differ
            assert exact == r
    ses, mf = fold(SID, lines)
    mf.times()
    ses.to_dict()
    summarize(lines)
    b"".join(serialize(ses, NOW))


@FILES
@given(st.lists(
    st.one_of(records().map(dumps_line), st.binary(max_size=30),
              json_values.map(lambda v: json.dumps(v).encode())),
    max_size=10))
def test_mixed_good_and_bad_lines_never_crash(lines: list[bytes]) -> None:
    ses, mf = fold(SID, lines)
    mf.times()
    s = summarize(lines)
    assert s.msg_count == len(ses.messages)
    assert s.user_interaction == ses.has_user_interaction()
    out = list(serialize(ses, NOW))
    for ln in out:
        assert loads_line(ln, exact=True) is not None  # every written line is a record


@FILES
@given(st.lists(records(), max_size=12))
def test_valid_records_round_trip(recs: list[dict[str, Any]]) -> None:
    l0 = lines_of(recs)
    s0 = fold_timed(l0)
    l1 = list(serialize(s0, NOW))
    s1 = fold_timed(l1)
    assert canon(semantic(s1)) == canon(semantic(s0))
    # Idempotent once normalised: a second save writes the same bytes.
    l2 = list(serialize(s1, NOW))
    assert l2 == l1
    # Every record read is written (plus one meta when there was none).
    n_meta = 0 if any(r["type"] == "meta" for r in recs) else 1
    assert len(l1) == len(recs) + n_meta


@FILES
@given(st.lists(records(), max_size=12))
def test_summary_agrees_with_fold(recs: list[dict[str, Any]]) -> None:
    lines = lines_of(recs)
    ses, mf = fold(SID, lines)
    s = summarize(lines)
    assert s.msg_count == len(ses.messages)
    assert s.user_interaction == ses.has_user_interaction()
    assert (s.title, s.workspace, s.vendor, s.endpoint, s.model) == (
        ses.title, ses.workspace, ses.vendor, ses.endpoint, ses.model)
    assert (s.created, s.updated) == mf.times()


@FAST
@given(json_values)
def test_dumps_loads_any_object(v: Any) -> None:
    rec = {"type": "x", "v": v}
    line = dumps_line(rec)
    assert line.endswith(b"\n") and b"\n" not in line[:-1]
    assert loads_line(line, exact=True) == rec


# -- the reference's reading rules ---------------------------------------------

def msg(role: str, text: str, mid: str | None = None, ts: str | None = None) -> dict[str, Any]:
    m: dict[str, Any] = {"role": role, "content": [{"type": "text", "text": text}]}
    if mid:
        m = {"id": mid, **m}
    rec: dict[str, Any] = {"type": "message", "session_id": SID, "message": m}
    if ts:
        rec["timestamp"] = ts
    return rec


def test_latest_meta_wins_and_workspace_is_sticky() -> None:
    ses, _ = fold(SID, lines_of([
        {"type": "meta", "title": "a", "workspace": "/w", "model": "m1",
         "tunnel_events_complete": True},
        {"type": "meta", "title": "b", "model": "m2"},
    ]))
    assert (ses.title, ses.workspace, ses.model, ses.tunnel_events_complete) == (
        "b", "/w", "m2", False)


def test_blank_and_crlf_lines() -> None:
    lines = b"\n  \n" + dumps_line(msg("user", "x")).replace(b"\n", b"\r\n") + b"\t\n"
    ses, _ = fold(SID, lines.splitlines(keepends=True))
    assert [m.texts() for m in ses.messages] == [["x"]]


def test_duplicates_read_once_first_wins() -> None:
    ses, _ = fold(SID, lines_of([msg("user", "first", "msg_1"), msg("user", "again", "msg_1"),
                                 msg("user", "no id"), msg("user", "no id")]))
    assert [m.texts()[0] for m in ses.messages] == ["first", "no id", "no id"]
    assert summarize(lines_of([msg("user", "a", "msg_1"), msg("user", "a", "msg_1")])
                     ).msg_count == 1


def test_legacy_checkpoint_context() -> None:
    ses, _ = fold(SID, lines_of([
        msg("user", "one"), msg("assistant", "two"),
        {"type": "checkpoint", "checkpoint_messages": [
            {"role": "user", "content": [{"type": "text", "text": "summary"}]}],
         "checkpoint_tokens": 5},
        msg("user", "three"),
    ]))
    assert [m.texts()[0] for m in ses.context_messages] == ["summary", "three"]
    assert [m.texts()[0] for m in ses.messages] == ["one", "two", "three"]
    assert ses.to_dict()["checkpoints"] == [{"after_message": 2, "tokens": 5, "messages": 1}]


def test_empty_legacy_checkpoint_is_ignored() -> None:
    ses, _ = fold(SID, lines_of([
        msg("user", "one"),
        {"type": "checkpoint", "checkpoint_messages": [
            {"role": "user", "content": [{"type": "text", "text": "s"}]}]},
        msg("user", "two"),
        {"type": "checkpoint"},
        {"type": "checkpoint", "checkpoint_messages": []},
        msg("user", "three"),
    ]))
    # The empty ones are skipped: the first checkpoint still sets the context.
    assert [m.texts()[0] for m in ses.context_messages] == ["s", "two", "three"]
    assert len(ses.to_dict()["checkpoints"]) == 1


def test_new_checkpoint_rules() -> None:
    base = [msg("user", "a", "msg_a"), msg("assistant", "b", "msg_b"),
            msg("system", "[Previous conversation summary] s", "msg_s"),
            msg("user", "c", "msg_c")]

    def ctx(*cps: dict[str, Any], order: list[dict[str, Any]] | None = None) -> list[str]:
        ses, _ = fold(SID, lines_of([*(order or base), *cps]))
        return [m.id for m in ses.context_messages]

    cp = {"type": "checkpoint", "checkpoint_summary_msg_id": "msg_s"}
    # last id before the summary: everything after the summary.
    assert ctx({**cp, "checkpoint_last_msg_id": "msg_b"}) == ["msg_s", "msg_c"]
    # no last id: everything after the summary.
    assert ctx(cp) == ["msg_s", "msg_c"]
    # last id after the summary: what follows it.
    order = [base[0], base[2], base[1], base[3]]
    assert ctx({**cp, "checkpoint_last_msg_id": "msg_b"}, order=order) == ["msg_s", "msg_c"]
    assert ctx({**cp, "checkpoint_last_msg_id": "msg_a"}, order=order) == [
        "msg_s", "msg_b", "msg_c"]
    # unknown last id: everything after the summary.
    assert ctx({**cp, "checkpoint_last_msg_id": "msg_zz"}) == ["msg_s", "msg_c"]
    # summary not in the file: ignored (the whole history).
    assert ctx({"type": "checkpoint", "checkpoint_summary_msg_id": "msg_zz"}) == [
        "msg_a", "msg_b", "msg_s", "msg_c"]
    # the summary may come after the checkpoint record.
    ses, _ = fold(SID, lines_of([base[0], base[1], {**cp, "checkpoint_last_msg_id": "msg_b"},
                                 base[2], base[3]]))
    assert [m.id for m in ses.context_messages] == ["msg_s", "msg_c"]


def test_times_from_records() -> None:
    _, mf = fold(SID, lines_of([
        msg("user", "a", ts="2026-01-01T00:00:00Z"),
        {"type": "meta", "created_at": "2025-12-31T00:00:00Z",
         "updated_at": "2026-01-01T00:00:05Z"},
        msg("user", "b", ts="2026-01-01T00:00:03Z"),
    ]))
    assert mf.times() == ((1767139200 * 10**9, "2025-12-31T00:00:00Z"),
                          (1767225605 * 10**9, "2026-01-01T00:00:05Z"))
    _, mf2 = fold(SID, lines_of([msg("user", "a", ts="2026-01-01T00:00:00Z"),
                                 {"type": "meta", "created_at": ZERO_TIME,
                                  "updated_at": ZERO_TIME},
                                 msg("user", "b", ts="2026-01-01T00:00:09.5Z")]))
    # A meta with zero times counts as having none.
    assert mf2.times() == ((1767225600 * 10**9, "2026-01-01T00:00:00Z"),
                           (1767225609 * 10**9 + 500_000_000, "2026-01-01T00:00:09.5Z"))


def test_user_interaction() -> None:
    def hui(*recs: dict[str, Any]) -> bool:
        ses, _ = fold(SID, lines_of(list(recs)))
        assert summarize(lines_of(list(recs))).user_interaction is ses.has_user_interaction()
        return ses.has_user_interaction()

    assert not hui(msg("user", " \t\n\u3000"), msg("assistant", "reply"))
    assert not hui(msg("system", "text"))
    assert not hui({"type": "message", "message": {"role": "user", "content": [
        {"type": "image", "text": "not a text block"}]}})
    assert hui(msg("user", "x"))
    # \x1c is not white space for Go's TrimSpace.
    assert hui(msg("user", "\x1c"))
    # Text before a checkpoint counts (SPEC §5).
    assert hui(msg("user", "hello"), {"type": "checkpoint", "checkpoint_messages": [
        {"role": "assistant", "content": []}]})


@pytest.mark.parametrize("line", [
    b"[" * 100_000, b'{"a":' * 10_000, b"\xff" * 10, b"{" + b"\x00" * 5 + b"}",
    b'{"a":1e999}', b'{"a":NaN}', b'{"a":-Infinity}', b"\xef\xbb\xbf{}",
])
def test_pathological_lines(line: bytes) -> None:
    r = loads_line(line)
    assert r is None or isinstance(r, dict)
    fold(SID, [line, dumps_line(msg("user", "ok"))])
    summarize([line])


def test_exact_integers_only_where_asked() -> None:
    line = b'{"type":"cost","cost":{"n":123456789012345678901234567890}}'
    exact = loads_line(line, exact=True)
    assert exact is not None and exact["cost"]["n"] == 123456789012345678901234567890
    fast = loads_line(line)
    assert fast is not None and isinstance(fast["cost"]["n"], (int, float))
    ses, _ = fold(SID, [line])
    assert ses.cost == {"n": 123456789012345678901234567890}
    assert orjson.loads(b"".join(serialize(ses, NOW)).splitlines()[-1]) != {}
    assert b"123456789012345678901234567890" in b"".join(serialize(ses, NOW))


def test_cost_record_without_cost_survives() -> None:
    recs = [{"type": "cost", "cost": {"usd": 1}}, {"type": "cost", "note": "none"}]
    ses, _ = fold(SID, lines_of(recs))
    out = [json.loads(ln) for ln in serialize(ses, NOW)][1:]
    assert out == recs


# -- block reading (the fast path of files) -----------------------------------

@FAST
@given(st.lists(st.sampled_from([b"", b"a", b"\n", b"\n\n", b'{"t":1}', b"1" * 19,
                                 b"12" * 12, b"x" * 40]), max_size=30),
       st.integers(min_value=1, max_value=64))
def test_read_blocks_is_line_iteration(pieces: list[bytes], block: int) -> None:
    """Blocks of any size give the lines a file iterator gives (without
    their newline), and exact_lines names exactly the lines holding a
    19-digit run."""
    data = b"".join(pieces)
    got: list[bytes] = []
    long = records_mod._has_long_digits
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(records_mod, "_BLOCK", block)
        for lines, raw in records_mod.read_blocks(io.BytesIO(data)):
            assert raw is not None
            assert (raw[:-1] if raw.endswith(b"\n") else raw).split(b"\n") == lines
            got.extend(lines)
            for source in (raw, None):  # a file's block, a list of lines
                assert records_mod.exact_lines(lines, source) == {ln for ln in lines if long(ln)}
    assert got == [ln.rstrip(b"\n") for ln in io.BytesIO(data)]


@FILES
@given(st.lists(records(), max_size=12), st.integers(min_value=1, max_value=300))
def test_files_read_in_blocks_fold_like_lists(recs: list[dict[str, Any]], block: int) -> None:
    """fold and summarize read a file (in blocks, here tiny ones) exactly as
    they read its lines, numbers beyond 64 bits included."""
    lines = lines_of(recs)
    lines.append(b'{"type":"cost","cost":{"n":123456789012345678901234567890}}')  # no newline
    data = b"".join(lines)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(records_mod, "_BLOCK", block)
        s_list, s_file = fold_timed(lines), fold_timed(io.BytesIO(data))  # type: ignore[arg-type]
        assert summarize(io.BytesIO(data)) == summarize(lines)
    assert canon(semantic(s_file)) == canon(semantic(s_list))
    assert s_file.cost == {"n": 123456789012345678901234567890}
    assert list(serialize(s_file, NOW)) == list(serialize(s_list, NOW))
