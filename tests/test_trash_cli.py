"""The undo commands from the command line: delete/cleanup into the trash,
trash, trash empty, restore, log, rename, tag/untag, pin/unpin, list --tag
(SPEC §8.0-§8.2). In-process (CliRunner) and as real processes where a
second process matters (an agent holding a session)."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_helpers import invoke, run, sid, write_session

pytestmark = pytest.mark.usefixtures("fast_fsync")

OLD = "2020-03-01T12:00:00Z"


def lines(text: str) -> list[str]:
    return text.splitlines()


A, B, C = sid(0xA1A1 << 48), sid(0xB2B2 << 48), sid(0xC3C3 << 48)
HIDDEN = sid(0xD4D4 << 48)


@pytest.fixture
def st(tmp_path: Path) -> Path:
    d = tmp_path / "store"
    d.mkdir(mode=0o700)
    write_session(d, A, title="alpha", updated=OLD)
    write_session(d, B, title="beta", updated=OLD)
    write_session(d, C, title="gamma", updated="2026-03-05T10:00:00Z")
    write_session(d, HIDDEN, title="", user=None, updated=OLD)
    return d


def snapshot(d: Path) -> dict[str, tuple[bytes | None, int, int]]:
    out = {}
    for p in sorted(d.rglob("*")):
        st = p.lstat()
        out[str(p.relative_to(d))] = (
            p.read_bytes() if p.is_file() else None, st.st_mode, st.st_mtime_ns)
    return out


def top_level_ok(d: Path, others: frozenset[str] = frozenset()) -> None:
    """§8.0: besides session files and index.json only *.flock files and
    our two 0700 directories; never a *.lock left behind."""
    for name in os.listdir(d):
        if name in others or name == "index.json" or name.endswith(".flock"):
            continue
        if name.endswith(".jsonl"):
            assert (d / name).is_file(), name
        elif name in (".trash", ".sessionctl"):
            assert stat.S_IMODE(os.stat(d / name).st_mode) == 0o700
        else:
            raise AssertionError(f"unexpected top-level file {name}")


def files(d: Path) -> list[str]:
    return sorted(p.name[:-6] for p in d.glob("*.jsonl"))


def trash_names(d: Path) -> list[str]:
    return sorted(os.listdir(d / ".trash")) if (d / ".trash").exists() else []


@pytest.fixture
def agent(lock_holder: object) -> Iterator[object]:
    """An agent-like holder: raw flock on <id>.lock, PID without newline."""
    yield lock_holder


# -- delete, restore, trash ---------------------------------------------------------


def test_delete_moves_to_trash_and_restore_brings_back(st: Path) -> None:
    data = (st / f"{A}.jsonl").read_bytes()
    invoke("--dir", st, "delete", A[-16:-8])
    assert A not in files(st) and trash_names(st) == [f"{A}.jsonl"]
    top_level_ok(st)
    rows = json.loads(invoke("--dir", st, "trash", "--json").stdout)
    assert [list(r) for r in rows] == [["id", "title", "deleted_at", "by", "bytes", "file"]]
    assert rows[0]["id"] == A and rows[0]["by"] == "delete" and rows[0]["title"] == "alpha"
    assert rows[0]["bytes"] == len(data) and rows[0]["file"] == f"{A}.jsonl"
    piped = invoke("--dir", st, "trash").stdout
    assert piped.split("\t")[0] == A and piped.endswith("\talpha\n")
    invoke("--dir", st, "restore", "a1")  # a prefix of the hex part, among trashed ids
    assert (st / f"{A}.jsonl").read_bytes() == data and trash_names(st) == []
    assert A in [r["id"] for r in json.loads(invoke("--dir", st, "list", "--json").stdout)]
    top_level_ok(st)
    log = json.loads(invoke("--dir", st, "log", "--json").stdout)
    assert [(r["action"], r["by"]) for r in log] == [("restore", "restore"), ("trash", "delete")]


def test_delete_purge_is_permanent_and_recorded(st: Path) -> None:
    invoke("--dir", st, "delete", "--purge", A)
    assert A not in files(st) and trash_names(st) == []
    (rec,) = [json.loads(x) for x in invoke("--dir", st, "log", "--jsonl").stdout.splitlines()]
    assert rec["action"] == "purge" and rec["by"] == "delete" and rec["id"] == A


def test_restore_exit_codes(st: Path) -> None:
    r = invoke("--dir", st, "restore", A, code=3)  # in the store only
    assert "not in the trash" in r.stderr
    invoke("--dir", st, "restore", "ffff", code=3)
    invoke("--dir", st, "delete", A)
    write_session(st, A, title="a new one", updated=OLD)
    new = (st / f"{A}.jsonl").read_bytes()
    r = invoke("--dir", st, "restore", A, code=1)  # in both places
    assert len(lines(r.stderr)) == 1 and "exists in the store" in r.stderr
    assert (st / f"{A}.jsonl").read_bytes() == new and len(trash_names(st)) == 1


def test_restore_hidden_session_warns(st: Path) -> None:
    invoke("--dir", st, "delete", HIDDEN)
    r = invoke("--dir", st, "restore", HIDDEN)
    assert lines(r.stderr) == [r.stderr.strip()] and "no user text" in r.stderr
    assert HIDDEN in files(st)


def test_same_id_twice(st: Path) -> None:
    invoke("--dir", st, "delete", A)
    write_session(st, A, title="second", updated=OLD)
    second = (st / f"{A}.jsonl").read_bytes()
    invoke("--dir", st, "delete", A)
    rows = json.loads(invoke("--dir", st, "trash", "--json").stdout)
    assert [r["title"] for r in rows] == ["second", "alpha"]
    assert rows[0]["file"].startswith(f"{A}.") and rows[0]["file"].endswith(".jsonl")
    invoke("--dir", st, "restore", A)
    assert (st / f"{A}.jsonl").read_bytes() == second


def test_trash_entry_without_audit_record(st: Path) -> None:
    invoke("--dir", st, "delete", A)
    (st / ".sessionctl" / "audit.jsonl").unlink()
    (row,) = json.loads(invoke("--dir", st, "trash", "--json").stdout)
    assert row["by"] is None and row["title"] == "alpha" and row["deleted_at"].endswith("Z")
    invoke("--dir", st, "restore", A)
    assert A in files(st)


def test_trash_empty(st: Path) -> None:
    invoke("--dir", st, "delete", A, B)
    before = snapshot(st)
    r = invoke("--dir", st, "trash", "empty", "--dry-run", "--json")
    assert sorted(json.loads(r.stdout)["purged"]) == sorted([A, B])
    assert snapshot(st) == before
    r = invoke("--dir", st, "trash", "empty", "--older-than", "1d", "--json")
    assert json.loads(r.stdout)["purged"] == [] and len(trash_names(st)) == 2
    r = invoke("--dir", st, "trash", "empty")  # not a terminal: no question
    assert (r.stdout, r.stderr) == ("", "") and trash_names(st) == []
    assert {x["by"] for x in json.loads(invoke("--dir", st, "log", "--action", "purge",
                                               "--json").stdout)} == {"trash empty"}
    top_level_ok(st)


# -- cleanup --------------------------------------------------------------------------


def test_cleanup_into_trash_skips_pinned_json(st: Path) -> None:
    invoke("--dir", st, "pin", B)
    r = invoke("--dir", st, "cleanup", "--before", "2026-01-01", "--json")
    report = json.loads(r.stdout)
    assert sorted(report["removed"]) == sorted([A, HIDDEN])
    assert report["skipped"] == [{"id": B, "reason": "pinned"}] and report["purged"] == []
    assert files(st) == sorted([B, C])
    assert trash_names(st) == sorted([f"{A}.jsonl", f"{HIDDEN}.jsonl"])
    top_level_ok(st)


def test_cleanup_quiet_and_retention(st: Path) -> None:
    r = invoke("--dir", st, "cleanup", "--before", "2026-01-01")
    assert (r.stdout, r.stderr) == ("", "")
    # Back-date the trash records (sessionctl itself never rewrites the log).
    log = st / ".sessionctl" / "audit.jsonl"
    recs = [json.loads(x) for x in log.read_text().splitlines()]
    for rec in recs:
        rec["time"] = "2020-01-01T00:00:00.000000000Z"
    log.write_text("".join(json.dumps(x) + "\n" for x in recs))
    r = invoke("--dir", st, "cleanup", "--before", "2000-01-01", "--trash-retention", "never",
               "--json")
    assert json.loads(r.stdout)["purged"] == [] and len(trash_names(st)) == 3
    r = invoke("--dir", st, "cleanup", "--before", "2000-01-01", "--json")  # default 30d
    assert sorted(json.loads(r.stdout)["purged"]) == sorted([A, B, HIDDEN])
    assert trash_names(st) == []
    invoke("--dir", st, "cleanup", "--before", "2000-01-01", "--trash-retention", "0d", code=2)


def test_dry_runs_change_nothing(st: Path) -> None:
    invoke("--dir", st, "delete", B)
    invoke("--dir", st, "tag", A, "x")
    invoke("--dir", st, "list")
    before = snapshot(st)
    r = invoke("--dir", st, "cleanup", "--before", "2026-01-01", "--empty", "--dry-run")
    assert sorted(lines(r.stdout)) == sorted([A, HIDDEN])
    invoke("--dir", st, "cleanup", "--before", "2026-01-01", "--dry-run", "--json",
           "--trash-retention", "1min")
    invoke("--dir", st, "delete", A, C, "--dry-run")
    invoke("--dir", st, "trash", "empty", "--dry-run")
    assert snapshot(st) == before


def test_read_commands_create_nothing(st: Path) -> None:
    invoke("--dir", st, "list")  # (today's list may write index.json: not this test's concern)
    before = snapshot(st)
    for args in (["list"], ["list", "--tag", "x"], ["trash"], ["trash", "--json"], ["log"],
                 ["log", "--json"]):
        invoke("--dir", st, *args)
    assert snapshot(st) == before
    assert not (st / ".trash").exists() and not (st / ".sessionctl").exists()


# -- an agent holding a session (real processes) --------------------------------------


def test_agent_holder_blocks_delete_rename_restore_and_cleanup_skips(
    st: Path, lock_holder: object
) -> None:
    run("--dir", st, "delete", C)
    before = snapshot(st)
    holder = lock_holder  # type: ignore[assignment]
    with holder(st / f"{A}.lock") as pid_a, holder(st / f"{C}.lock") as pid_c:  # type: ignore[operator]
        r = run("--dir", st, "delete", A, B, code=1)
        assert lines(r.stderr) == [f"sessionctl: session {A} is in use by process {pid_a}"]
        r = run("--dir", st, "rename", A, "new", code=1)
        assert str(pid_a) in r.stderr and len(lines(r.stderr)) == 1
        r = run("--dir", st, "restore", C, code=1)
        assert str(pid_c) in r.stderr and len(lines(r.stderr)) == 1
        assert snapshot(st) == {**before, **{k: v for k, v in snapshot(st).items()
                                             if k.endswith(".lock")}}
        r = run("--dir", st, "cleanup", "--before", "2026-01-01", "--json")
        report = json.loads(r.stdout)
        assert {"id": A, "reason": f"in use by process {pid_a}"} in report["skipped"]
        assert A not in report["removed"] and B in report["removed"]
    assert A in files(st) and C not in files(st)
    top_level_ok(st, frozenset({f"{A}.lock", f"{C}.lock"}))


# -- rename, tags, pins ------------------------------------------------------------------


def test_rename(st: Path) -> None:
    invoke("--dir", st, "rename", A, "Better name")
    rows = json.loads(invoke("--dir", st, "list", "--json").stdout)
    assert next(r for r in rows if r["id"] == A)["title"] == "Better name"
    last = json.loads((st / f"{A}.jsonl").read_text().splitlines()[-1])
    assert last["type"] == "meta" and last["title"] == "Better name"
    (rec,) = json.loads(invoke("--dir", st, "log", "--action", "rename", "--json").stdout)
    assert rec["old_title"] == "alpha" and rec["title"] == "Better name"
    data = (st / f"{A}.jsonl").read_bytes()
    for bad in ("x" * 121, "two\nlines", "esc\x1b[31m"):
        r = invoke("--dir", st, "rename", A, bad, code=2)
        assert len(lines(r.stderr)) == 1
    assert (st / f"{A}.jsonl").read_bytes() == data
    invoke("--dir", st, "rename", "ffff", "x", code=3)


def test_tags_pins_and_list_filters(st: Path) -> None:
    invoke("--dir", st, "tag", A, "Work", "q4")
    invoke("--dir", st, "tag", B, "work")
    invoke("--dir", st, "pin", B)
    ids = lambda *a: lines(invoke("--dir", st, "list", "--ids", *a).stdout)  # noqa: E731
    assert sorted(ids("--tag", "WORK")) == sorted([A, B])
    assert ids("--tag", "work", "--tag", "q4") == [A]
    assert ids("--pinned") == [B]
    assert ids("--pinned", "--tag", "q4") == []
    rows = {r["id"]: r for r in json.loads(invoke("--dir", st, "list", "--json").stdout)}
    assert rows[A]["tags"] == ["work", "q4"] and rows[A]["pinned"] is False
    assert rows[B]["pinned"] is True and rows[C]["tags"] == []
    invoke("--dir", st, "untag", A, "q4")
    invoke("--dir", st, "unpin", B)
    assert ids("--pinned") == [] and ids("--tag", "q4") == []
    r = invoke("--dir", st, "tag", A, "bad tag", code=2)
    assert "invalid tag" in r.stderr
    invoke("--dir", st, "list", "--tag", "no/slash", code=2)
    recs = json.loads(invoke("--dir", st, "log", "--json").stdout)
    assert [x["action"] for x in recs] == ["unpin", "untag", "pin", "tag", "tag"]
    assert recs[1]["tags"] == ["q4"] and recs[4]["tags"] == ["work", "q4"]


def test_delete_refuses_pinned_without_force(st: Path) -> None:
    invoke("--dir", st, "pin", B)
    r = invoke("--dir", st, "delete", A, B, code=1)
    assert lines(r.stderr) == [f"sessionctl: session {B} is pinned (unpin it, or use --force)"]
    assert A in files(st) and B in files(st)
    invoke("--dir", st, "delete", A, B, "--force")
    assert trash_names(st) == sorted([f"{A}.jsonl", f"{B}.jsonl"])
    # labels survive the trash and go with a purge
    invoke("--dir", st, "restore", B)
    assert lines(invoke("--dir", st, "list", "--pinned", "--ids").stdout) == [B]


# -- damaged inputs ------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["garbage", "truncated", "directory"])
def test_damaged_labels(st: Path, kind: str) -> None:
    path = st / ".sessionctl" / "labels.json"
    path.parent.mkdir(mode=0o700)
    content = {"garbage": b"\x00not json", "truncated": b'{"version": 1, "sessions": {"x'}
    if kind == "directory":
        path.mkdir()
    else:
        path.write_bytes(content[kind])
    r = invoke("--dir", st, "list", "--ids")
    assert len(lines(r.stderr)) == 1 and "labels.json" in r.stderr
    assert len(lines(r.stdout)) == 3
    r = invoke("--dir", st, "pin", A, code=1)
    assert len(lines(r.stderr)) == 1 and "nothing changed" in r.stderr
    r = invoke("--dir", st, "delete", A, code=1)  # pins unknown: nothing removed
    assert len(lines(r.stderr)) == 1 and A in files(st)
    invoke("--dir", st, "cleanup", "--before", "2026-01-01", code=1)
    assert A in files(st)
    if kind != "directory":
        assert path.read_bytes() == content[kind]
    invoke("--dir", st, "delete", A, "--force")
    assert A not in files(st)


@pytest.mark.parametrize("kind", ["garbage", "truncated", "directory"])
def test_damaged_audit_log(st: Path, kind: str) -> None:
    invoke("--dir", st, "delete", A)
    log = st / ".sessionctl" / "audit.jsonl"
    if kind == "directory":
        log.unlink()
        log.mkdir()
    elif kind == "garbage":
        log.write_bytes(log.read_bytes() + b"\xff\xfe garbage\n")
    else:
        log.write_bytes(log.read_bytes() + b'{"time": "2026-12-01T00:00:00Z", "act')
    r = invoke("--dir", st, "log", "--json")
    assert len(lines(r.stderr)) == 1 and "audit log" in r.stderr
    if kind == "directory":
        assert json.loads(r.stdout) == []
        r = invoke("--dir", st, "delete", B, code=1)
        assert len(lines(r.stderr)) == 1 and B in files(st)
        (row,) = json.loads(invoke("--dir", st, "trash", "--json").stdout)
        assert row["by"] is None
    else:
        assert [x["id"] for x in json.loads(r.stdout)] == [A]
        invoke("--dir", st, "delete", B)
        assert [x["id"] for x in json.loads(invoke("--dir", st, "log", "--json").stdout)] == [
            B, A]


def test_terminal_tables_render(st: Path) -> None:
    """What `trash` and `log` print on a terminal: one row per entry."""
    from rich.console import Console

    from sessionctl.render.undo import log_table, trash_table

    invoke("--dir", st, "delete", A)
    invoke("--dir", st, "rename", B, "new\u00a0name")
    rows = json.loads(invoke("--dir", st, "trash", "--json").stdout)
    recs = json.loads(invoke("--dir", st, "log", "--json").stdout)
    console = Console(width=120, record=True, color_system=None)
    console.print(trash_table(rows))
    console.print(log_table(recs))
    text = console.export_text()
    assert "alpha" in text and "delete" in text and "beta -> new" in text
