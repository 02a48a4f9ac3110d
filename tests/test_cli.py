"""The command line in this process (``CliRunner`` on ``sessionctl.cli.app``):
every command and option of SPEC §3/§5/§7, and every error path with its
exit code (0 ok, 1 operational, 2 usage, 3 no such / ambiguous session).

Output here is never a terminal, so it is the piped form; the terminal forms
(table, pager) are reached by declaring stdout a terminal.
"""

from __future__ import annotations

import json
import os
import stat
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from cli_helpers import (
    ANSI,
    ROW_KEYS,
    SHOW_KEYS,
    invoke,
    leftovers,
    new_store,
    session_files,
    text_msg,
    write_session,
)

import sessionctl.cli.common as cli
from sessionctl import JSONLStore, Message, new_session
from sessionctl.core.times import format_ns

pytestmark = pytest.mark.usefixtures("fast_fsync")

LockHolder = Callable[[Path], AbstractContextManager[int]]

ALPHA = "20260305-100000-aaaa111100000001"
BETA = "20260304-100000-bbbb222200000002"
GAMMA = "20260303-100000-aaaa333300000003"
HIDDEN = "20260302-100000-cccc444400000004"
OLD = "20260101-000000-dddd555500000005"
VISIBLE = [ALPHA, BETA, GAMMA, OLD]  # newest first
EVERY = [ALPHA, BETA, GAMMA, HIDDEN, OLD]
BETA_TITLE = "Tabs\there, a newline\nand an \x1b[31mescape\x7f"


@dataclass
class Store:
    dir: Path

    @property
    def lib(self) -> JSONLStore:
        return JSONLStore(self.dir, create=False)


@pytest.fixture
def st(tmp_path: Path) -> Store:
    """Five sessions: three workspaces, two vendors, one hidden, one old."""
    d = new_store(tmp_path / "store")
    write_session(d, ALPHA, title="Fix the parser", workspace="/w/alpha", vendor="anthropic",
                  endpoint="default", model="claude-sonnet-4", updated="2026-03-05T10:00:00Z",
                  created="2026-03-05T09:00:00Z")
    write_session(d, BETA, title=BETA_TITLE, workspace="/w/beta", vendor="openai",
                  model="gpt-5", updated="2026-03-04T10:00:00Z")
    write_session(d, GAMMA, title="Refactor the lexer", workspace="/w/alpha", vendor="openai",
                  model="gpt-5", updated="2026-03-03T10:00:00Z")
    write_session(d, HIDDEN, title="", workspace="/w/alpha", user=None,
                  updated="2026-03-02T10:00:00Z")
    write_session(d, OLD, title="Old one", workspace="/w/gamma", vendor="zai", model="glm-4.6",
                  updated="2026-01-01T00:00:00Z")
    return Store(d)


def lines(text: str) -> list[str]:
    return text.splitlines()


# =============================================================================
# list
# =============================================================================


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


# =============================================================================
# show
# =============================================================================


def test_show_piped_prints_the_markdown_in_full(st: Store) -> None:
    r = invoke("--dir", st.dir, "show", ALPHA)
    assert r.stdout == st.lib.export_markdown(ALPHA)
    assert r.stdout.startswith("# Fix the parser\n")
    assert "## User\n\nhello\n" in r.stdout
    assert r.stderr == ""
    assert not ANSI.search(r.stdout)


def test_show_piped_never_folds(tmp_path: Path) -> None:
    d = new_store(tmp_path / "s")
    output = "\n".join(f"line {i}" for i in range(200))
    write_session(d, ALPHA, title="tools", messages=[
        text_msg("user", "run it"),
        {"role": "assistant", "content": [
            {"type": "tool_use", "tool_name": "bash", "tool_id": "t1", "input": {"cmd": "ls"}}]},
        {"role": "user", "content": [
            {"type": "tool_result", "tool_id": "t1", "output": output}]},
    ])
    r = invoke("--dir", d, "show", ALPHA)
    assert "line 199" in r.stdout and "more lines" not in r.stdout


@pytest.mark.parametrize(
    "arg", [ALPHA, "20260305", "20260305-100000-aaaa1", "aaaa1", "aaaa111100000001"])
