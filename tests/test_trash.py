"""Trash, restore, purge, audit log, labels and rename: the library (SPEC §8.0-§8.2)."""

from __future__ import annotations

import json
import os
import stat
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from builders import written_at
from hypothesis import given
from hypothesis import strategies as hs

from sessionctl import JSONLStore
from sessionctl.errors import (
    CorruptStore,
    SessionExists,
    SessionLocked,
    SessionNotFound,
    SessionPinned,
    StoreIOError,
    UsageError,
)
from sessionctl.storage import purge as pg
from sessionctl.storage import trash as tr
from sessionctl.storage.audit import AuditLog
from sessionctl.storage.index import read_index
from sessionctl.storage.labels import Labels, normalize_tag
from sessionctl.storage.rename import MAX_TITLE, check_title, rename

pytestmark = pytest.mark.usefixtures("fast_fsync")

FUTURE = datetime.now(timezone.utc) + timedelta(days=1)


def make(d: Path, sid: str, *, text: str = "hello", updated: str = "2020-01-02T00:00:00Z",
         meta: bool = True, title: str | None = None) -> bytes:
    """A session file as an agent writes it; returns its bytes."""
    lines: list[dict[str, Any]] = []
    if meta:
        lines.append({"type": "meta", "session_id": sid, "title": title or f"t-{sid}",
                      "workspace": "/w", "created_at": "2020-01-01T00:00:00Z",
                      "updated_at": updated})
    if text:
        lines.append({"type": "message", "session_id": sid, "timestamp": updated,
                      "message": {"id": f"msg_{sid}", "role": "user",
                                  "content": [{"type": "text", "text": text}]}})
    data = b"".join(json.dumps(x).encode() + b"\n" for x in lines)
    (d / f"{sid}.jsonl").write_bytes(data)
    os.chmod(d / f"{sid}.jsonl", 0o600)
    written_at(d / f"{sid}.jsonl", updated)
    return data


def top_level_ok(d: Path, sessions: set[str], others: set[str] = frozenset()) -> None:
    """§8.0: only session files, index.json, *.flock and our two directories
    (``others``: lock files of other processes)."""
    for name in os.listdir(d):
        if name in others:
            continue
        if name.endswith(".jsonl"):
            assert name[:-6] in sessions, name
        elif name.endswith(".lock"):
            raise AssertionError(f"lock file left behind: {name}")
        elif name in (".trash", ".sessionctl"):
            assert stat.S_IMODE(os.stat(d / name).st_mode) == 0o700
        else:
            assert name == "index.json" or name.endswith(".flock"), name


@pytest.fixture
def store(store_dir: Path) -> JSONLStore:
    return JSONLStore(store_dir)


def snapshot(d: Path) -> dict[str, tuple[bytes | None, int]]:
    out = {}
    for p in sorted(d.rglob("*")):
        st = p.lstat()
        out[str(p.relative_to(d))] = (p.read_bytes() if p.is_file() else None, st.st_mode)
    return out


# -- trash and restore ----------------------------------------------------------


def test_trash_moves_whole_file_and_records_it(store: JSONLStore) -> None:
    d = store.dir
    data = make(d, "a1")
    make(d, "b2")
    store.list()  # an index with both
    rep = tr.trash(store, ["a1"], by="delete")
    assert rep.trashed == ["a1"] and rep.warnings == []
    assert (d / ".trash" / "a1.jsonl").read_bytes() == data
    assert not (d / "a1.jsonl").exists()
    assert set(read_index(d) or {}) == {"b2"}
    top_level_ok(d, {"b2"})
    (rec,) = AuditLog(d).read().records
    raw = rec.to_dict()
    assert list(raw) == ["time", "action", "id", "title", "bytes", "by", "pid", "user",
                         "host", "version"]
    assert raw["action"] == "trash" and raw["id"] == "a1" and raw["by"] == "delete"
    assert raw["title"] == "t-a1" and raw["bytes"] == len(data) and raw["pid"] == os.getpid()
    assert len(raw["time"].split(".")[1]) == 10  # nine digits and Z
    import sessionctl

    assert raw["version"] == sessionctl.__version__
    (entry,) = tr.trashed(store).entries
    assert entry.to_dict() == {"id": "a1", "title": "t-a1", "deleted_at": raw["time"],
                               "by": "delete", "bytes": len(data), "file": "a1.jsonl"}


