"""The command line in this process (``CliRunner``): ``sessionctl list``, every
option and error path with its exit code. Piped unless a test declares stdout a
terminal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_helpers import (
    ANSI,
    ROW_KEYS,
    invoke,
    new_store,
    write_session,
)
from cli_store import (
    ALPHA,
    BETA,
    BETA_TITLE,
    EVERY,
    GAMMA,
    HIDDEN,
    OLD,
    VISIBLE,
    Store,
    lines,
)

import sessionctl.cli.common as cli
from sessionctl import JSONLStore, Message, new_session

pytestmark = pytest.mark.usefixtures("fast_fsync")


# list


def test_list_piped_is_tab_separated_plain_lines(st: Store) -> None:
    r = invoke("--dir", st.dir, "list")
    assert r.stderr == ""
    assert lines(r.stdout) == [
        f"{ALPHA}\t2026-03-05T10:00:00Z\t2\t/w/alpha\tFix the parser",
        f"{BETA}\t2026-03-04T10:00:00Z\t2\t/w/beta\tTabs here, a newline and an  [31mescape ",
        f"{GAMMA}\t2026-03-03T10:00:00Z\t2\t/w/alpha\tRefactor the lexer",
        f"{OLD}\t2026-01-01T00:00:00Z\t2\t/w/gamma\tOld one",
    ]
    for line in lines(r.stdout):
        assert line.count("\t") == 4
    assert not ANSI.search(r.stdout)


def test_list_plain_control_characters_in_workspace_become_spaces(tmp_path: Path) -> None:
    d = new_store(tmp_path / "s")
    write_session(d, ALPHA, title="t", workspace="/w/a\tb\nc")
    r = invoke("--dir", d, "list")
    assert r.stdout == f"{ALPHA}\t2026-03-01T12:00:00Z\t2\t/w/a b c\tt\n"


def test_list_all_includes_hidden_sessions_marked(st: Store) -> None:
    r = invoke("--dir", st.dir, "list", "--all", "--ids")
    assert lines(r.stdout) == EVERY
    rows = json.loads(invoke("--dir", st.dir, "list", "--all", "--json").stdout)
    assert [(row["id"], row["hidden"]) for row in rows] == [
        (ALPHA, False), (BETA, False), (GAMMA, False), (HIDDEN, True), (OLD, False)]
    r = invoke("--dir", st.dir, "list", "-a")
    assert [ln.split("\t")[0] for ln in lines(r.stdout)] == EVERY


def test_list_json_contract(st: Store) -> None:
    r = invoke("--dir", st.dir, "list", "--json")
    rows = json.loads(r.stdout)
    assert isinstance(rows, list)
    assert [row["id"] for row in rows] == VISIBLE
    for row in rows:
        assert list(row) == ROW_KEYS
    assert rows[0] == {
        "id": ALPHA, "title": "Fix the parser", "workspace": "/w/alpha",
        "vendor": "anthropic", "endpoint": "default", "model": "claude-sonnet-4",
        "created_at": "2026-03-05T09:00:00Z", "updated_at": "2026-03-05T10:00:00Z",
        "msg_count": 2, "hidden": False, "tags": [], "pinned": False,
    }
    # JSON keeps the title as it is (control characters included)
    assert rows[1]["title"] == BETA_TITLE
    assert isinstance(rows[0]["msg_count"], int)


def test_list_jsonl_is_one_object_per_line(st: Store) -> None:
    r = invoke("--dir", st.dir, "list", "--jsonl")
    rows = [json.loads(ln) for ln in lines(r.stdout)]
    assert rows == json.loads(invoke("--dir", st.dir, "list", "--json").stdout)
    assert all(list(row) == ROW_KEYS for row in rows)


def test_list_ids_one_per_line(st: Store) -> None:
    assert invoke("--dir", st.dir, "list", "--ids").stdout == "".join(f"{i}\n" for i in VISIBLE)


@pytest.mark.parametrize(("args", "expected"), [
    (["--workspace", "/w/alpha"], [ALPHA, GAMMA]),
    (["--workspace", "/w/alpha/"], [ALPHA, GAMMA]),  # normalised
    (["--workspace", "/w/alpha", "--all"], [ALPHA, GAMMA, HIDDEN]),
    (["--workspace", "/w"], []),  # exact, not a prefix
    (["--model", "gpt-5"], [BETA, GAMMA]),
    (["--model", "gpt"], []),  # exact
    (["--vendor", "openai"], [BETA, GAMMA]),
    (["--vendor", "anthropic", "--model", "gpt-5"], []),
    (["--since", "2026-03-04T10:00:00Z"], [ALPHA, BETA]),  # inclusive
    (["--until", "2026-03-04T10:00:00Z"], [GAMMA, OLD]),  # exclusive
    (["--since", "2026-03-03T10:00:00Z", "--until", "2026-03-05T10:00:00Z"], [BETA, GAMMA]),
    (["--since", "2026-03-04T11:00:00+01:00"], [ALPHA, BETA]),  # a zone
    (["--since", "2026-02-01"], [ALPHA, BETA, GAMMA]),  # a date
    (["-n", "2"], [ALPHA, BETA]),
    (["--limit", "1"], [ALPHA]),
    (["--limit", "10"], VISIBLE),
    (["--vendor", "openai", "-n", "1"], [BETA]),  # the limit applies after filters
])
def test_list_filters(st: Store, args: list[str], expected: list[str]) -> None:
    assert lines(invoke("--dir", st.dir, "list", "--ids", *args).stdout) == expected


def test_list_here_is_the_current_workspace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    d = new_store(tmp_path / "store")
    ws = tmp_path / "projects" / "mine"
    ws.mkdir(parents=True)
    monkeypatch.chdir(ws)
    store = JSONLStore(d)
    ses = new_session("anthropic", "default", "claude")  # records the current workspace
    store.append_message(ses, Message.text_message("user", "in my project"))
    write_session(d, ALPHA, title="elsewhere", workspace=str(tmp_path / "projects"))
    assert invoke("--dir", d, "list", "--here", "--ids").stdout == f"{ses.id}\n"
    # --workspace takes relative paths, normalised like the agent does
    assert invoke("--dir", d, "list", "--workspace", ".", "--ids").stdout == f"{ses.id}\n"
    assert invoke("--dir", d, "list", "--workspace", "..", "--ids").stdout == f"{ALPHA}\n"
    monkeypatch.chdir(tmp_path)
    assert invoke("--dir", d, "list", "--here", "--ids").stdout == ""


def test_list_here_in_a_deleted_directory(
    st: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_session(st.dir, "no_workspace", workspace="")
    gone = tmp_path / "gone"
    gone.mkdir()
    monkeypatch.chdir(gone)
    gone.rmdir()
    r = invoke("--dir", st.dir, "list", "--here", code=1)
    assert lines(r.stderr) == ["sessionctl: the current directory does not exist any more"]


def test_list_empty_store_prints_nothing(tmp_path: Path) -> None:
    d = new_store(tmp_path / "empty")
    for fmt in ([], ["--ids"], ["--jsonl"], ["--all"]):
        r = invoke("--dir", d, "list", *fmt)
        assert (r.stdout, r.stderr) == ("", "")
    assert json.loads(invoke("--dir", d, "list", "--json").stdout) == []


def test_list_only_hidden_sessions_prints_nothing(tmp_path: Path) -> None:
    d = new_store(tmp_path / "s")
    write_session(d, HIDDEN, user=None)
    (d / "20260101-000000-0000000000000000.jsonl").write_bytes(b"")  # v1.3.2xx's empty file
    assert invoke("--dir", d, "list").stdout == ""
    assert len(lines(invoke("--dir", d, "list", "--all").stdout)) == 2


@pytest.mark.parametrize("formats", [
    ["--json", "--jsonl"], ["--json", "--ids"], ["--jsonl", "--ids"],
    ["--json", "--jsonl", "--ids"],
])
def test_list_conflicting_formats_exit_2(st: Store, formats: list[str]) -> None:
    r = invoke("--dir", st.dir, "list", *formats, code=2)
    assert r.stdout == ""
    assert r.stderr.startswith("sessionctl: choose one of --json, --jsonl, --ids")


@pytest.mark.parametrize("args", [
    ["--here", "--workspace", "/w/alpha"],
    ["-n", "0"],
    ["-n", "-1"],
    ["-n", "many"],
    ["--since", "yesterday"],
    ["--until", "2026-13-01"],
    ["--since"],
    ["--bogus"],
])
def test_list_usage_errors_exit_2(st: Store, args: list[str]) -> None:
    r = invoke("--dir", st.dir, "list", *args, code=2)
    assert r.stdout == ""
    assert r.stderr.startswith("sessionctl: ")


def test_list_warns_once_about_unreadable_sessions(st: Store) -> None:
    (st.dir / "20260101-000000-eeee000000000000.jsonl").mkdir()  # not a regular file
    r = invoke("--dir", st.dir, "list", "--ids")
    assert lines(r.stdout) == VISIBLE
    assert lines(r.stderr) == ["sessionctl: skipped 1 unreadable session (--verbose names them)"]
    r = invoke("--dir", st.dir, "list", "--ids", "--verbose")
    assert lines(r.stderr)[0] == "sessionctl: skipped 1 unreadable session"
    assert "20260101-000000-eeee000000000000" in lines(r.stderr)[1]


def test_list_table_on_a_terminal(st: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "stdout_is_terminal", lambda: True)
    r = invoke("--dir", st.dir, "list", "--all", env={"COLUMNS": "120"})
    out = r.stdout
    head, *rows = lines(out)
    for col in ("ID", "UPDATED", "TITLE", "WORKSPACE", "MODEL", "MSGS"):
        assert col in head
    assert len(rows) == 5
    assert rows[0].split()[0] == "aaaa1111"  # short ids
    assert "Fix the parser" in rows[0] and "claude-sonnet-4" in rows[0]
    assert "(empty)" in rows[3] and "cccc4444" in rows[3]  # the hidden one, marked
    assert "Tabs here, a newline" in rows[1]  # control characters cleaned
    assert "\x1b" not in out and "\t" not in out
    assert "2026-03-05" in rows[0] or "ago" in rows[0]
    # the terminal table is one line per session, whatever the width
    r = invoke("--dir", st.dir, "list", env={"COLUMNS": "60"})
    assert len(lines(r.stdout)) == 1 + len(VISIBLE)
    # an empty listing prints nothing, not an empty table
    assert invoke("--dir", st.dir, "list", "--model", "none").stdout == ""


def test_list_table_shortens_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli, "stdout_is_terminal", lambda: True)
    home = tmp_path / "home"
    d = new_store(tmp_path / "s")
    write_session(d, ALPHA, title="t", workspace=f"{home}/src/app")
    r = invoke("--dir", d, "list", env={"HOME": str(home), "COLUMNS": "120"})
    assert "~/src/app" in r.stdout
    # piped output keeps the real path
    monkeypatch.setattr(cli, "stdout_is_terminal", lambda: False)
    r = invoke("--dir", d, "list", env={"HOME": str(home)})
    assert f"\t{home}/src/app\t" in r.stdout


def test_list_does_not_touch_session_files(st: Store) -> None:
    before = {p.name: p.read_bytes() for p in st.dir.glob("*.jsonl")}
    invoke("--dir", st.dir, "list", "--all")
    assert {p.name: p.read_bytes() for p in st.dir.glob("*.jsonl")} == before
