"""The command line as users run it: real ``python -m sessionctl`` processes
with pipes, environment variables, working directories, another process
holding a lock, a reader that goes away, a full disk.

Each run costs a process start, so one test checks several things.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
from cli_helpers import (
    ANSI,
    child_env,
    leftovers,
    new_store,
    run,
    session_files,
    write_session,
)

from sessionctl import JSONLStore, Message, new_session

LockHolder = Callable[[Path], AbstractContextManager[int]]

A = "20260305-100000-aaaa111100000001"
B = "20260304-100000-bbbb222200000002"
H = "20260302-100000-cccc444400000004"


@pytest.fixture
def store(tmp_path: Path) -> Path:
    d = new_store(tmp_path / "store")
    write_session(d, A, title="Colourful \x1b[1mtitle\x1b[0m", workspace="/w/a", model="m1",
                  updated="2026-03-05T10:00:00Z", messages=[
                      {"role": "user", "content": [{"type": "text", "text": "**bold** `code`"}]},
                      {"role": "assistant", "content": [
                          {"type": "tool_use", "tool_name": "bash", "input": {"cmd": "ls"}},
                          {"type": "text", "text": "# heading\n\n- item"}]},
                  ])
    write_session(d, B, title="second", workspace="/w/b", model="m2",
                  updated="2026-03-04T10:00:00Z")
    write_session(d, H, user=None, updated="2026-03-02T10:00:00Z")
    return d


@pytest.mark.parametrize("colour_env", [
    {"NO_COLOR": "1", "FORCE_COLOR": None, "TERM": "xterm-256color"},
    {"FORCE_COLOR": "1", "COLORTERM": "truecolor", "TERM": "xterm-256color", "NO_COLOR": None},
])
def test_piped_output_is_plain(store: Path, colour_env: dict[str, str | None]) -> None:
    env = child_env(**colour_env)
    p = run("--dir", store, "list", "--all", env=env)
    assert not ANSI.search(p.stdout) and p.stderr == ""
    assert [ln.split("\t")[0] for ln in p.stdout.splitlines()] == [A, B, H]
    assert all(ln.count("\t") == 4 for ln in p.stdout.splitlines())
    assert "Colourful  [1mtitle [0m" in p.stdout  # escapes in titles are neutralised
    p = run("--dir", store, "show", "aaaa", env=env)
    assert p.stdout == JSONLStore(store).export_markdown(A)  # plain markdown, in full
    assert not ANSI.search(p.stdout.replace("\x1b[1mtitle\x1b[0m", ""))
    assert "**bold** `code`" in p.stdout and "# heading" in p.stdout


def test_list_here_uses_the_working_directory(tmp_path: Path) -> None:
    d = new_store(tmp_path / "store")
    ws = tmp_path / "some project"
    ws.mkdir()
    cwd = os.getcwd()
    os.chdir(ws)
    try:
        ses = new_session("v", "e", "m")
        JSONLStore(d).append_message(ses, Message.text_message("user", "here"))
    finally:
        os.chdir(cwd)
    write_session(d, A, workspace=str(tmp_path))
    assert run("--dir", d, "list", "--here", "--ids", cwd=ws).stdout == f"{ses.id}\n"


def test_store_from_option_environment_and_home(tmp_path: Path) -> None:
    home = tmp_path / "home"
    write_session(new_store(home / ".ggcode" / "sessions"), "in_home")
    write_session(new_store(tmp_path / "env"), "in_env")
    write_session(new_store(tmp_path / "opt"), "in_opt")
    env = child_env(HOME=str(home), SESSIONCTL_DIR=None)
    assert run("list", "--ids", env=env).stdout == "in_home\n"
    env["SESSIONCTL_DIR"] = str(tmp_path / "env")
    assert run("list", "--ids", env=env).stdout == "in_env\n"
    assert run("--dir", tmp_path / "opt", "list", "--ids", env=env).stdout == "in_opt\n"


@pytest.fixture(scope="module")
def big_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """300 sessions with long titles: far more output than a pipe buffers."""
    d = new_store(tmp_path_factory.mktemp("big") / "store")
    for n in range(300):
        write_session(d, f"20260301-120000-{n:016x}", title=f"session {n} " + "x" * 400,
                      workspace="/w", updated=f"2026-03-01T{n // 60:02d}:{n % 60:02d}:00Z")
    return d


@pytest.mark.parametrize("args", [["list"], ["list", "--json"]])
def test_broken_pipe_is_a_quiet_success(big_store: Path, args: list[str]) -> None:
    """``sessionctl list | head -n 1``: exit 0, nothing on stderr."""
    cli = subprocess.Popen(
        [sys.executable, "-m", "sessionctl", "--dir", str(big_store), *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=child_env())
    head = subprocess.Popen(["head", "-n", "1"], stdin=cli.stdout, stdout=subprocess.PIPE)
    assert cli.stdout is not None and cli.stderr is not None
    cli.stdout.close()  # only head reads it now
    first, _ = head.communicate(timeout=30)
    err = cli.stderr.read().decode()
    cli.stderr.close()
    assert cli.wait(timeout=30) == 0, err
    assert err == ""
    assert first.count(b"\n") == 1


@pytest.mark.parametrize("args", [
    ["list", "--ids"], ["export-md", "0000000000000001", "0000000000000002"], ["--help"],
])
def test_closed_pipe_from_the_start(big_store: Path, args: list[str]) -> None:
    """The reader is gone before the first byte: every write fails (EPIPE)."""
    r, w = os.pipe()
    os.close(r)
    try:
        p = subprocess.run(
            [sys.executable, "-m", "sessionctl", "--dir", str(big_store), *args],
            stdout=w, stderr=subprocess.PIPE, env=child_env(), timeout=30)
    finally:
        os.close(w)
    assert p.returncode == 0, p.stderr
    assert p.stderr == b""


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("args", [["list"], ["show", "aaaa"], ["--version"]])
def test_full_disk_on_stdout_exit_1_one_line(store: Path, args: list[str]) -> None:
    with open("/dev/full", "w") as full:
        p = subprocess.run([sys.executable, "-m", "sessionctl", "--dir", str(store), *args],
                           stdout=full, stderr=subprocess.PIPE, text=True, env=child_env(),
                           timeout=30)
    assert p.returncode == 1, p.stderr
    assert "Traceback" not in p.stderr
    assert len(p.stderr.splitlines()) == 1 and p.stderr.startswith("sessionctl: ")
    assert "No space left on device" in p.stderr


def test_delete_held_by_another_process(store: Path, lock_holder: LockHolder) -> None:
    with lock_holder(store / f"{B}.lock") as pid:
        p = run("--dir", store, "delete", A, B, code=1)
        assert p.stderr == f"sessionctl: session {B} is in use by process {pid}\n"
        assert session_files(store) == sorted([A, B, H])
        # cleanup skips it and goes on, exit 0
        p = run("--dir", store, "cleanup", "--before", "2027-01-01", "--json")
        report = json.loads(p.stdout)
        assert sorted(report["removed"]) == sorted([A, H])
        assert report["skipped"] == [{"id": B, "reason": f"in use by process {pid}"}]
        assert session_files(store) == [B]


def test_dates_without_a_zone_are_local_time(tmp_path: Path) -> None:
    d = new_store(tmp_path / "s")
    write_session(d, "before_local_midnight", updated="2026-05-31T18:59:59Z")
    write_session(d, "before_utc_midnight", updated="2026-05-31T23:59:59Z")
    write_session(d, "after_utc_midnight", updated="2026-06-01T00:00:01Z")
    env = child_env(TZ="XXX-5")  # POSIX: five hours ahead of UTC, no tz database needed
    # local 2026-06-01 00:00 is 2026-05-31T19:00:00Z
    p = run("--dir", d, "list", "--ids", "--since", "2026-06-01", env=env)
    assert p.stdout == "after_utc_midnight\nbefore_utc_midnight\n"
    p = run("--dir", d, "cleanup", "--before", "2026-06-01T05:00:00", "--json", env=env)
    report = json.loads(p.stdout)
    assert report["cutoff"] == "2026-06-01T00:00:00Z"
    assert sorted(report["removed"]) == ["before_local_midnight", "before_utc_midnight"]
    assert session_files(d) == ["after_utc_midnight"]


def test_cleanup_is_silent_for_cron(store: Path) -> None:
    p = run("--dir", store, "cleanup", "--older-than", "1w", "--empty")
    assert (p.stdout, p.stderr) == ("", "")
    assert session_files(store) == []


def test_export_md_to_a_file_and_a_directory(store: Path, tmp_path: Path) -> None:
    out = tmp_path / "docs"
    out.mkdir()
    (out / "a.md").write_text("previous")
    p = run("--dir", store, "export-md", "aaaa", "-o", out / "a.md")
    assert (p.stdout, p.stderr) == ("", "")
    assert (out / "a.md").read_text(encoding="utf-8") == JSONLStore(store).export_markdown(A)
    p = run("--dir", store, "export-md", "--all", "--output-dir", out / "all")
    assert (p.stdout, p.stderr) == ("", "")  # no progress bar off a terminal
    assert sorted(os.listdir(out / "all")) == sorted([f"{A}.md", f"{B}.md"])
    assert leftovers(out) == [] and leftovers(out / "all") == []


@pytest.mark.parametrize(("args", "code"), [
    (["show", "2026"], 3),
    (["delete", "aaaa", "../x"], 2),
    (["cleanup", "--older-than", "0d"], 2),
])
def test_exit_codes_as_a_process(store: Path, args: list[str], code: int) -> None:
    p = run("--dir", store, *args, code=code, env=child_env(FORCE_COLOR="1"))
    assert p.stdout == ""
    assert p.stderr.startswith("sessionctl: ") and not ANSI.search(p.stderr)
    assert session_files(store) == sorted([A, B, H])


_ENDING = """
import atexit, sys, threading, time
atexit.register(lambda: print("atexit ran", file=sys.stderr))
if sys.argv[1] == "thread":  # a thread still running: the normal exit waits for it
    threading.Thread(target=lambda: (time.sleep(0.3), print("thread done"))).start()