def test_restore_round_trip(store: JSONLStore) -> None:
    d = store.dir
    data = make(d, "a1")
    tr.trash(store, ["a1"])
    rep = tr.restore(store, ["a1"], by="restore")
    assert [e.id for e in rep.restored] == ["a1"] and rep.warnings == []
    assert (d / "a1.jsonl").read_bytes() == data
    assert os.listdir(d / ".trash") == []
    assert set(read_index(d) or {}) == {"a1"}
    assert [r.action for r in AuditLog(d).read().records] == ["restore", "trash"]
    top_level_ok(d, {"a1"})


def test_restore_refuses_when_in_store_and_not_found(store: JSONLStore) -> None:
    d = store.dir
    make(d, "a1")
    tr.trash(store, ["a1"])
    again = make(d, "a1", text="new one")
    with pytest.raises(SessionExists):
        tr.restore(store, ["a1"])
    assert (d / "a1.jsonl").read_bytes() == again  # nothing overwritten
    assert len(os.listdir(d / ".trash")) == 1
    with pytest.raises(SessionNotFound) as err:
        tr.restore(store, ["zz"])
    assert err.value.exit_code == 3
    make(d, "only-store")
    with pytest.raises(SessionNotFound):
        tr.restore(store, ["only-store"])


def test_same_id_twice_keeps_both_and_restore_takes_newest(store: JSONLStore) -> None:
    d = store.dir
    make(d, "a1", text="first")
    tr.trash(store, ["a1"])
    second = make(d, "a1", text="second")
    tr.trash(store, ["a1"])
    names = sorted(os.listdir(d / ".trash"))
    assert len(names) == 2 and "a1.jsonl" in names
    other = next(n for n in names if n != "a1.jsonl")
    assert other.startswith("a1.") and other.endswith(".jsonl")
    entries = tr.trashed(store).entries
    assert [e.file for e in entries] == [other, "a1.jsonl"]  # newest first
    assert all(e.by == "library" for e in entries)
    tr.restore(store, ["a1"])
    assert (d / "a1.jsonl").read_bytes() == second
    assert os.listdir(d / ".trash") == ["a1.jsonl"]


def test_restore_of_hidden_session_warns(store: JSONLStore) -> None:
    make(store.dir, "h1", text="")
    tr.trash(store, ["h1"])
    rep = tr.restore(store, ["h1"])
    assert len(rep.warnings) == 1 and "no user text" in rep.warnings[0]
    assert (store.dir / "h1.jsonl").exists()


def test_entry_without_audit_record_uses_ctime(store: JSONLStore) -> None:
    d = store.dir
    make(d, "a1")
    tr.trash(store, ["a1"])
    (d / ".sessionctl" / "audit.jsonl").unlink()
    (entry,) = tr.trashed(store).entries
    assert entry.by is None and entry.title == "t-a1"
    ctime = os.stat(d / ".trash" / "a1.jsonl").st_ctime_ns
    assert entry.deleted_at[0] == ctime
    assert entry.to_dict()["by"] is None


def test_trash_refuses_held_session_and_moves_nothing(store: JSONLStore, lock_holder: Any) -> None:
    d = store.dir
    make(d, "a1")
    make(d, "b2")
    with lock_holder(d / "b2.lock") as pid:
        with pytest.raises(SessionLocked) as err:
            tr.trash(store, ["a1", "b2"])
        assert str(pid) in str(err.value)
        assert (d / "a1.jsonl").exists() and (d / "b2.jsonl").exists()
        with pytest.raises(SessionLocked):
            tr.trash(store, ["b2"], force=True)  # --force never beats a live lock
    assert not (d / "a1.lock").exists()


