"""The command line in this process (``CliRunner``): ``sessionctl cleanup``, every
option and error path with its exit code. Piped unless a test declares stdout a
terminal."""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from cli_helpers import (
    invoke,
    new_store,
    session_files,
    write_session,
)
from cli_store import (
    ALPHA,
    BETA,
    EVERY,
    GAMMA,
    HIDDEN,
    OLD,
    LockHolder,
    Store,
    lines,
)

from sessionctl.core.times import format_ns

pytestmark = pytest.mark.usefixtures("fast_fsync")


# cleanup


def stamp(dt: datetime) -> str:
    return format_ns(int(dt.timestamp()) * 10**9)


UNITS = {"min": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1),
         "w": timedelta(weeks=1), "mo": timedelta(days=30), "y": timedelta(days=365)}


@pytest.mark.parametrize("unit", list(UNITS))
def test_cleanup_older_than_units(tmp_path: Path, unit: str) -> None:
    d = new_store(tmp_path / "s")
    now = datetime.now(timezone.utc)
    one = UNITS[unit]
    write_session(d, "old_one", updated=stamp(now - 3 * one - timedelta(minutes=2)))
    write_session(d, "old_hidden", updated=stamp(now - 3 * one - timedelta(minutes=2)),
                  user=None)
    write_session(d, "young_one", updated=stamp(now - one - timedelta(minutes=1)))
    r = invoke("--dir", d, "cleanup", "--older-than", f"3{unit}")
    assert (r.stdout, r.stderr) == ("", "")  # silent for cron
    assert session_files(d) == ["young_one"]


@pytest.mark.parametrize("age", ["0d", "0min", "-1d", "30", "30x", "d", "", "1.5d", "30 d", "1m",
                                 "6m"])
def test_cleanup_bad_age_exit_2_removes_nothing(st: Store, age: str) -> None:
    r = invoke("--dir", st.dir, "cleanup", "--older-than", age, code=2)
    assert r.stdout == ""
    assert lines(r.stderr)[0].startswith("sessionctl: ")
    assert session_files(st.dir) == sorted(EVERY)


@pytest.mark.parametrize(("before", "removed"), [
    ("2026-03-03T10:00:00Z", [HIDDEN, OLD]),  # strictly before
    ("2026-03-03T10:00:01Z", [GAMMA, HIDDEN, OLD]),
    ("2026-03-03T11:00:00+01:00", [HIDDEN, OLD]),  # with a zone
    ("2026-03-03T11:00:01+01:00", [GAMMA, HIDDEN, OLD]),
    ("2026-02-01", [OLD]),  # a date: local midnight, far from any session
    ("2026-02-01T00:00:00", [OLD]),  # no zone: local
    ("2020-01-01", []),
])
def test_cleanup_before(st: Store, before: str, removed: list[str]) -> None:
    r = invoke("--dir", st.dir, "cleanup", "--before", before, "--json")
    report = json.loads(r.stdout)
    assert sorted(report["removed"]) == sorted(removed)
    assert session_files(st.dir) == sorted(set(EVERY) - set(removed))


@pytest.mark.parametrize("args", [
    [],
    ["--dry-run"],
    ["--verbose"],
    ["--older-than", "30d", "--before", "2026-01-01"],
    ["--older-than", "30d", "--before", "2026-01-01", "--empty"],
    ["--before", "not-a-date"],
    ["--before", "2026-02-30"],
    ["--before", ""],
])
def test_cleanup_usage_errors_exit_2(st: Store, args: list[str]) -> None:
    r = invoke("--dir", st.dir, "cleanup", *args, code=2)
    assert r.stdout == ""
    assert r.stderr.startswith("sessionctl: ")
    assert session_files(st.dir) == sorted(EVERY)


def test_cleanup_dry_run_prints_ids(st: Store) -> None:
    r = invoke("--dir", st.dir, "cleanup", "--before", "2026-03-03T12:00:00Z", "--dry-run")
    assert r.stdout == f"{GAMMA}\n{HIDDEN}\n{OLD}\n"
    assert r.stderr == ""
    assert session_files(st.dir) == sorted(EVERY)
    r = invoke("--dir", st.dir, "cleanup", "--before", "2026-03-03T12:00:00Z", "--dry-run",
               "--verbose")
    assert r.stdout == f"{GAMMA}\n{HIDDEN}\n{OLD}\n"
    assert lines(r.stderr) == [f"sessionctl: would remove {s}" for s in (GAMMA, HIDDEN, OLD)]
    assert session_files(st.dir) == sorted(EVERY)


def test_cleanup_json_shape(st: Store) -> None:
    r = invoke("--dir", st.dir, "cleanup", "--before", "2026-03-03T12:00:00Z", "--json",
               "--dry-run")
    report = json.loads(r.stdout)
    # SPEC 5 and 8.1: every key, always (an empty "failed" too)
    assert set(report) == {"cutoff", "dry_run", "removed", "skipped", "failed", "purged"}
    assert report["failed"] == []
    assert report["cutoff"] == "2026-03-03T12:00:00Z"
    assert report["dry_run"] is True
    assert report["removed"] == [GAMMA, HIDDEN, OLD]
    assert report["skipped"] == []
    assert session_files(st.dir) == sorted(EVERY)
    r = invoke("--dir", st.dir, "cleanup", "--before", "2026-03-03T12:00:00Z", "--json")
    report = json.loads(r.stdout)
    assert report["dry_run"] is False and report["removed"] == [GAMMA, HIDDEN, OLD]
    assert r.stderr == ""
    # nothing to do: still a report
    report = json.loads(invoke("--dir", st.dir, "cleanup", "--older-than", "9999w",
                               "--json").stdout)
    assert report["removed"] == [] and report["skipped"] == []
    assert report["cutoff"].endswith("Z")


