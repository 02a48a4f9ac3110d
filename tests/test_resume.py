"""``sessionctl resume``: hand a session back to the agent (SPEC §3, §5, §7).

resume replaces its own process with the agent, so the real runs are
subprocesses with a fake agent that records its argv, cwd and PID; the
in-process tests stop just before the ``exec``.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest
import typer
from cli_helpers import child_env, invoke, new_store, run, text_msg, write_session

import sessionctl.launch as launch
from sessionctl import JSONLStore, Message, new_session

pytestmark = pytest.mark.usefixtures("fast_fsync")

LockHolder = Callable[[Path], AbstractContextManager[int]]
SID = "20260301-120000-abcdef0123456789"

AGENT = """#!{python}
import json, os, sys
with open({log!r}, "w") as f:
    json.dump({{"argv": sys.argv, "cwd": os.getcwd(), "pid": os.getpid()}}, f)
"""


class Env:
    """A store and a workspace whose paths contain spaces, and a fake agent."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.store = new_store(tmp / "my store")
        self.ws = tmp / "work space" / "proj"
        self.ws.mkdir(parents=True)
        self.log = tmp / "agent.json"
        bindir = tmp / "bin dir"
        bindir.mkdir()
        self.agent = bindir / "fake agent"
        self.agent.write_text(AGENT.format(python=sys.executable, log=str(self.log)))
        self.agent.chmod(0o755)
        self.file = str(self.store / f"{SID}.jsonl")

    def ran(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.log.read_text())
        return data

    @property
    def cmd(self) -> str:
        """The agent, quoted as a person would type it in a template."""
        return shlex.quote(str(self.agent))


@pytest.fixture
def env(tmp_path: Path) -> Env:
    e = Env(tmp_path)
    write_session(e.store, SID, title="resume me", workspace=str(e.ws))
    return e


@pytest.fixture
def no_exec(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, list[str], str]]:
    """In-process: record what would be exec'd instead of replacing pytest."""
    calls: list[tuple[str, list[str], str]] = []

    def fake(exe: str, argv: list[str], cwd: str) -> None:
        calls.append((exe, argv, cwd))
        raise typer.Exit(0)

    monkeypatch.setattr(launch, "_exec", fake)
    return calls


# =============================================================================
# real runs (subprocess): the agent replaces sessionctl
# =============================================================================


def test_resume_execs_the_command_in_the_workspace(env: Env) -> None:
    template = f"{env.cmd} --resume={{id}} --in {{workspace}} --file={{file}} x{{id}}y plain"
    p = run("--dir", env.store, "resume", "abcdef", "--command", template, cwd=env.tmp)
    assert p.stdout == "" and p.stderr == ""
    got = env.ran()
    assert got["argv"] == [str(env.agent), f"--resume={SID}", "--in", str(env.ws),
                           f"--file={env.file}", f"x{SID}y", "plain"]
    assert got["cwd"] == str(env.ws)


def test_resume_replaces_the_sessionctl_process(env: Env) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "sessionctl", "--dir", str(env.store), "resume", SID,
         "--command", f"{env.cmd} {{id}}"], env=child_env(), stderr=subprocess.PIPE, text=True)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0 and err == ""
    assert env.ran()["pid"] == proc.pid  # exec'd, not spawned


def test_resume_command_from_environment(env: Env) -> None:
    e = child_env(SESSIONCTL_RESUME_COMMAND=f"{env.cmd} env {{id}}")
    run("--dir", env.store, "resume", SID, env=e)
    assert env.ran()["argv"] == [str(env.agent), "env", SID]
    assert env.ran()["cwd"] == str(env.ws)


def test_resume_without_id_takes_newest_session_of_this_workspace(tmp_path: Path) -> None:
    e = Env(tmp_path)
    store = JSONLStore(e.store)
    old_cwd = os.getcwd()
    os.chdir(e.ws)
    try:
        older = new_session("v", "e", "m")
        store.append_message(older, Message.text_message("user", "first"))
        newer = new_session("v", "e", "m")
        store.append_message(newer, Message.text_message("user", "second"))
    finally:
        os.chdir(old_cwd)
    assert newer.workspace == str(e.ws)
    # newer in another workspace, and a hidden one here: neither is taken
    write_session(e.store, "zzz_elsewhere", workspace=str(tmp_path), updated="2099-01-01T00:00:00Z")
    write_session(e.store, "zzz_hidden_here", workspace=str(e.ws), user=None,
                  updated="2099-01-01T00:00:00Z")
    run("--dir", e.store, "resume", "--command", f"{e.cmd} {{id}}", cwd=e.ws)
    assert e.ran()["argv"] == [str(e.agent), newer.id]
    assert e.ran()["cwd"] == str(e.ws)


def test_resume_relative_paths_are_taken_where_sessionctl_runs(env: Env) -> None:
    # --dir relative and the agent named by a relative path: both mean the
    # caller's directory even though the agent runs in the workspace
    run("--dir", "my store", "resume", SID, "--command", "'./bin dir/fake agent' {file}",
        cwd=env.tmp)
    # (a script's argv[0] is the path the kernel ran: the absolute one)
    assert env.ran()["argv"] == [str(env.agent), env.file]
    assert env.ran()["cwd"] == str(env.ws)