def test_pinned_refused_without_force(store: JSONLStore) -> None:
    d = store.dir
    make(d, "a1")
    make(d, "p1")
    Labels(d).pin(["p1"])
    with pytest.raises(SessionPinned):
        tr.trash(store, ["a1", "p1"])
    assert (d / "a1.jsonl").exists() and (d / "p1.jsonl").exists()
    assert tr.trash(store, ["a1", "p1"], force=True).trashed == ["a1", "p1"]
    assert Labels(d).read().get("p1").pinned  # labels survive the trash


def test_restore_refuses_held_session(store: JSONLStore, lock_holder: Any) -> None:
    d = store.dir
    make(d, "a1")
    tr.trash(store, ["a1"])
    with lock_holder(d / "a1.lock") as pid:
        with pytest.raises(SessionLocked) as err:
            tr.restore(store, ["a1"])
        assert str(pid) in str(err.value)
    assert not (d / "a1.jsonl").exists() and len(os.listdir(d / ".trash")) == 1


# -- cleanup ---------------------------------------------------------------------


def test_cleanup_moves_to_trash_skips_pinned_and_held(
    store: JSONLStore, lock_holder: Any
) -> None:
    d = store.dir
    for sid in ("o1", "o2", "pin", "held"):
        make(d, sid)
    make(d, "new", updated=datetime.now(timezone.utc).isoformat().replace("+00:00", "Z"))
    Labels(d).pin(["pin"])
    with lock_holder(d / "held.lock") as pid:
        rep = pg.cleanup(store, before=datetime(2021, 1, 1, tzinfo=timezone.utc), by="cleanup")
    assert sorted(rep.removed) == ["o1", "o2"]
    assert dict(rep.skipped) == {"pin": "pinned", "held": f"in use by process {pid}"}
    assert sorted(os.listdir(d / ".trash")) == ["o1.jsonl", "o2.jsonl"]
    assert rep.to_dict()["purged"] == []
    assert {e.by for e in tr.trashed(store).entries} == {"cleanup"}
    top_level_ok(d, {"pin", "held", "new"}, {"held.lock"})


def test_cleanup_dry_run_changes_nothing(store: JSONLStore) -> None:
    d = store.dir
    for sid in ("o1", "o2"):
        make(d, sid)
    tr.trash(store, ["o2"])
    store.list()
    before = snapshot(d)
    rep = pg.cleanup(store, before=FUTURE, dry_run=True, trash_retention=timedelta(minutes=1))
    assert rep.removed == ["o1"]
    assert snapshot(d) == before


def test_cleanup_trash_retention_purges_old_entries(store: JSONLStore) -> None:
    d = store.dir
    make(d, "gone")
    make(d, "keep")
    tr.trash(store, ["gone"])
    Labels(d).tag(["gone"], ["x"])
    # Make the trash record old: rewrite its time (a test may; sessionctl never does).
    log = d / ".sessionctl" / "audit.jsonl"
    rec = json.loads(log.read_text())
    rec["time"] = "2020-01-01T00:00:00.000000000Z"
    log.write_text(json.dumps(rec) + "\n")
    rep = pg.cleanup(store, before=datetime(2000, 1, 1, tzinfo=timezone.utc),
                     trash_retention=timedelta(days=30), by="cleanup")
    assert rep.purged == ["gone"] and rep.removed == []
    assert os.listdir(d / ".trash") == []
    assert "gone" not in Labels(d).read().sessions  # labels go with purge
    assert AuditLog(d).read(actions=["purge"]).records[0].by == "cleanup"


def test_cleanup_never_purges_what_it_trashes(store: JSONLStore) -> None:
    """The retention pass runs on the trash as it was before the batch (what a
    dry run reports): even a zero retention keeps this run's own moves."""
    d = store.dir
    make(d, "old1")
    make(d, "old2")
    tr.trash(store, ["old1"])
    dry = pg.cleanup(store, before=FUTURE, dry_run=True, trash_retention=timedelta(0))
    rep = pg.cleanup(store, before=FUTURE, trash_retention=timedelta(0), by="cleanup")
    assert dry.purged == rep.purged == ["old1"]
    assert rep.removed == ["old2"]
    assert os.listdir(d / ".trash") == ["old2.jsonl"]


