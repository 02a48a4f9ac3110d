"""sessionctl on a store written by today's agent (ggcode v1.3.216).

``expected.json`` is what v1.3.216 returned. Deliberate differences (SPEC
§6-§7) are asserted as the SPEC says, each with a comment.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
from conftest import FIXTURE_MTIME_NS, load_expected216, read_records

from sessionctl import JSONLStore
from sessionctl.core.times import format_ns, parse_ns

pytestmark = pytest.mark.usefixtures("fast_fsync")

EXPECTED = load_expected216()
NAMES: dict[str, str] = EXPECTED["names"]
SID = NAMES  # name -> id
IDS = sorted(EXPECTED["sessions"])
WITH_MESSAGES = [sid for sid in IDS if EXPECTED["sessions"][sid]["messages"]]


def name_of(sid: str) -> str:
    return next(n for n, i in NAMES.items() if i == sid)


def file_times(path: Path) -> tuple[str | None, str | None]:
    """SPEC §7 computed independently: (created, updated) from the file alone.

    updated = the latest of the last meta's non-zero updated_at and the last
    non-zero record timestamp; created = last meta's, else first timestamp.
    """
    meta_c = meta_u = None
    stamps: list[str] = []
    for rec in read_records(path):
        if rec.get("type") == "meta":
            if parse_ns(rec.get("created_at")) is not None:
                meta_c = rec["created_at"]
            if parse_ns(rec.get("updated_at")) is not None:
                meta_u = rec["updated_at"]
        ts = rec.get("timestamp")
        if parse_ns(ts) is not None:
            stamps.append(ts)
    cands = [t for t in (meta_u, stamps[-1] if stamps else None) if t]
    updated = max(cands, key=lambda t: parse_ns(t) or 0) if cands else None
    return meta_c or (stamps[0] if stamps else None), updated


def test_fixture_copy_is_complete(dir216: Path) -> None:
    assert sorted(p.stem for p in dir216.glob("*.jsonl")) == IDS
    assert (dir216 / f"{SID['abandoned']}.jsonl").stat().st_size == 0


@pytest.mark.parametrize("sid", IDS, ids=name_of)
def test_context_messages_equal_reference(store216: JSONLStore, sid: str) -> None:
    exp = EXPECTED["sessions"][sid]
    ses = store216.load(sid)
    assert [m.to_dict() for m in ses.context_messages] == (exp["messages"] or [])


@pytest.mark.parametrize("sid", IDS, ids=name_of)
def test_full_history_is_every_message_record(store216: JSONLStore, sid: str) -> None:
    exp = EXPECTED["sessions"][sid]
    ses = store216.load(sid)
    on_disk = [r["message"] for r in read_records(store216.dir / f"{sid}.jsonl")
               if r.get("type") == "message"]
    assert [m.to_dict() for m in ses.messages] == on_disk
    # No file here is long enough for v1.3.216's 24-hour window, so its
    # windowed Messages equal the full history too.
    assert [m.to_dict() for m in ses.messages] == (exp["full_messages"] or [])


def test_checkpoint_context(store216: JSONLStore) -> None:
    ses = store216.load(SID["checkpoint"])
    ctx = ses.context_messages
    assert len(ses.messages) == 7
    assert len(ctx) == 3
    assert ctx[0].role == "system"
    assert ctx[0].texts()[0].startswith("[Previous conversation summary]")
    assert ses.to_dict()["checkpoints"] == [{"after_message": 5, "tokens": 3120, "messages": 1}]


def test_precompact_uses_the_last_of_two_checkpoints(store216: JSONLStore) -> None:
    ses = store216.load(SID["precompact"])
    assert len(ses.checkpoints) == 2
    summary = ses.checkpoints[-1].summary_msg_id
    assert ses.context_messages[0].id == summary
    assert EXPECTED["sessions"][SID["precompact"]]["checkpoint_tokens"] == 1024
    assert [c["tokens"] for c in ses.to_dict()["checkpoints"]] == [2048, 1024]


def test_duplicate_message_records_are_read_once(dir216: Path) -> None:
    sid = SID["plain"]
    path = dir216 / f"{sid}.jsonl"
    lines = path.read_bytes().splitlines(keepends=True)
    first_msg = next(ln for ln in lines if b'"type":"message"' in ln)
    path.write_bytes(b"".join(lines) + first_msg + first_msg)
    store = JSONLStore(dir216)
    ses = store.load(sid)
    assert [m.to_dict() for m in ses.context_messages] == EXPECTED["sessions"][sid]["messages"]
    assert len(ses.messages) == 4
    info = {i.id: i for i in store.list()}[sid]
    assert info.msg_count == 4  # SPEC §7: after de-duplication by id
    # ... and the duplicates are still written back by a save (nothing lost).
    store.save(ses)
    assert sum(b'"type":"message"' in ln for ln in path.read_bytes().splitlines()) == 6


@pytest.mark.parametrize("sid", WITH_MESSAGES, ids=name_of)
def test_metadata(store216: JSONLStore, sid: str) -> None:
    exp = EXPECTED["sessions"][sid]
    ses = store216.load(sid)
    if exp["has_meta"]:
        assert ses.title == exp["title"]
        assert ses.workspace == exp["workspace"]
        assert (ses.vendor, ses.endpoint, ses.model) == (
            exp["vendor"], exp["endpoint"], exp["model"])
        assert ses.created_at_str == exp["created_at"]
    assert ses.tunnel_events_complete is exp["tunnel_events_complete"]
    assert ses.has_user_interaction() is exp["has_user_interaction"]
    # SPEC §7: updated_at is the latest of the last meta's updated_at and the
    # last record timestamp (v1.3.216 takes the meta's only).
    created, updated = file_times(store216.dir / f"{sid}.jsonl")
    assert ses.updated_at_str == updated
    assert ses.created_at_str == created


def test_branch_later_metas_win(store216: JSONLStore) -> None:
    ses = store216.load(SID["branch"])
    assert ses.title == "Walking directory trees in Go"
    assert (ses.vendor, ses.endpoint, ses.model) == ("openai", "azure-eastus", "gpt-5-mini")
    info = {i.id: i for i in store216.list()}[SID["branch"]]
    assert info.preview == "Which is faster, WalkDir or Walk?"
    assert (info.vendor, info.model) == ("openai", "gpt-5-mini")


def test_workspace_is_sticky(store216: JSONLStore) -> None:
    # A later meta without a workspace keeps the earlier one (SPEC §6);
    # an empty title in a later meta clears it, as v1.3.2xx does.
    sid = SID["branch"]
    path = store216.dir / f"{sid}.jsonl"
    with path.open("ab") as f:
        f.write(json.dumps({
            "type": "meta", "session_id": sid, "title": "Renamed", "vendor": "zai",
            "created_at": "2026-11-25T11:18:26.537837622Z",
            "updated_at": "2026-11-25T11:18:27Z",
        }).encode() + b"\n")
    ses = store216.load(sid)
    assert ses.workspace == "/home/dev/src/ggcode"
    assert ses.title == "Renamed"
    assert (ses.vendor, ses.endpoint, ses.model) == ("zai", "", "")
    assert ses.updated_at_str == "2026-11-25T11:18:27Z"


def test_tunnel_events_are_read(store216: JSONLStore) -> None:
    # v1.3.216's Load ignores tunnel events (expected has none); sessionctl
    # reads them (SPEC §1).
    sid = SID["tunnel"]
    ses = store216.load(sid)
    on_disk = [r["tunnel_event"] for r in read_records(store216.dir / f"{sid}.jsonl")
               if r.get("type") == "tunnel_event"]
    assert len(on_disk) == 4
    assert [e.to_dict() for e in ses.tunnel_events] == on_disk
    assert ses.tunnel_events_complete is True


def test_nometa_takes_metadata_from_index(store216: JSONLStore) -> None:
    # SPEC §6: without meta, title/workspace/... come from the index, never
    # the working directory (v1.3.216 returned "" and its cwd "/tmp").
    ses = store216.load(SID["nometa"])
    entry = EXPECTED["index"][SID["nometa"]]
    assert ses.title == entry["title"] == "ping"
    assert ses.workspace == "/home/dev/scratch"
    assert (ses.vendor, ses.endpoint, ses.model) == ("ollama", "local", "qwen3-coder:30b")
    assert EXPECTED["sessions"][SID["nometa"]]["workspace"] == "/tmp"


def test_abandoned_zero_byte_file(store216: JSONLStore) -> None:
    sid = SID["abandoned"]
    ses = store216.load(sid)
    assert ses.messages == [] and not ses.has_user_interaction()
    # No meta, no record, no index entry: the file's mtime (never "now"),
    # and no working-directory fallback for the workspace (SPEC §6-§7).
    assert ses.updated_at_str == ses.created_at_str == format_ns(FIXTURE_MTIME_NS)
    assert ses.workspace == ""


def test_abandoned_is_hidden_not_deleted(store216: JSONLStore) -> None:
    sid = SID["abandoned"]
    assert EXPECTED["list_maintenance_removed"] == [sid]  # v1.3.216 deleted it
    assert sid not in [i.id for i in store216.list()]
    hidden = {i.id: i for i in store216.list(include_hidden=True)}
    assert hidden[sid].hidden and hidden[sid].msg_count == 0
    assert (store216.dir / f"{sid}.jsonl").exists()


def test_list_order(store216: JSONLStore) -> None:
    got = [i.id for i in store216.list()]
    ref = EXPECTED["list"]
    swapped = {SID["stale"], SID["nometa"]}
    assert [i for i in got if i not in swapped] == [i for i in ref if i not in swapped]
    # SPEC §7: times from the files where the index is stale. "stale" had
    # messages appended after its index entry (last at .55938013), "nometa"
    # has no meta (its last record at .552876175, index .552317534), so
    # stale is the newest; v1.3.216 listed nometa first by the index.
    assert ref[:2] == [SID["nometa"], SID["stale"]]
    assert got[:2] == [SID["stale"], SID["nometa"]]


def test_list_entries(store216: JSONLStore) -> None:
    infos = {i.id: i for i in store216.list()}
    for e in EXPECTED["list_entries"]:
        info = infos[e["id"]]
        created, updated = file_times(store216.dir / f"{e['id']}.jsonl")
        assert info.updated[1] == updated  # SPEC §7 (see test_metadata)
        assert (info.title, info.preview, info.workspace) == (
            e["title"], e["preview"], e["workspace"])
        assert (info.vendor, info.endpoint, info.model) == (
            e["vendor"], e["endpoint"], e["model"])
        n_messages = sum(r.get("type") == "message"
                         for r in read_records(store216.dir / f"{e['id']}.jsonl"))
        # msg_count from the files (SPEC §6-§7): the index is stale for
        # "stale" (2 -> 4) and "nometa" (1 -> 2).
        assert info.msg_count == n_messages
        if e["id"] == SID["stale"]:
            assert e["msg_count"] == 2 and info.msg_count == 4
        elif e["id"] == SID["nometa"]:
            assert e["msg_count"] == 1 and info.msg_count == 2
            # No meta: created_at from the first record timestamp (SPEC §7).
            assert info.created[1] == created == "2026-11-25T11:18:26.552318405Z"
        else:
            assert info.msg_count == e["msg_count"]
            assert info.created[1] == e["created_at"]


def test_list_and_load_never_rewrite_session_files(dir216: Path) -> None:
    def hashes() -> dict[str, str]:
        return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
                for p in dir216.iterdir() if p.suffix == ".jsonl"}

    before = hashes()
    store = JSONLStore(dir216)
    store.list(include_hidden=True)
    for sid in IDS:
        store.load(sid)
        store.export_markdown(sid)
    # v1.3.216 may migrate, backfill ids/timestamps or delete on read;
    # sessionctl never does (SPEC §6).
    assert hashes() == before
    assert all(not (p.name.endswith(".tmp")) for p in dir216.iterdir())


def test_flock_side_files_are_left_alone(dir216: Path) -> None:
    flocks = sorted(p.name for p in dir216.glob("*.flock"))
    store = JSONLStore(dir216)
    store.list()
    ses = store.load(SID["plain"])
    store.save(ses)
    assert sorted(p.name for p in dir216.glob("*.flock")) == flocks


def test_index_is_verified_against_files(dir216: Path) -> None:
    # A v1.3.216-style append of a turn after the index was written: list
    # notices the change (size/mtime) and shows the file's state (SPEC §5).
    sid = SID["tools"]
    store = JSONLStore(dir216)
    assert {i.id: i for i in store.list()}[sid].msg_count == 8
    path = dir216 / f"{sid}.jsonl"
    rec = {
        "type": "message", "session_id": sid,
        "token_usage": {"input_tokens": 0, "output_tokens": 0,
                        "cache_read_tokens": 0, "cache_write_tokens": 0},
        "created_at": "0001-01-01T00:00:00Z", "updated_at": "0001-01-01T00:00:00Z",
        "message": {"id": "msg_00000000-0000-4000-8000-000000000001", "role": "user",
                    "content": [{"type": "text", "text": "one more"}]},
        "timestamp": "2026-11-25T12:00:00.5Z",
    }
    with path.open("ab") as f:
        f.write(json.dumps(rec).encode() + b"\n")
    info = {i.id: i for i in store.list()}[sid]
    assert info.msg_count == 9
    assert info.updated[1] == "2026-11-25T12:00:00.5Z"
    assert store.list()[0].id == sid


def test_unicode_session(store216: JSONLStore) -> None:
    ses = store216.load(SID["unicode"])
    assert ses.workspace == "/home/dev/プロジェクト/café-☕"
    text = "\n".join(t for m in ses.messages for t in m.texts())
    assert "\u2028" in text


def test_cleanup_empty_removes_the_abandoned_file(store216: JSONLStore) -> None:
    # SPEC §6: a 0-byte file is removed by cleanup like any session without
    # user text (--empty), once it has been idle for an hour (SPEC §5).
    sid = SID["abandoned"]
    path = store216.dir / f"{sid}.jsonl"
    path.touch()  # just written: an agent may be about to add the first prompt
    assert store216.cleanup(empty=True).removed == []
    old = 1_600_000_000 * 10**9  # 2020: idle whatever the clock says
    os.utime(path, ns=(old, old))
    assert store216.cleanup(empty=True).removed == [sid]
    assert not path.exists()
    assert sorted(p.stem for p in store216.dir.glob("*.jsonl")) == sorted(
        i for i in IDS if i != sid)