def test_resume_empty_workspace_runs_here(env: Env) -> None:
    write_session(env.store, "nowhere", workspace="")
    here = env.tmp / "bin dir"
    run("--dir", env.store, "resume", "nowhere", "--command", f"{env.cmd} [{{workspace}}]",
        cwd=here)
    assert env.ran()["argv"] == [str(env.agent), "[]"]
    assert env.ran()["cwd"] == str(here)


def test_resume_held_session_refused_unless_forced(env: Env, lock_holder: LockHolder) -> None:
    with lock_holder(env.store / f"{SID}.lock") as pid:
        p = run("--dir", env.store, "resume", SID, "--command", f"{env.cmd} {{id}}", code=1)
        assert len(p.stderr.splitlines()) == 1
        assert f"process {pid}" in p.stderr and "--force" in p.stderr
        assert not env.log.exists()
        invoke("--dir", env.store, "resume", SID, "--print")  # printing is fine
        run("--dir", env.store, "resume", SID, "--command", f"{env.cmd} {{id}}", "--force")
        assert env.ran()["argv"] == [str(env.agent), SID]


def test_resume_default_command_is_ggcode(env: Env) -> None:
    bindir = env.tmp / "path"
    bindir.mkdir()
    ggcode = bindir / "ggcode"
    ggcode.write_text(AGENT.format(python=sys.executable, log=str(env.log)))
    ggcode.chmod(0o755)
    run("--dir", env.store, "resume", SID, env=child_env(PATH=str(bindir)))
    assert env.ran()["argv"] == [str(ggcode), "--resume", SID]
    assert env.ran()["cwd"] == str(env.ws)


# =============================================================================
# --print and --context
# =============================================================================


def test_resume_print_is_shell_quoted(env: Env) -> None:
    template = f"{env.cmd} --resume={{id}} --in {{workspace}} --file={{file}}"
    r = invoke("--dir", env.store, "resume", SID, "--command", template, "--print")
    line = r.stdout
    assert line.endswith("\n") and line.count("\n") == 1
    assert shlex.split(line) == ["cd", str(env.ws), "&&", str(env.agent), f"--resume={SID}",
                                 "--in", str(env.ws), f"--file={env.file}"]
    assert "'" in line  # the spaces are quoted
    assert not env.log.exists()
    r = invoke("--dir", env.store, "resume", "abcdef", "--print")
    assert r.stdout == f"cd {shlex.quote(str(env.ws))} && ggcode --resume {SID}\n"
    r = invoke("--dir", env.store, "resume", SID, "--print",
               env={"SESSIONCTL_RESUME_COMMAND": "agent --session {id} --cwd {workspace}"})
    assert shlex.split(r.stdout)[3:] == ["agent", "--session", SID, "--cwd", str(env.ws)]
    # --command wins over the environment
    r = invoke("--dir", env.store, "resume", SID, "--print", "--command", "mine {id}",
               env={"SESSIONCTL_RESUME_COMMAND": "agent --session {id}"})
    assert r.stdout.endswith(f" && mine {SID}\n")


def test_resume_placeholders_are_replaced_once(tmp_path: Path) -> None:
    e = Env(tmp_path)
    odd = tmp_path / "ws {id} {file} {other}"
    odd.mkdir()
    write_session(e.store, SID, workspace=str(odd))
    r = invoke("--dir", e.store, "resume", SID, "--print",
               "--command", "agent {workspace} {{id}} {} {id}{id}")
    assert shlex.split(r.stdout)[3:] == ["agent", str(odd), "{" + SID + "}", "{}", SID + SID]


def test_resume_print_through_a_real_shell(env: Env) -> None:
    """What --print prints, pasted into sh, runs the same argv."""
    template = f"{env.cmd} {{id}} {{workspace}} \"it's\" '$HOME' {{file}}"
    r = invoke("--dir", env.store, "resume", SID, "--command", template, "--print")
    subprocess.run(["sh", "-c", r.stdout], check=True, cwd=env.tmp)
    assert env.ran()["argv"] == [str(env.agent), SID, str(env.ws), "it's", "$HOME", env.file]


def test_resume_context_json(tmp_path: Path) -> None:
    e = Env(tmp_path)
    write_session(e.store, SID, title="compacted", workspace=str(e.ws), messages=[
        text_msg("user", "first question"), text_msg("assistant", "first answer")],
        records=[
            {"type": "checkpoint", "session_id": SID, "checkpoint_tokens": 99,
             "checkpoint_messages": [text_msg("user", "SUMMARY")]},
            {"type": "message", "session_id": SID, "message": text_msg("user", "after")},
        ])
    r = invoke("--dir", e.store, "resume", "abcdef", "--context")
    data = json.loads(r.stdout)
    assert list(data) == ["id", "workspace", "messages"]
    assert data["id"] == SID and data["workspace"] == str(e.ws)
    assert data["messages"] == [text_msg("user", "SUMMARY"), text_msg("user", "after")]
    assert data["messages"] == [m.to_dict() for m in JSONLStore(e.store).load(SID).context_messages]


