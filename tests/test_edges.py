"""Rough edges a new user hits (issue #16): the command line at its edges.

Dates at the ends of the calendar, durations, pagers, exit codes, closed
stdout, resume, options. The rendering parts are in test_show_render.py.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from cli_helpers import child_env, new_store, run, sid, write_session

ZONES = ["UTC", "Pacific/Kiritimati", "Etc/GMT+12"]


@pytest.fixture
def store(tmp_path: Path) -> Path:
    s = new_store(tmp_path / "store")
    write_session(s, sid(1), title="old", updated="2020-01-01T00:00:00Z")
    write_session(s, sid(2), title="new", updated="2026-03-01T12:00:00Z")
    return s


# -- item 5: dates at the edges ---------------------------------------------


@pytest.mark.parametrize("tz", ZONES)
def test_dates_at_the_ends_of_the_calendar_work(store: Path, tz: str) -> None:
    env = child_env(TZ=tz)
    every = run("--dir", store, "list", "--ids", "--since", "0001-01-01", env=env)
    assert every.stdout.split() == [sid(2), sid(1)]
    assert run("--dir", store, "list", "--ids", "--until", "0001-01-01", env=env).stdout == ""
    late = run("--dir", store, "list", "--ids", "--since", "9999-12-31T23:00", env=env)
    assert late.stdout == ""
    nothing = run("--dir", store, "cleanup", "--before", "0001-01-01", "--dry-run", "--json",
                  env=env)
    assert json.loads(nothing.stdout)["removed"] == []
    both = run("--dir", store, "cleanup", "--before", "9999-12-31T23:00", "--dry-run", env=env)
    assert sorted(both.stdout.split()) == [sid(1), sid(2)]


def test_older_than_reaching_past_the_calendar_removes_nothing(store: Path) -> None:
    r = run("--dir", store, "cleanup", "--older-than", "9000y", "--dry-run")
    assert r.stdout == ""
    assert run("--dir", store, "cleanup", "--older-than", "6m", code=2).stderr.startswith(
        "sessionctl: invalid age '6m': 'm' could be minutes or months: write 6min or 6mo")


# -- item 8: resume -------------------------------------------------------------


def test_resume_print_says_where_and_runs_there(tmp_path: Path) -> None:
    s = new_store(tmp_path / "store")
    ws = tmp_path / "my project"
    ws.mkdir()
    write_session(s, sid(1), workspace=str(ws))
    line = run("--dir", s, "resume", sid(1), "--print", "--command", "pwd").stdout
    assert line == f"cd '{ws}' && pwd\n"
    # pasted into a shell anywhere, it runs in the workspace
    out = subprocess.run(["sh", "-c", line], capture_output=True, text=True, check=True,
                         cwd=tmp_path)
    assert out.stdout.strip() == str(ws)
    # no workspace: the command alone
    write_session(s, sid(2), workspace="")
    assert run("--dir", s, "resume", sid(2), "--print").stdout == f"ggcode --resume {sid(2)}\n"


def test_resume_from_a_subdirectory_finds_the_nearest_workspace(tmp_path: Path) -> None:
    s = new_store(tmp_path / "store")
    top = tmp_path / "top"
    project = top / "project"
    deep = project / "src" / "deep"
    deep.mkdir(parents=True)
    write_session(s, sid(1), workspace=str(top), updated="2026-03-02T00:00:00Z")  # newer
    write_session(s, sid(2), workspace=str(project), updated="2026-03-01T00:00:00Z")
    env = child_env()
    out = run("--dir", s, "resume", "--print", cwd=deep, env=env).stdout
    assert out.endswith(f"ggcode --resume {sid(2)}\n")  # the nearest, not the newest
    out = run("--dir", s, "resume", "--print", cwd=top, env=env).stdout
    assert out.endswith(f"ggcode --resume {sid(1)}\n")
    r = run("--dir", s, "resume", "--print", cwd=tmp_path, env=env, code=3)
    assert "no session in this workspace" in r.stderr


@pytest.mark.parametrize("template", ["agent {nope}", "agent --x={ID}", "agent {id} {file_}"])
def test_resume_unknown_placeholder_is_a_usage_error(store: Path, template: str) -> None:
    r = run("--dir", store, "resume", sid(1), "--print", "--command", template, code=2)
    assert r.stderr.startswith("sessionctl: unknown placeholder {")
    assert "{id}, {workspace}, {file}" in r.stderr


# -- item 3: exit codes that hid failures ------------------------------------------------


def test_export_all_with_an_unreadable_session_exits_1_after_the_others(
    store: Path, tmp_path: Path
) -> None:
    (store / f"{sid(3)}.jsonl").mkdir()  # not a readable session file
    out = tmp_path / "out"
    r = run("--dir", store, "export-md", "--all", "--output-dir", out, code=1)
    assert r.stderr.startswith("sessionctl: skipped 1 unreadable session")
    assert sorted(p.name for p in out.iterdir()) == [f"{sid(1)}.md", f"{sid(2)}.md"]


def test_unreadable_store_is_exit_1_like_a_missing_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As root every directory is readable: the refusal is simulated."""
    import os

    from cli_helpers import invoke

    d = new_store(tmp_path / "locked")
    real_listdir, real_access = os.listdir, os.access

    def listdir(path: object = ".") -> list[str]:
        if str(path) == str(d):
            raise PermissionError(13, "Permission denied", str(path))
        return real_listdir(path)  # type: ignore[arg-type]

    def access(path: object, mode: int, **kw: object) -> bool:
        return False if str(path) == str(d) else real_access(path, mode)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "listdir", listdir)
    monkeypatch.setattr(os, "access", access)
    for args in (["--dir", str(d), "list"], ["list", "--dir", str(d)]):
        r = invoke(*args, code=1)
        assert r.stderr == f"sessionctl: cannot read the session store at {d}: Permission denied\n"
    r = invoke("--dir", str(tmp_path / "missing"), "list", code=1)
    assert r.stderr == f"sessionctl: no session store at {tmp_path / 'missing'}\n"