def test_show_resolves_full_id_and_prefixes(st: Store, arg: str) -> None:
    r = invoke("--dir", st.dir, "show", arg, "--json")
    assert json.loads(r.stdout)["id"] == ALPHA


def test_show_resolves_hidden_sessions(st: Store) -> None:
    assert json.loads(invoke("--dir", st.dir, "show", "cccc", "--json").stdout)["id"] == HIDDEN


def test_show_non_reference_ids(tmp_path: Path) -> None:
    d = new_store(tmp_path / "s")
    write_session(d, "my_session-1", title="custom")
    write_session(d, "my_session-10", title="custom 10")
    assert json.loads(invoke("--dir", d, "show", "my_session-1", "--json").stdout)["id"] == (
        "my_session-1")  # exact wins over the prefix of my_session-10
    assert json.loads(invoke("--dir", d, "show", "my_session-10", "--json").stdout)["title"] == (
        "custom 10")


def test_show_json_is_session_to_dict(st: Store) -> None:
    r = invoke("--dir", st.dir, "show", ALPHA, "--json")
    data = json.loads(r.stdout)
    assert set(data) == SHOW_KEYS
    assert data == json.loads(json.dumps(st.lib.load(ALPHA).to_dict()))
    assert data["title"] == "Fix the parser"
    assert data["created_at"] == "2026-03-05T09:00:00Z"
    assert data["updated_at"] == "2026-03-05T10:00:00Z"
    assert data["messages"] == [text_msg("user", "hello"), text_msg("assistant", "hi there")]
    assert data["has_user_interaction"] is True
    assert data["cost"] is None
    assert r.stdout.endswith("\n") and r.stdout.count("\n") == 1


def checkpointed(d: Path) -> str:
    """A session compacted once: two messages, a checkpoint, one more."""
    write_session(d, ALPHA, title="compacted", messages=[
        text_msg("user", "first question"), text_msg("assistant", "first answer")],
        records=[
            {"type": "checkpoint", "session_id": ALPHA, "checkpoint_tokens": 1234,
             "checkpoint_messages": [text_msg("user", "SUMMARY of the start")]},
            {"type": "message", "session_id": ALPHA, "message": text_msg("user", "after it")},
        ])
    return ALPHA


def test_show_context(tmp_path: Path) -> None:
    d = new_store(tmp_path / "s")
    sid = checkpointed(d)
    full = invoke("--dir", d, "show", sid).stdout
    assert "first question" in full and "SUMMARY of the start" in full and "after it" in full
    ctx = invoke("--dir", d, "show", sid, "--context").stdout
    assert ctx == JSONLStore(d).export_markdown(sid, context=True)
    assert "first question" not in ctx
    assert "SUMMARY of the start" in ctx and "after it" in ctx
    data = json.loads(invoke("--dir", d, "show", sid, "--json").stdout)
    assert [m["content"][0]["text"] for m in data["messages"]] == [
        "first question", "first answer", "after it"]
    assert [m["content"][0]["text"] for m in data["context_messages"]] == [
        "SUMMARY of the start", "after it"]
    assert data["checkpoints"] == [{"after_message": 2, "tokens": 1234, "messages": 1}]
    data = json.loads(invoke("--dir", d, "show", sid, "--json", "--context").stdout)
    assert [m["content"][0]["text"] for m in data["messages"]] == [
        "SUMMARY of the start", "after it"]


def test_show_unknown_id_exit_3(st: Store) -> None:
    r = invoke("--dir", st.dir, "show", "ffff", code=3)
    assert r.stdout == ""
    assert lines(r.stderr) == ["sessionctl: session ffff not found"]


def test_show_ambiguous_prefix_exit_3_lists_candidates(st: Store) -> None:
    r = invoke("--dir", st.dir, "show", "aaaa", code=3)
    assert r.stdout == ""
    first, *cands = lines(r.stderr)
    assert first.startswith("sessionctl: ") and "ambiguous" in first and "'aaaa'" in first
    assert cands == ["  aaaa1111  Fix the parser", "  aaaa3333  Refactor the lexer"]
    # an id prefix matching hidden sessions too (SPEC §7)
    r = invoke("--dir", st.dir, "show", "2026030", code=3)
    assert {c.split()[0] for c in lines(r.stderr)[1:]} == {
        "aaaa1111", "bbbb2222", "aaaa3333", "cccc4444"}


