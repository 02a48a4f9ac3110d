"""The command line in this process (``CliRunner``): ``sessionctl show``, every
option and error path with its exit code. Piped unless a test declares stdout a
terminal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_helpers import (
    ANSI,
    SHOW_KEYS,
    invoke,
    new_store,
    session_files,
    text_msg,
    write_session,
)
from cli_store import (
    ALPHA,
    EVERY,
    HIDDEN,
    Store,
    checkpointed,
    lines,
)

import sessionctl.cli.common as cli
from sessionctl import JSONLStore

pytestmark = pytest.mark.usefixtures("fast_fsync")


# show


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