def test_cleanup_index_keeps_sessions_it_lacked(store: JSONLStore) -> None:
    """The index rewrite after a cleanup drops the moved sessions and adds
    the files it lacked (from the listing's rows), nothing else."""
    d = store.dir
    make(d, "gone")
    make(d, "stay", updated=datetime.now(timezone.utc).isoformat().replace("+00:00", "Z"))
    make(d, "unindexed", updated=datetime.now(timezone.utc).isoformat().replace("+00:00", "Z"))
    (d / "index.json").write_text(json.dumps(
        [{"id": sid, "title": f"t-{sid}", "created_at": "2020-01-01T00:00:00Z",
          "updated_at": "2020-01-02T00:00:00Z", "msg_count": 1} for sid in ("gone", "stay")]))
    store.list()  # cleanup's listing is warm, as from cron after a list
    rep = pg.cleanup(store, before=datetime(2021, 1, 1, tzinfo=timezone.utc), by="cleanup")
    assert rep.removed == ["gone"]
    after = {e["id"]: e for e in json.loads((d / "index.json").read_text())}
    assert sorted(after) == ["stay", "unindexed"]
    assert after["unindexed"]["title"] == "t-unindexed"


def test_cleanup_purge_now_is_permanent(store: JSONLStore) -> None:
    d = store.dir
    make(d, "o1")
    rep = pg.cleanup(store, before=FUTURE, purge_now=True, by="cleanup")
    assert rep.removed == ["o1"]
    assert not (d / ".trash").exists() or os.listdir(d / ".trash") == []
    assert [r.action for r in AuditLog(d).read().records] == ["purge"]


def test_trash_empty_older_than(store: JSONLStore) -> None:
    d = store.dir
    make(d, "a1")
    make(d, "b2")
    tr.trash(store, ["a1", "b2"])
    rep = pg.purge(store, before=datetime(2000, 1, 1, tzinfo=timezone.utc))
    assert rep.purged == []
    dry = pg.purge(store, dry_run=True)
    assert len(dry.purged) == 2 and len(os.listdir(d / ".trash")) == 2
    assert {e.id for e in pg.purge(store).purged} == {"a1", "b2"}
    assert os.listdir(d / ".trash") == []


# -- audit log and labels, damaged -----------------------------------------------


@pytest.mark.parametrize("garbage", [b"not json\n", b'{"time": "x"}\n', b'{"time": "2026-'])
def test_audit_log_tolerates_garbage(store: JSONLStore, garbage: bytes) -> None:
    d = store.dir
    make(d, "a1")
    tr.trash(store, ["a1"])
    log = d / ".sessionctl" / "audit.jsonl"
    with open(log, "ab") as f:
        f.write(garbage)
    make(d, "b2")
    tr.trash(store, ["b2"])  # appended after the torn line, not glued to it
    read = AuditLog(d).read()
    assert [r.id for r in read.records] == ["b2", "a1"]
    assert read.problem is not None and "skipped 1 damaged line" in read.problem


def test_audit_log_directory_is_a_clear_error(store: JSONLStore) -> None:
    d = store.dir
    make(d, "a1")
    (d / ".sessionctl" / "audit.jsonl").mkdir(parents=True)
    read = AuditLog(d).read()
    assert read.records == [] and "not a regular file" in (read.problem or "")
    with pytest.raises(StoreIOError) as err:
        tr.trash(store, ["a1"])
    assert "\n" not in str(err.value)
    assert (d / "a1.jsonl").exists()  # nothing moved


@pytest.mark.parametrize("content", [b"garbage", b'{"version": 1, "sessions": {"a', None])
def test_damaged_labels_read_empty_and_never_overwritten(
    store: JSONLStore, content: bytes | None
) -> None:
    d = store.dir
    path = d / ".sessionctl" / "labels.json"
    path.parent.mkdir()
    if content is None:
        path.mkdir()
    else:
        path.write_bytes(content)
    read = Labels(d).read()
    assert read.sessions == {} and read.problem and "\n" not in read.problem
    with pytest.raises(CorruptStore):
        Labels(d).pin(["a1"])
    if content is not None:
        assert path.read_bytes() == content
    make(d, "a1")
    with pytest.raises(CorruptStore):
        tr.trash(store, ["a1"])  # cannot tell pins: refuses unless forced
    assert tr.trash(store, ["a1"], force=True).trashed == ["a1"]