def test_ambiguous_lists_at_most_ten_candidates(tmp_path: Path) -> None:
    d = new_store(tmp_path / "s")
    for n in range(13):
        write_session(d, f"20260301-120000-abcd{n:012x}", title=f"number {n}")
    r = invoke("--dir", d, "show", "abcd", code=3)
    first, *rest = lines(r.stderr)
    assert "13 sessions match" in first
    assert len(rest) == 11 and rest[-1] == "  ... and 3 more"
    # the short ids collide (abcd0000...): full ids are shown instead
    assert rest[0].split() == ["20260301-120000-abcd00000000000c", "number", "12"]


def test_ambiguous_changes_nothing(st: Store) -> None:
    invoke("--dir", st.dir, "delete", "aaaa", code=3)
    invoke("--dir", st.dir, "export-md", "aaaa", "-o", st.dir.parent / "x.md", code=3)
    assert session_files(st.dir) == sorted(EVERY)
    assert not (st.dir.parent / "x.md").exists()


@pytest.mark.parametrize("bad", ["../x", "a/b", "x y", "..", "a.b", "x" * 129, "é"])
def test_show_invalid_id_exit_2(st: Store, bad: str) -> None:
    r = invoke("--dir", st.dir, "show", bad, code=2)
    assert r.stdout == ""
    assert lines(r.stderr)[0].startswith("sessionctl: invalid session id")