def test_cleanup_verbose_lines_on_stderr(st: Store) -> None:
    r = invoke("--dir", st.dir, "cleanup", "--before", "2026-03-03T12:00:00Z", "--verbose")
    assert r.stdout == ""
    assert lines(r.stderr) == [f"sessionctl: removed {s}" for s in (GAMMA, HIDDEN, OLD)]


def test_cleanup_empty(tmp_path: Path) -> None:
    d = new_store(tmp_path / "s")
    now = datetime.now(timezone.utc)
    write_session(d, "hidden_old", user=None, updated=stamp(now - timedelta(hours=2)))
    write_session(d, "hidden_new", user=None, updated=stamp(now - timedelta(minutes=10)))
    write_session(d, "blank_user", user="   \n", updated=stamp(now - timedelta(days=2)))
    (d / "zero_bytes.jsonl").write_bytes(b"")
    os.utime(d / "zero_bytes.jsonl", (now.timestamp() - 7200, now.timestamp() - 7200))
    write_session(d, "visible_old", updated=stamp(now - timedelta(days=400)))
    r = invoke("--dir", d, "cleanup", "--empty", "--dry-run")
    assert sorted(lines(r.stdout)) == ["blank_user", "hidden_old", "zero_bytes"]
    r = invoke("--dir", d, "cleanup", "--empty")
    assert (r.stdout, r.stderr) == ("", "")
    assert session_files(d) == ["hidden_new", "visible_old"]
    # --empty with an age: both rules
    invoke("--dir", d, "cleanup", "--empty", "--older-than", "30d")
    assert session_files(d) == ["hidden_new"]


def test_cleanup_skips_held_sessions(st: Store, lock_holder: LockHolder) -> None:
    with lock_holder(st.dir / f"{GAMMA}.lock") as pid:
        r = invoke("--dir", st.dir, "cleanup", "--before", "2026-03-03T12:00:00Z", "--json")
        report = json.loads(r.stdout)
        assert report["removed"] == [HIDDEN, OLD]
        assert report["skipped"] == [{"id": GAMMA, "reason": f"in use by process {pid}"}]
        assert GAMMA in session_files(st.dir)
        r = invoke("--dir", st.dir, "cleanup", "--before", "2026-03-03T12:00:00Z", "--verbose")
        assert lines(r.stderr) == [f"sessionctl: skipped {GAMMA}: in use by process {pid}"]
        r = invoke("--dir", st.dir, "cleanup", "--before", "2026-03-03T12:00:00Z")
        assert (r.stdout, r.stderr) == ("", "")  # cron stays quiet, exit 0
    assert session_files(st.dir) == sorted([ALPHA, BETA, GAMMA])


def test_cleanup_removal_failure_exit_1(st: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    from sessionctl import StoreIOError
    from sessionctl.storage import removal

    real = removal.unlink_locked

    def failing(sid: str, st: os.stat_result, path: str | Path) -> None:
        if sid == HIDDEN:
            raise StoreIOError(f"cannot remove session {sid}: Read-only file system")
        real(sid, st, path)

    monkeypatch.setattr(removal, "unlink_locked", failing)
    r = invoke("--dir", st.dir, "cleanup", "--before", "2026-03-03T12:00:00Z", "--purge", code=1)
    assert r.stdout == ""
    assert lines(r.stderr) == [
        f"sessionctl: could not remove {HIDDEN}: cannot remove session {HIDDEN}: "
        "Read-only file system"]
    assert session_files(st.dir) == sorted([ALPHA, BETA, HIDDEN])


def test_cleanup_unreadable_only_with_verbose(st: Store) -> None:
    (st.dir / "20200101-000000-eeee000000000000.jsonl").mkdir()
    r = invoke("--dir", st.dir, "cleanup", "--before", "2026-01-02")
    assert (r.stdout, r.stderr) == ("", "")
    r = invoke("--dir", st.dir, "cleanup", "--before", "2026-01-02", "--verbose")
    assert "skipped 1 unreadable session" in r.stderr


def test_cleanup_keeps_a_file_modified_after_the_cutoff(tmp_path: Path) -> None:
    """SPEC §8.5: a file written after the cutoff is not old, whatever its
    records say (a writer that appends without recording times, a copy of an
    old session, a stale index entry)."""
    d = new_store(tmp_path / "s")
    write_session(d, "old_one", updated="2020-01-01T00:00:00Z")
    write_session(d, "touched", updated="2020-01-01T00:00:00Z")
    write_session(d, "empty_touched", updated="2020-01-01T00:00:00Z", user=None)
    now_ns = int(datetime.now(timezone.utc).timestamp()) * 10**9
    for sid in ("touched", "empty_touched"):
        os.utime(d / f"{sid}.jsonl", ns=(now_ns, now_ns))
    dry = invoke("--dir", d, "cleanup", "--before", "2021-01-01", "--empty", "--dry-run",
                 "--json")
    assert json.loads(dry.stdout)["removed"] == ["old_one"]
    r = invoke("--dir", d, "cleanup", "--before", "2021-01-01", "--empty", "--json")
    report = json.loads(r.stdout)
    assert report["removed"] == ["old_one"] and r.exit_code == 0
    # Said why, so nobody wonders why an old session stayed.
    assert sorted(report["skipped"], key=lambda x: x["id"]) == [
        {"id": sid, "reason": "file modified after the cutoff"}
        for sid in ("empty_touched", "touched")]
    assert session_files(d) == ["empty_touched", "touched"]
