"""Search with real processes at once (SPEC §8.3): several searches
building and catching up one index, a writer appending during searches,
and the agent's locks held meanwhile (a search never waits on them)."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli_helpers import child_env, sid, write_session

WRITER = """
import sys
from sessionctl import JSONLStore, Message
store = JSONLStore(sys.argv[1])
ses = store.load(sys.argv[2])
for i in range(int(sys.argv[3])):
    store.append_message_to_disk(ses, Message.text_message("user", f"appended cobra{i} words"))
print("done", flush=True)
"""


def _store(tmp_path: Path, n: int = 60) -> Path:
    store = tmp_path / "store"
    store.mkdir(mode=0o700)
    for k in range(1, n + 1):
        write_session(store, sid(k), user=f"session {k} about vipers " + "filler " * 200,
                      assistant=f"reply {k}", updated=f"2026-03-01T12:{k % 60:02d}:00Z")
    return store


def _search(store: Path, env: dict[str, str], *query: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "sessionctl", "--dir", str(store), "search", "--json",
         "-n", "1000", *query],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _finish(p: subprocess.Popen[str]) -> list[dict[str, object]]:
    out, err = p.communicate(timeout=120)
    assert p.returncode == 0, err
    assert "Traceback" not in err
    data: list[dict[str, object]] = json.loads(out)
    return data


def test_concurrent_first_builds_agree(tmp_path: Path) -> None:
    store = _store(tmp_path)
    env = child_env(SESSIONCTL_CACHE_DIR=str(tmp_path / "cache"))
    procs = [_search(store, env, "vipers") for _ in range(4)]
    results = [_finish(p) for p in procs]
    ids = [[r["id"] for r in res] for res in results]
    assert all(len(x) == 60 for x in ids)
    assert all(x == ids[0] for x in ids)


def test_writer_appending_during_searches(tmp_path: Path) -> None:
    store = _store(tmp_path, 20)
    env = child_env(SESSIONCTL_CACHE_DIR=str(tmp_path / "cache"))
    target = sid(5)
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(store), target, "150"],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    rounds = 0
    while writer.poll() is None or rounds < 3:
        procs = [_search(store, env, "cobra OR vipers"), _search(store, env, "appended")]
        for p in procs:
            _finish(p)
        rounds += 1
    out, err = writer.communicate(timeout=120)
    assert writer.returncode == 0 and "done" in out, err
    # Caught up: every appended message is found, each once, at its place.
    [r] = _finish(_search(store, env, "cobra149"))
    assert r["id"] == target
    hits = r["hits"]
    assert isinstance(hits, list) and hits[0]["message"] == 2 + 150
    [r] = _finish(_search(store, env, "--role", "user", "appended"))
    assert r["id"] == target
    shown = json.loads(subprocess.run(
        [sys.executable, "-m", "sessionctl", "--dir", str(store), "show", "--json", target],
        env=env, capture_output=True, text=True, check=True).stdout)
    assert len(shown["messages"]) == 152


def test_held_agent_locks_do_not_block(tmp_path: Path) -> None:
    """An agent holding ``<id>.lock`` and ``<id>.jsonl.flock`` (and the
    index's) does not delay the search: it takes none of them."""
    store = _store(tmp_path, 3)
    env = child_env(SESSIONCTL_CACHE_DIR=str(tmp_path / "cache"))
    names = [f"{sid(1)}.lock", f"{sid(1)}.jsonl.flock", "index.json.flock"]
    fds = []
    try:
        for name in names:
            fd = os.open(store / name, os.O_CREAT | os.O_RDWR, 0o600)
            fcntl.flock(fd, fcntl.LOCK_EX)
            fds.append(fd)
        before = sorted(os.listdir(store))
        p = _search(store, env, "vipers")
        assert len(_finish(p)) == 3  # communicate() has a timeout: a wait would fail
        assert sorted(os.listdir(store)) == before
    finally:
        for fd in fds:
            os.close(fd)


def test_progress_bar_only_after_a_second(monkeypatch: pytest.MonkeyPatch) -> None:
    """The catch-up progress bar appears once catching up has taken more than
    a second, never for a quick one."""
    import io

    from rich.console import Console

    import sessionctl.cli.commands.search as cmd

    out = io.StringIO()
    monkeypatch.setattr(cmd.common, "console",
                        lambda stderr=False: Console(file=out, force_terminal=True, width=80))
    now = [100.0]
    monkeypatch.setattr(cmd.time, "monotonic", lambda: now[0])
    bar = cmd._ProgressBar()
    bar(10, 100)
    now[0] += 0.5
    bar(50, 100)
    assert bar._bar is None  # under a second: nothing shown
    now[0] += 0.6
    bar(60, 100)
    assert bar._bar is not None
    bar(100, 100)
    bar.close()
    assert "indexing sessions" in out.getvalue()