def test_show_on_a_terminal_renders_without_pager(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli, "stdout_is_terminal", lambda: True)
    d = new_store(tmp_path / "s")
    output = "\n".join(f"out {i}" for i in range(30))
    write_session(d, ALPHA, title="Terminal view", workspace="/w/x", vendor="v", model="m",
                  messages=[
        text_msg("user", "Please **run** it"),
        {"role": "assistant", "content": [
            {"type": "text", "text": "Running."},
            {"type": "tool_use", "tool_name": "bash", "tool_id": "t1", "input": {"cmd": "ls -l"}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_id": "t1", "output": output}]},
        {"role": "user", "content": [
            {"type": "tool_result", "tool_id": "t2", "output": "boom", "is_error": True}]},
    ])
    r = invoke("--dir", d, "show", "aaaa", "--no-pager", env={"COLUMNS": "100"})
    out = r.stdout
    assert "Terminal view" in out and ALPHA in out and "v / m" in out
    assert "User" in out and "Assistant" in out
    assert "Please run it" in out  # markdown rendered, not raw
    assert "tool call" in out and "bash" in out and '"cmd": "ls -l"' in out
    assert "out 19" in out and "out 20" not in out and "10 more lines (use --full)" in out
    assert "tool error" in out and "boom" in out
    full = invoke("--dir", d, "show", "aaaa", "--no-pager", "--full", env={"COLUMNS": "100"})
    assert "out 29" in full.stdout and "more lines" not in full.stdout
    # with the pager (pydoc falls back to plain output off a terminal)
    paged = invoke("--dir", d, "show", "aaaa", env={"COLUMNS": "100", "PAGER": "cat"})
    assert "Terminal view" in paged.stdout and "out 19" in paged.stdout


def test_show_on_a_terminal_context_and_checkpoints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli, "stdout_is_terminal", lambda: True)
    d = new_store(tmp_path / "s")
    sid = checkpointed(d)
    out = invoke("--dir", d, "show", sid, "--no-pager", env={"COLUMNS": "100"}).stdout
    assert "checkpoint: compacted to 1 message (1234 tokens)" in out
    assert out.index("first answer") < out.index("checkpoint") < out.index("after it")
    ctx = invoke("--dir", d, "show", sid, "--no-pager", "--context",
                 env={"COLUMNS": "100"}).stdout
    assert "first question" not in ctx and "SUMMARY of the start" in ctx
    assert "2 messages (resume context)" in ctx


def test_show_on_a_terminal_never_sends_escapes_from_the_session(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Titles, texts and tool output come from files: an escape sequence in
    them must not reach the terminal raw (tool colours become styles)."""
    monkeypatch.setattr(cli, "stdout_is_terminal", lambda: True)
    d = new_store(tmp_path / "s")
    write_session(d, ALPHA, title="evil \x1b]0;pwned\x07 title", workspace="/w/\x1b[2J",
                  messages=[
        text_msg("user", "clear \x1b[2J\x1b[H the screen"),
        {"role": "assistant", "content": [
            {"type": "tool_use", "tool_name": "ba\x1b[31msh", "input": {"k": "\x1b[0m"}}]},
        {"role": "user", "content": [
            {"type": "tool_result", "output": "\x1b[32mPASS\x1b[0m all\r\n\x1b[1A\x1b[2Kdone",
             "images": [{"mime": "image/png"}, {"mime": "image/png"}]}]},
    ])
    out = invoke("--dir", d, "show", ALPHA, "--no-pager", env={"COLUMNS": "100"}).stdout
    assert "\x1b" not in out and "\x07" not in out
    assert "evil" in out and "title" in out and "PASS all" in out and "done" in out
    assert "[2 images]" in out


# =============================================================================
# export-md
# =============================================================================


def test_export_md_to_stdout(st: Store) -> None:
    r = invoke("--dir", st.dir, "export-md", "aaaa1")
    assert r.stdout == st.lib.export_markdown(ALPHA)
    assert r.stderr == ""


def test_export_md_several_ids_separated_by_a_blank_line(st: Store) -> None:
    r = invoke("--dir", st.dir, "export-md", ALPHA, "bbbb", OLD)
    docs = [st.lib.export_markdown(s) for s in (ALPHA, BETA, OLD)]
    assert r.stdout == "\n".join(docs)
    assert r.stdout.count("\n# ") == 2


def test_export_md_is_byte_identical_on_repeated_runs(st: Store, tmp_path: Path) -> None:
    a = invoke("--dir", st.dir, "export-md", *EVERY).stdout_bytes
    b = invoke("--dir", st.dir, "export-md", *EVERY).stdout_bytes
    assert a == b
    out = tmp_path / "out.md"
    invoke("--dir", st.dir, "export-md", ALPHA, "-o", out)
    first = out.read_bytes()
    invoke("--dir", st.dir, "export-md", ALPHA, "-o", out)
    assert out.read_bytes() == first == st.lib.export_markdown(ALPHA).encode()


def test_export_md_output_file_atomic_and_overwritten(st: Store, tmp_path: Path) -> None:
    out_dir = tmp_path / "docs"
    out_dir.mkdir()
    out = out_dir / "session.md"
    out.write_text("old content that is much longer than nothing\n" * 100)
    r = invoke("--dir", st.dir, "export-md", BETA, "--output", out)
    assert (r.stdout, r.stderr) == ("", "")
    assert out.read_text(encoding="utf-8") == st.lib.export_markdown(BETA)
    assert leftovers(out_dir) == []
    assert os.listdir(out_dir) == ["session.md"]
    invoke("--dir", st.dir, "export-md", ALPHA, "-o", out, "--context")
    assert out.read_text(encoding="utf-8") == st.lib.export_markdown(ALPHA, context=True)


def test_export_md_output_through_a_symlink(st: Store, tmp_path: Path) -> None:
    real = tmp_path / "notes" / "session.md"
    real.parent.mkdir()
    real.write_text("old")
    link = tmp_path / "link.md"
    link.symlink_to(real)
    invoke("--dir", st.dir, "export-md", ALPHA, "-o", link)
    assert link.is_symlink()  # the link stays a link; its target is replaced
    assert real.read_text(encoding="utf-8") == st.lib.export_markdown(ALPHA)
    assert leftovers(real.parent) == [] and leftovers(tmp_path) == []


def test_export_md_output_to_a_device_or_pipe_is_not_replaced(
    st: Store, tmp_path: Path
) -> None:
    """``-o /dev/null`` must never rename a regular file over the device
    (as root that destroys /dev/null for the whole machine)."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    invoke("--dir", st.dir, "export-md", ALPHA, "-o", fifo)
    reader.join(timeout=10)
    assert got == [st.lib.export_markdown(ALPHA).encode()]
    assert fifo.is_fifo()
    assert leftovers(tmp_path) == []
    # a null device of our own (never the machine's /dev/null, should this regress)
    null = tmp_path / "null"
    try:
        os.mknod(null, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    except OSError:
        return  # not root, or no CAP_MKNOD: the FIFO above covers the path
    invoke("--dir", st.dir, "export-md", ALPHA, "-o", null)
    assert null.is_char_device()
    assert leftovers(tmp_path) == []


def test_export_md_output_file_errors(st: Store, tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "dir" / "x.md"
    r = invoke("--dir", st.dir, "export-md", ALPHA, "-o", missing, code=1)
    assert len(lines(r.stderr)) == 1 and r.stderr.startswith("sessionctl: cannot write")
    assert not missing.parent.exists()
    blocker = tmp_path / "file"
    blocker.write_text("x")
    r = invoke("--dir", st.dir, "export-md", ALPHA, "-o", blocker / "x.md", code=1)
    assert len(lines(r.stderr)) == 1
    assert blocker.read_text() == "x"
    if os.geteuid() != 0:  # root writes anywhere
        ro = tmp_path / "readonly"
        ro.mkdir(mode=0o500)
        r = invoke("--dir", st.dir, "export-md", ALPHA, "-o", ro / "x.md", code=1)
        assert len(lines(r.stderr)) == 1 and os.listdir(ro) == []
    # a directory as the output file
    r = invoke("--dir", st.dir, "export-md", ALPHA, "-o", tmp_path, code=1)
    assert len(lines(r.stderr)) == 1
    assert leftovers(tmp_path) == []
    # an unknown id: exit 3 and no file
    target = tmp_path / "never.md"
    invoke("--dir", st.dir, "export-md", "ffff", "-o", target, code=3)
    assert not target.exists()


def test_export_md_all_to_output_dir(st: Store, tmp_path: Path) -> None:
    out = tmp_path / "export" / "nested"  # created as needed
    r = invoke("--dir", st.dir, "export-md", "--all", "--output-dir", out)
    assert (r.stdout, r.stderr) == ("", "")
    assert sorted(os.listdir(out)) == sorted(f"{s}.md" for s in VISIBLE)
    for s in VISIBLE:
        assert (out / f"{s}.md").read_text(encoding="utf-8") == st.lib.export_markdown(s)
    # overwrite, and --hidden adds the hidden ones
    (out / f"{ALPHA}.md").write_text("stale")
    invoke("--dir", st.dir, "export-md", "--all", "--hidden", "--output-dir", out)
    assert sorted(os.listdir(out)) == sorted(f"{s}.md" for s in EVERY)
    assert (out / f"{ALPHA}.md").read_text(encoding="utf-8") == st.lib.export_markdown(ALPHA)
    r = invoke("--dir", st.dir, "export-md", "--all", "--output-dir", out, "--verbose")
    assert "exported 4 sessions" in r.stderr


def test_export_md_all_on_a_terminal(
    st: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli, "stderr_is_terminal", lambda: True)  # progress bar path
    r = invoke("--dir", st.dir, "export-md", "--all", "--output-dir", tmp_path / "o")
    assert r.stdout == ""
    assert sorted(os.listdir(tmp_path / "o")) == sorted(f"{s}.md" for s in VISIBLE)


def test_export_md_all_goes_on_past_a_damaged_session(
    st: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sessionctl import CorruptStore, SessionNotFound
    from sessionctl.export import files

    real = files.write_markdown_file

    def flaky(
        store: JSONLStore, sid: str, path: Path, *, context: bool = False, sync_dir: bool = True
    ) -> None:
        if sid == BETA:
            raise CorruptStore(f"cannot read session {sid}: Input/output error")
        if sid == GAMMA:
            raise SessionNotFound(sid)  # deleted since the listing
        real(store, sid, path, context=context, sync_dir=sync_dir)

    monkeypatch.setattr(files, "write_markdown_file", flaky)
    r = invoke("--dir", st.dir, "export-md", "--all", "--output-dir", tmp_path / "o", code=1)
    assert sorted(os.listdir(tmp_path / "o")) == sorted([f"{ALPHA}.md", f"{OLD}.md"])
    assert lines(r.stderr) == [
        f"sessionctl: could not export {BETA}: cannot read session {BETA}: Input/output error"]


def test_export_md_all_context(tmp_path: Path) -> None:
    d = new_store(tmp_path / "s")
    sid = checkpointed(d)
    out = tmp_path / "out"
    invoke("--dir", d, "export-md", "--all", "--output-dir", out, "--context")
    assert (out / f"{sid}.md").read_text(encoding="utf-8") == JSONLStore(d).export_markdown(
        sid, context=True)
    assert invoke("--dir", d, "export-md", sid, "--context").stdout == (
        JSONLStore(d).export_markdown(sid, context=True))


def test_export_md_all_output_dir_is_a_file(st: Store, tmp_path: Path) -> None:
    f = tmp_path / "file"
    f.write_text("x")
    r = invoke("--dir", st.dir, "export-md", "--all", "--output-dir", f, code=1)
    assert len(lines(r.stderr)) == 1


def test_export_md_all_on_empty_store(tmp_path: Path) -> None:
    d = new_store(tmp_path / "s")
    invoke("--dir", d, "export-md", "--all", "--output-dir", tmp_path / "out")
    assert os.listdir(tmp_path / "out") == []


@pytest.mark.parametrize("args", [
    [],
    ["--all"],
    ["--all", ALPHA, "--output-dir", "out"],
    ["--all", "-o", "x.md", "--output-dir", "out"],
    ["--output-dir", "out", ALPHA],
    ["--hidden", ALPHA],
    ["-o", "x.md", ALPHA, BETA],
    ["-o", "x.md"],
    ["../etc/passwd"],
    [ALPHA, "../x"],
])
def test_export_md_bad_combinations_exit_2(
    st: Store, args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    r = invoke("--dir", st.dir, "export-md", *args, code=2)
    assert r.stdout == ""
    assert r.stderr.startswith("sessionctl: ")
    assert os.listdir(tmp_path) == ["store"]


def test_export_md_unknown_id_prints_nothing(st: Store) -> None:
    r = invoke("--dir", st.dir, "export-md", ALPHA, "ffff", code=3)
    assert r.stdout == ""  # every id is resolved before anything is written


# =============================================================================
# delete
# =============================================================================


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


def _fail_index_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every index.json rewrite fails, as for an index its owner may not replace."""
    import errno

    from sessionctl.storage import removal

    def fail(directory: Path, entries: object) -> None:
        raise PermissionError(errno.EACCES, "Permission denied", str(directory / "index.json"))

    monkeypatch.setattr(removal, "write_index", fail)


def _index_warning(line: str) -> bool:
    return (line.startswith("sessionctl: warning: ")
            and ", but index.json was not updated" in line
            and "Permission denied" in line)


def test_delete_whose_index_update_fails_succeeds_with_a_warning(
    st: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    # SPEC §8.5: the files are gone, the index is a cache: exit 0, one warning.
    _fail_index_writes(monkeypatch)
    r = invoke("--dir", st.dir, "delete", ALPHA, OLD)
    assert r.stdout == ""
    assert len(lines(r.stderr)) == 1 and _index_warning(lines(r.stderr)[0]), r.stderr
    assert session_files(st.dir) == sorted([BETA, GAMMA, HIDDEN])
    assert not list(st.dir.glob("*.lock")) and not (st.dir / "index.json").exists()
    r = invoke("--dir", st.dir, "delete", BETA, "--verbose")
    assert lines(r.stderr)[0] == f"sessionctl: deleted {BETA}"
    assert len(lines(r.stderr)) == 2 and _index_warning(lines(r.stderr)[1]), r.stderr


def test_cleanup_whose_index_update_fails_succeeds_with_a_warning(
    st: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fail_index_writes(monkeypatch)
    r = invoke("--dir", st.dir, "cleanup", "--before", "2026-03-03T12:00:00Z", "--json")
    report = json.loads(r.stdout)  # the summary is still printed, on stdout
    assert report["removed"] == [GAMMA, HIDDEN, OLD]
    assert report["skipped"] == [] and report["failed"] == []
    assert len(lines(r.stderr)) == 1 and _index_warning(lines(r.stderr)[0]), r.stderr
    assert session_files(st.dir) == sorted([ALPHA, BETA])
    write_session(st.dir, OLD, updated="2026-01-01T00:00:00Z")
    r = invoke("--dir", st.dir, "cleanup", "--older-than", "30d")  # as from cron
    assert r.stdout == ""
    assert len(lines(r.stderr)) == 1 and _index_warning(lines(r.stderr)[0]), r.stderr
    assert session_files(st.dir) == []


# =============================================================================
# cleanup
# =============================================================================


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


# =============================================================================
# global options
# =============================================================================


def test_dir_beats_env_beats_default(tmp_path: Path) -> None:
    home = tmp_path / "home"
    default = new_store(home / ".ggcode" / "sessions")
    env_store = new_store(tmp_path / "env")
    opt_store = new_store(tmp_path / "opt")
    write_session(default, "from_default", title="d")
    write_session(env_store, "from_env", title="e")
    write_session(opt_store, "from_option", title="o")
    base = {"HOME": str(home)}
    assert invoke("list", "--ids", env=base).stdout == "from_default\n"
    env = {**base, "SESSIONCTL_DIR": str(env_store)}
    assert invoke("list", "--ids", env=env).stdout == "from_env\n"
    assert invoke("--dir", opt_store, "list", "--ids", env=env).stdout == "from_option\n"
    assert invoke("--dir", opt_store, "list", "--ids", env=base).stdout == "from_option\n"


def test_missing_store_exit_1_one_line(tmp_path: Path) -> None:
    for args in (["list"], ["show", "x"], ["delete", "x"], ["cleanup", "--older-than", "1d"],
                 ["export-md", "x"], ["resume", "x", "--print"]):
        r = invoke("--dir", tmp_path / "nope", *args, code=1)
        assert r.stdout == ""
        assert lines(r.stderr) == [f"sessionctl: no session store at {tmp_path / 'nope'}"]
    assert not (tmp_path / "nope").exists()  # and it is not created
    r = invoke("list", env={"HOME": str(tmp_path / "h")}, code=1)
    assert lines(r.stderr) == [
        f"sessionctl: no session store at {tmp_path / 'h' / '.ggcode' / 'sessions'}"]


def test_store_path_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    r = invoke("--dir", tmp_path / "f", "list", code=1)
    assert len(lines(r.stderr)) == 1


def test_version() -> None:
    from sessionctl import __version__

    r = invoke("--version")
    assert r.stdout == f"sessionctl {__version__}\n"


def test_internal_errors_are_one_line_not_a_traceback(
    st: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*a: object, **k: object) -> None:
        raise RuntimeError("something broke")

    monkeypatch.setattr(JSONLStore, "listing", boom)
    r = invoke("--dir", st.dir, "list", env={"SESSIONCTL_DEBUG": None}, code=1)
    assert lines(r.stderr)[0] == "sessionctl: internal error: RuntimeError: something broke"
    assert len(lines(r.stderr)) == 2


def test_keyboard_interrupt_exits_130(st: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*a: object, **k: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(JSONLStore, "listing", interrupted)
    r = invoke("--dir", st.dir, "list", code=130)
    assert "Traceback" not in r.stderr and r.stdout == ""


def test_output_errors_exit_1(st: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    def full(*a: object, **k: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(cli, "warn_skipped", full)
    r = invoke("--dir", st.dir, "list", code=1)
    assert lines(r.stderr) == ["sessionctl: I/O error: No space left on device"]


def test_broken_pipe_in_process_is_quiet(st: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    def closed(*a: object, **k: object) -> None:
        raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(cli, "warn_skipped", closed)
    r = invoke("--dir", st.dir, "list")
    assert r.stderr == ""