# -- item 9: options -----------------------------------------------------------------------


@pytest.mark.parametrize("args", [
    ["list", "--ids", "--dir", "{d}"],
    ["list", "--dir={d}", "--ids"],
    ["--dir", "{d}", "list", "--ids"],
    ["show", sid(2), "--dir", "{d}", "--json"],
])
def test_global_options_after_the_command(store: Path, args: list[str]) -> None:
    r = run(*[a.replace("{d}", str(store)) for a in args])
    assert sid(2) in r.stdout


@pytest.mark.parametrize("args", [["--dir=", "list"], ["list", "--dir="], ["--dir", "", "list"]])
def test_empty_dir_is_a_usage_error(store: Path, args: list[str]) -> None:
    r = run(*args, cwd=store, code=2)
    assert r.stderr == "sessionctl: --dir needs a directory (it was empty)\n"


def test_what_follows_double_dash_stays(store: Path) -> None:
    # an id that looks like an option is never taken for --dir
    r = run("--dir", store, "delete", "--dry-run", "--", "--dir", code=2)
    assert "--dir" in r.stderr


# -- item 6: closed stdout -------------------------------------------------------------------


@pytest.mark.parametrize("args", [
    "list", "export-md {id}", "show {id} --json", "show {id}", "--help", "delete --dry-run {id}"])
def test_closed_stdout_is_one_plain_line_exit_1(store: Path, args: str) -> None:
    import shlex
    import sys

    from cli_helpers import PACKAGE_ROOT

    cmd = f"{shlex.quote(sys.executable)} -m sessionctl --dir {shlex.quote(str(store))} " \
        + args.replace("{id}", sid(2))
    env = child_env(PYTHONPATH=str(PACKAGE_ROOT))
    r = subprocess.run(["sh", "-c", cmd + " >&-"], capture_output=True, text=True, env=env,
                       timeout=30)
    assert (r.returncode, r.stderr) == (1, "sessionctl: I/O error: standard output is closed\n")


def test_closed_stdout_does_not_stop_a_quiet_command(store: Path) -> None:
    import shlex
    import sys

    cmd = (f"{shlex.quote(sys.executable)} -m sessionctl --dir {shlex.quote(str(store))} "
           "cleanup --before 2021-01-01 >&-")
    r = subprocess.run(["sh", "-c", cmd], capture_output=True, text=True, env=child_env(),
                       timeout=30)
    assert (r.returncode, r.stderr) == (0, "")
    assert not (store / f"{sid(1)}.jsonl").exists()  # the old one went, as asked


# -- item 7: the README's xargs line ------------------------------------------------------


def test_readme_xargs_lines_run_nothing_when_nothing_matches(store: Path) -> None:
    import re
    import shlex
    import sys

    from cli_helpers import PACKAGE_ROOT

    readme = (PACKAGE_ROOT / "README.md").read_text(encoding="utf-8")
    lines = [line for line in readme.splitlines() if "| xargs" in line]
    assert lines
    for line in lines:
        assert "| xargs -r " in line, line
        # as documented, on a store where nothing matches: exit 0, no output
        pipeline = re.sub(r"\s+#.*$", "", line).replace("2026-06-01", "2000-01-01")
        me = f"{shlex.quote(sys.executable)} -m sessionctl --dir {shlex.quote(str(store))}"
        pipeline = pipeline.replace("sessionctl", me)
        r = subprocess.run(["sh", "-c", pipeline], capture_output=True, text=True,
                           env=child_env(), timeout=30)
        assert (r.returncode, r.stdout, r.stderr) == (0, "", ""), pipeline
