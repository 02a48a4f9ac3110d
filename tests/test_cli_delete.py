"""The command line in this process (``CliRunner``): ``sessionctl delete``, every
option and error path with its exit code. Piped unless a test declares stdout a
terminal."""

from __future__ import annotations

import json

import pytest
from cli_helpers import (
    invoke,
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
    fail_index_writes,
    index_warning,
    lines,
)

pytestmark = pytest.mark.usefixtures("fast_fsync")


# delete


def test_delete_several_ids_quietly(st: Store) -> None:
    r = invoke("--dir", st.dir, "delete", ALPHA, "bbbb", "cccc4444")
    assert (r.stdout, r.stderr) == ("", "")
    assert session_files(st.dir) == sorted([GAMMA, OLD])
    assert lines(invoke("--dir", st.dir, "list", "--all", "--ids").stdout) == [GAMMA, OLD]
    assert not list(st.dir.glob("*.lock"))


def test_delete_same_session_twice_in_one_call(st: Store) -> None:
    invoke("--dir", st.dir, "delete", ALPHA, "aaaa1", ALPHA)
    assert ALPHA not in session_files(st.dir)


def test_delete_verbose_names_each(st: Store) -> None:
    r = invoke("--dir", st.dir, "delete", ALPHA, OLD, "--verbose")
    assert r.stdout == ""
    assert lines(r.stderr) == [f"sessionctl: deleted {ALPHA}", f"sessionctl: deleted {OLD}"]


def test_delete_dry_run_prints_ids_and_removes_nothing(st: Store) -> None:
    r = invoke("--dir", st.dir, "delete", "aaaa1", "bbbb", "--dry-run")
    assert r.stdout == f"{ALPHA}\n{BETA}\n"
    assert session_files(st.dir) == sorted(EVERY)


@pytest.mark.parametrize(("bad", "code"), [
    ("ffff", 3),  # unknown
    ("aaaa", 3),  # ambiguous
    ("../x", 2),  # invalid
    ("a/b", 2),
])
def test_delete_validates_every_id_first(st: Store, bad: str, code: int) -> None:
    for args in ([ALPHA, bad], [bad, ALPHA], [ALPHA, BETA, bad]):
        r = invoke("--dir", st.dir, "delete", *args, code=code)
        assert r.stdout == "" and r.stderr.startswith("sessionctl: ")
        assert session_files(st.dir) == sorted(EVERY)


def test_delete_needs_an_id(st: Store) -> None:
    invoke("--dir", st.dir, "delete", code=2)


def test_delete_held_session_exit_1_nothing_removed(st: Store, lock_holder: LockHolder) -> None:
    with lock_holder(st.dir / f"{BETA}.lock") as pid:
        r = invoke("--dir", st.dir, "delete", ALPHA, BETA, GAMMA, code=1)
        assert lines(r.stderr) == [f"sessionctl: session {BETA} is in use by process {pid}"]
        assert session_files(st.dir) == sorted(EVERY)
        # the dry run does not care about locks
        invoke("--dir", st.dir, "delete", BETA, "--dry-run")
    invoke("--dir", st.dir, "delete", ALPHA, BETA, GAMMA)
    assert session_files(st.dir) == sorted([HIDDEN, OLD])


def test_delete_removes_stale_lock_files(st: Store) -> None:
    (st.dir / f"{ALPHA}.lock").write_text("999999")  # nobody holds it
    invoke("--dir", st.dir, "delete", ALPHA)
    assert ALPHA not in session_files(st.dir)
    assert not (st.dir / f"{ALPHA}.lock").exists()






def test_delete_whose_index_update_fails_succeeds_with_a_warning(
    st: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    # SPEC §8.5: the files are gone, the index is a cache: exit 0, one warning.
    fail_index_writes(monkeypatch)
    r = invoke("--dir", st.dir, "delete", ALPHA, OLD)
    assert r.stdout == ""
    assert len(lines(r.stderr)) == 1 and index_warning(lines(r.stderr)[0]), r.stderr
    assert session_files(st.dir) == sorted([BETA, GAMMA, HIDDEN])
    assert not list(st.dir.glob("*.lock")) and not (st.dir / "index.json").exists()
    r = invoke("--dir", st.dir, "delete", BETA, "--verbose")
    assert lines(r.stderr)[0] == f"sessionctl: deleted {BETA}"
    assert len(lines(r.stderr)) == 2 and index_warning(lines(r.stderr)[1]), r.stderr


def test_cleanup_whose_index_update_fails_succeeds_with_a_warning(
    st: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    fail_index_writes(monkeypatch)
    r = invoke("--dir", st.dir, "cleanup", "--before", "2026-03-03T12:00:00Z", "--json")
    report = json.loads(r.stdout)  # the summary is still printed, on stdout
    assert report["removed"] == [GAMMA, HIDDEN, OLD]
    assert report["skipped"] == [] and report["failed"] == []
    assert len(lines(r.stderr)) == 1 and index_warning(lines(r.stderr)[0]), r.stderr
    assert session_files(st.dir) == sorted([ALPHA, BETA])
    write_session(st.dir, OLD, updated="2026-01-01T00:00:00Z")
    r = invoke("--dir", st.dir, "cleanup", "--older-than", "30d")  # as from cron
    assert r.stdout == ""
    assert len(lines(r.stderr)) == 1 and index_warning(lines(r.stderr)[0]), r.stderr
    assert session_files(st.dir) == []