sys.argv = ["sessionctl", *sys.argv[2:]]
from sessionctl._entry import main
main()
"""


@pytest.mark.parametrize(("how", "args", "code", "out", "err"), [
    ("plain", ["--version"], 0, "sessionctl ", ""),
    ("plain", ["list", "--json"], 0, "[]\n", ""),
    ("plain", ["nosuchcommand"], 2, "", "sessionctl: No such command"),
    ("thread", ["--version"], 0, "thread done", ""),
])
def test_the_process_ends_with_output_flushed_and_atexit_run(
    tmp_path: Path, how: str, args: list[str], code: int, out: str, err: str
) -> None:
    """main() ends the process itself (without the interpreter's teardown):
    exit codes, flushed output and atexit handlers are as a normal exit's."""
    proc = subprocess.run(
        [sys.executable, "-c", _ENDING, how, "--dir", str(tmp_path), *args],
        env=child_env(), capture_output=True, text=True, timeout=30,
    )
    assert proc.returncode == code, proc.stderr
    assert out in proc.stdout and err in proc.stderr
    assert proc.stderr.rstrip().endswith("atexit ran")


def test_closed_stderr_or_stdout_at_start(store: Path) -> None:
    """A cron job may start sessionctl with stderr closed (2>&-): success
    is still exit 0, output intact; stdout closed is a one-line failure."""
    base = f"exec {sys.executable} -m sessionctl --dir '{store}'"
    ok = subprocess.run(["sh", "-c", f"{base} list --ids 2>&-"], env=child_env(),
                        capture_output=True, text=True, timeout=30)
    assert ok.returncode == 0 and ok.stdout.split() == [A, B]
    bad = subprocess.run(["sh", "-c", f"{base} list --ids >&-"], env=child_env(),
                         capture_output=True, text=True, timeout=30)
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
    assert len(bad.stderr.strip().splitlines()) <= 2