def test_resume_context_without_id(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    e = Env(tmp_path)
    write_session(e.store, SID, workspace=str(e.ws))
    monkeypatch.chdir(e.ws)
    data = json.loads(invoke("--dir", e.store, "resume", "--context").stdout)
    assert data["id"] == SID


# =============================================================================
# errors (in-process: they all stop before the exec)
# =============================================================================


def test_resume_in_process_reaches_exec_with_the_argv(
    env: Env, no_exec: list[tuple[str, list[str], str]]
) -> None:
    invoke("--dir", env.store, "resume", SID, "--command", f"{env.cmd} {{id}}")
    assert no_exec == [(str(env.agent), [str(env.agent), SID], str(env.ws))]


def test_resume_unknown_and_ambiguous_ids(env: Env, no_exec: list[Any]) -> None:
    invoke("--dir", env.store, "resume", "ffff", "--command", env.cmd, code=3)
    write_session(env.store, "20260301-120000-abcdef9999999999", title="other")
    r = invoke("--dir", env.store, "resume", "abcdef", "--command", env.cmd, code=3)
    assert "ambiguous" in r.stderr
    invoke("--dir", env.store, "resume", "../x", "--command", env.cmd, code=2)
    assert no_exec == []


def test_resume_no_session_in_workspace_exit_3(
    env: Env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_exec: list[Any]
) -> None:
    monkeypatch.chdir(tmp_path)
    r = invoke("--dir", env.store, "resume", "--command", env.cmd, code=3)
    assert r.stderr.splitlines()[0].startswith("sessionctl: no session in this workspace")
    assert str(tmp_path) in r.stderr
    invoke("--dir", env.store, "resume", "--print", code=3)
    invoke("--dir", env.store, "resume", "--context", code=3)
    assert no_exec == []


def test_resume_without_id_in_a_deleted_directory(
    env: Env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_exec: list[Any]
) -> None:
    write_session(env.store, "no_workspace", workspace="")
    gone = tmp_path / "gone"
    gone.mkdir()
    monkeypatch.chdir(gone)
    gone.rmdir()
    r = invoke("--dir", env.store, "resume", "--command", env.cmd, code=1)
    assert "current directory does not exist" in r.stderr
    assert no_exec == []


@pytest.mark.parametrize("command", [
    "no-such-agent-xyz {id}",
    "/nonexistent/dir/agent {id}",
])
def test_resume_missing_command_exit_1_naming_it(
    env: Env, command: str, no_exec: list[Any]
) -> None:
    r = invoke("--dir", env.store, "resume", SID, "--command", command, code=1)
    assert len(r.stderr.splitlines()) == 1
    assert command.split()[0] in r.stderr
    assert no_exec == []


def test_resume_default_command_missing(env: Env, no_exec: list[Any], tmp_path: Path) -> None:
    r = invoke("--dir", env.store, "resume", SID, env={"PATH": str(tmp_path / "empty")}, code=1)
    assert "ggcode" in r.stderr and len(r.stderr.splitlines()) == 1


def test_resume_not_executable_exit_1(env: Env, no_exec: list[Any]) -> None:
    env.agent.chmod(0o644)
    r = invoke("--dir", env.store, "resume", SID, "--command", f"{env.cmd} {{id}}", code=1)
    assert str(env.agent) in r.stderr
    # a directory is not a command either
    r = invoke("--dir", env.store, "resume", SID, "--command", f"{env.tmp} {{id}}", code=1)
    assert str(env.tmp) in r.stderr
    assert no_exec == []


def test_resume_workspace_gone_exit_1_but_print_works(env: Env, no_exec: list[Any]) -> None:
    env.ws.rmdir()
    r = invoke("--dir", env.store, "resume", SID, "--command", f"{env.cmd} {{id}}", code=1)
    assert len(r.stderr.splitlines()) == 1 and str(env.ws) in r.stderr
    r = invoke("--dir", env.store, "resume", SID, "--command", f"{env.cmd} {{id}}", "--print")
    assert shlex.split(r.stdout) == ["cd", str(env.ws), "&&", str(env.agent), SID]
    assert json.loads(invoke("--dir", env.store, "resume", SID, "--context").stdout)["id"] == SID
    assert no_exec == []


@pytest.mark.parametrize("template", ["'unbalanced {id}", "   "])
def test_resume_bad_template_exit_2(env: Env, template: str, no_exec: list[Any]) -> None:
    r = invoke("--dir", env.store, "resume", SID, "--command", template, code=2)
    assert len(r.stderr.splitlines()) == 1
    assert no_exec == []


def test_resume_missing_store_exit_1(tmp_path: Path, no_exec: list[Any]) -> None:
    invoke("--dir", tmp_path / "nope", "resume", code=1)
    assert no_exec == []