def test_tags_validated_and_lowercased(store: JSONLStore) -> None:
    assert normalize_tag("Work:Q4") == "work:q4"
    for bad in ("", "a b", "x" * 65, "é", "a/b"):
        with pytest.raises(UsageError):
            normalize_tag(bad)
    lb = Labels(store.dir)
    lb.tag(["a1"], ["x", "y"])
    lb.untag(["a1"], ["x"])
    lb.pin(["a1"])
    assert lb.read().get("a1").tags == ("y",) and lb.read().get("a1").pinned
    lb.pin(["a1"], pinned=False)
    lb.untag(["a1"], ["y"])
    doc = json.loads((store.dir / ".sessionctl" / "labels.json").read_text())
    assert doc == {"version": 1, "sessions": {}}


# -- rename ----------------------------------------------------------------------


def test_rename_appends_meta_copy_and_updates_index(store: JSONLStore) -> None:
    d = store.dir
    make(d, "a1", title="old")
    store.list()
    rep = rename(store, "a1", "New name ✓", by="rename")
    assert rep.old_title == "old"
    lines = [json.loads(x) for x in (d / "a1.jsonl").read_text().splitlines()]
    first, last = lines[0], lines[-1]
    assert last == {**first, "title": "New name ✓"}
    assert store.load("a1").title == "New name ✓"
    assert (read_index(d) or {})["a1"]["title"] == "New name ✓"
    rec = AuditLog(d).read().records[0].to_dict()
    assert rec["action"] == "rename" and rec["old_title"] == "old"
    top_level_ok(d, {"a1"})


def test_rename_without_meta_writes_full_meta(store: JSONLStore) -> None:
    d = store.dir
    make(d, "a1", meta=False, text="hi there")
    rename(store, "a1", "named")
    last = json.loads((d / "a1.jsonl").read_text().splitlines()[-1])
    assert last["type"] == "meta" and last["title"] == "named"
    assert "created_at" in last and "updated_at" in last


def test_rename_refusals(store: JSONLStore, lock_holder: Any) -> None:
    d = store.dir
    data = make(d, "a1")
    for bad in ("x" * 121, "a\nb", "tab\there", "  "):
        with pytest.raises(UsageError):
            rename(store, "a1", bad)
    rename(store, "a1", "é" * 120)  # code points, not bytes
    data = (d / "a1.jsonl").read_bytes()
    with lock_holder(d / "a1.lock") as pid:
        with pytest.raises(SessionLocked) as err:
            rename(store, "a1", "x")
        assert str(pid) in str(err.value)
    assert (d / "a1.jsonl").read_bytes() == data
    with pytest.raises(SessionNotFound):
        rename(store, "nope", "x")


def test_restore_rechecks_under_the_locks(store: JSONLStore, monkeypatch: Any) -> None:
    """A session created in the store after restore's first check (an agent
    starting it anew) is never overwritten: checked again under the locks."""
    d = store.dir
    make(d, "a1")
    tr.trash(store, ["a1"])
    real = tr._summary_of

    def racing(path: Path) -> Any:
        out = real(path)
        (d / "a1.jsonl").write_bytes(b"agent's new file\n")
        return out

    monkeypatch.setattr(tr, "_summary_of", racing)
    with pytest.raises(SessionExists):
        tr.restore(store, ["a1"])
    assert (d / "a1.jsonl").read_bytes() == b"agent's new file\n"
    assert len(os.listdir(d / ".trash")) == 1


def test_library_api_on_the_store(store: JSONLStore) -> None:
    """JSONLStore: cleanup moves to the trash by default; the seed's
    cleanup_older_than and delete stay permanent; every act is audited
    with by="library"."""
    d = store.dir
    for sid in ("a1", "b2", "c3", "d4"):
        make(d, sid)
    store.pin(["d4"])
    rep = store.cleanup(before=FUTURE)
    assert sorted(rep.removed) == ["a1", "b2", "c3"] and ("d4", "pinned") in rep.skipped
    assert sorted(e.id for e in store.trashed()) == ["a1", "b2", "c3"]
    assert [e.id for e in store.restore(["a1"]).restored] == ["a1"]
    store.rename("a1", "renamed")
    store.tag("a1", ["x"])
    assert store.cleanup_older_than(FUTURE) == 1  # a1, for good; d4 pinned
    assert not (d / "a1.jsonl").exists() and "a1" not in {e.id for e in store.trashed()}
    assert {e.id for e in store.purge(["b2"]).purged} == {"b2"}
    assert [e.id for e in store.trashed()] == ["c3"]
    assert {r.by for r in AuditLog(d).read().records} == {"library"}


# -- parsers (Hypothesis) -----------------------------------------------------------


@given(hs.text(max_size=80))
def test_a_tag_is_valid_or_a_usage_error(text: str) -> None:
    try:
        tag = normalize_tag(text)
    except UsageError as err:
        assert "\n" not in str(err)
        return
    assert tag == text.lower() and 1 <= len(tag) <= 64
    assert set(tag) <= set("abcdefghijklmnopqrstuvwxyz0123456789_.:-")


@given(hs.text(max_size=200))
def test_a_title_is_accepted_or_a_usage_error(text: str) -> None:
    try:
        assert check_title(text) == text
    except UsageError as err:
        assert "\n" not in str(err)
        return
    assert text.strip() and len(text) <= MAX_TITLE
    assert all(ord(c) >= 32 and not 0x7F <= ord(c) < 0xA0 for c in text)


def test_labels_go_with_every_purge(store: JSONLStore) -> None:
    d = store.dir
    for sid in ("a1", "b2", "c3"):
        make(d, sid)
    Labels(d).tag(["a1", "b2", "c3"], ["x"])
    pg.delete_for_good(store, ["a1"])
    pg.cleanup(store, before=FUTURE, purge_now=True)  # b2 and c3, for good
    assert Labels(d).read().sessions == {}


def test_hand_edited_labels_read_safely(store: JSONLStore) -> None:
    """Entries of a bad shape are left out; odd tags dropped or lower-cased."""
    path = store.dir / ".sessionctl" / "labels.json"
    path.parent.mkdir()
    path.write_text(json.dumps({"version": 1, "sessions": {
        "a": {"tags": ["Work", "ok", {"x": 1}, ["l"], "bad tag"], "pinned": True},
        "b": {"tags": "not-a-list"}, "c": [], "d": {"pinned": "yes"},
        "e": {"tags": ["ok", "ok2"]}, "f": {"tags": ["ok"], "extra": 1}}}))
    read = Labels(store.dir).read()
    assert read.problem is None
    assert read.sessions == {"a": (("work", "ok"), True), "e": (("ok", "ok2"), False),
                             "f": (("ok",), False)}
    Labels(store.dir).tag(["e"], ["new"])  # a write keeps what it cannot use
    doc = json.loads(path.read_text())
    assert doc["sessions"]["c"] == [] and doc["sessions"]["f"]["extra"] == 1
    assert doc["sessions"]["e"]["tags"] == ["ok", "ok2", "new"]


def test_audit_title_as_list_shows_it(store: JSONLStore) -> None:
    """The title recorded is list's: the meta's, else the index entry's
    (a file without meta), else the first user text."""
    d = store.dir
    make(d, "m1", title="from meta")
    make(d, "n1", meta=False, text="first words")
    make(d, "n2", meta=False, text="other words")
    (d / "index.json").write_text(json.dumps([{"id": "n2", "title": "from index",
                                                "created_at": "2020-01-01T00:00:00Z",
                                                "updated_at": "2020-01-02T00:00:00Z",
                                                "msg_count": 1}]))
    tr.trash(store, ["m1", "n1", "n2"])
    titles = {r.id: r.title for r in AuditLog(d).read().records}
    assert titles == {"m1": "from meta", "n1": "first words", "n2": "from index"}
