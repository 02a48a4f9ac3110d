"""``show`` and ``list`` on a terminal (issue #16, items 1, 2 and 10).

The view streams message by message (core.viewstream + render.show), goes
through ``$PAGER`` started as a subprocess (render.pager), and the list
table is written line by line (render.tables). Real terminals are checked
under a pseudo-terminal: the first screen arrives before the whole session
is read, Ctrl-C ends with 130 and a clean terminal.
"""

from __future__ import annotations

import contextlib
import json
import os
import pty
import re
import select
import signal
import stat
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import PACKAGE_ROOT, invoke, new_store, sid, text_msg, write_session
from hypothesis import given
from hypothesis import strategies as st

from sessionctl.cli import common
from sessionctl.core.folds import read_records
from sessionctl.core.viewstream import CheckpointAt, ViewFold, ViewItem
from sessionctl.render.pager import less_options, pager_command
from sessionctl.render.show import FOLD_LINES, ShowHeader, ShowView, wrap_fields

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def view(**kw: Any) -> ShowView:
    kw.setdefault("width", 100)
    kw.setdefault("color", False)
    kw.setdefault("full", False)
    return ShowView(**kw)


# -- the header (item 10) -----------------------------------------------------------


@given(st.lists(st.text(alphabet="abc xyz/日", min_size=1, max_size=30), max_size=8),
       st.integers(min_value=1, max_value=120))
def test_wrap_fields_breaks_between_fields_never_inside(fields: list[str], width: int) -> None:
    from rich.cells import cell_len

    lines = wrap_fields(fields, width)
    sep = "  ·  "
    assert [f for line in lines for f in line.split(sep)] == fields  # whole, in order
    for line in lines:
        assert cell_len(line) <= width or sep not in line  # only a lone field may be wider


def test_header_wraps_between_fields_at_120_columns() -> None:
    h = ShowHeader(id="20261124-145342-0626a978c20577ff", title="t", updated="3h ago",
                   workspace="~/src/a-rather-long-workspace-name/with/some/depth",
                   model="anthropic / https://api.example.com/v1 / claude-sonnet-4-5", count=8)
    lines = view(width=120).header(h).splitlines()[1:]
    assert len(lines) > 1
    assert all(len(line) <= 120 for line in lines)
    assert any(line.endswith("8 messages") for line in lines)  # never "8" + newline + "messages"
    assert any(line.startswith("id 20261124-145342-0626a978c20577ff") for line in lines)


# -- thinking (item 10) ---------------------------------------------------------------


THOUGHT = "\n".join(f"thought {i}" for i in range(1, 8))


def test_thinking_is_its_own_labelled_block_folded_unless_full() -> None:
    m = {"role": "assistant", "content": [
        {"type": "thinking", "reasoning_content": THOUGHT},
        {"type": "text", "text": "The reply."}]}
    out = view().message(m)
    lines = out.splitlines()
    label = lines.index("┆ thinking")
    assert lines[label + 1: label + 4] == ["┆ thought 1", "┆ thought 2", "┆ thought 3"]
    assert lines[label + 4] == "┆ … 4 more lines of thinking (use --full)"
    assert lines[label + 5] == ""  # a blank line, then the reply on its own
    assert lines[label + 6] == "The reply."
    full = view(full=True).message(m)
    assert "┆ thought 7" in full and "more lines of thinking" not in full
    # dimmed (and italic) on a terminal, the reply not
    coloured = view(color=True).message(m)
    assert "\x1b[2;3mthought 1\x1b[0m" in coloured
    assert "\nThe reply.\n" in coloured


def test_redacted_thinking_has_a_label_only() -> None:
    out = view().message({"role": "assistant", "content": [
        {"type": "redacted_thinking", "thinking_data": "RUVSRURBQ1RFRA=="}]})
    assert "┆ thinking (redacted)" in out and "RUVSR" not in out


# -- the view of a message ------------------------------------------------------------


def test_message_parts_and_folding() -> None:
    output = "\n".join(f"out {i}" for i in range(30))
    m = {"role": "assistant", "content": [
        {"type": "text", "text": "# Plan\n\nRun **this** and `that`:\n\n```sh\nmake test\n```"},
        {"type": "tool_use", "tool_name": "bash", "input": {"cmd": "ls"}},
        {"type": "tool_result", "output": output, "is_error": True},
        {"type": "image", "image_mime": "image/png"}]}
    out = view().message(m)
    assert "Assistant" in out.splitlines()[1]
    assert "\nPlan\n" in out and "Run this and that:" in out and "make test" in out
    assert '▶ tool call bash\n{\n  "cmd": "ls"\n}\n' in out
    assert "✗ tool error" in out and f"out {FOLD_LINES - 1}\n" in out
    assert f"out {FOLD_LINES}\n" not in out and "… 10 more lines (use --full)" in out
    assert "[image: image/png]" in out
    assert "out 29" in view(full=True).message(m)


def test_tool_output_keeps_colours_and_drops_other_escapes() -> None:
    m = {"role": "user", "content": [{"type": "tool_result",
                                      "output": "\x1b[32mPASS\x1b[0m\x1b]0;t\x07\x1b[2J ok"}]}
    coloured = view(color=True).message(m)
    assert "\x1b[32mPASS\x1b[0m" in coloured
    assert "\x1b]" not in coloured and "\x1b[2J" not in coloured
    assert "\x1b" not in view().message(m)


# -- streaming the file ----------------------------------------------------------------


def lines_of(*records: dict[str, Any]) -> list[bytes]:
    return [json.dumps(r).encode() + b"\n" for r in records]


def test_view_stream_reads_as_load_does() -> None:
    def message(role: str, text: str, mid: str | None = None) -> dict[str, Any]:
        m: dict[str, Any] = {"role": role, "content": [{"type": "text", "text": text}]}
        if mid:
            m["id"] = mid
        return {"type": "message", "message": m}

    items: list[ViewItem] = []
    fold = ViewFold(items.append)
    read_records(lines_of(
        {"type": "meta", "title": "first"},
        message("user", "q1", "a"),
        message("assistant", "a1", "b"),
        message("assistant", "a1 again", "b"),  # a duplicate id: read once
        {"type": "checkpoint", "checkpoint_tokens": 99,
         "checkpoint_messages": [{"role": "user", "content": []}]},
        message("user", "q2"),
        {"type": "meta", "title": "latest", "model": "m"},
    ), fold)
    texts = [i["content"][0]["text"] if isinstance(i, dict) else i for i in items]
    assert texts == ["q1", "a1", CheckpointAt(99, 1), "q2"]
    assert fold.count == 3 and fold.title == "latest" and fold.field("model") == "m"


def test_view_stream_yields_before_the_file_is_read() -> None:
    """The first message is shown while most of a big file is unread."""
    import io

    data = b"".join(
        json.dumps({"type": "message", "message": text_msg("user", f"m{i} " + "x" * 200)})
        .encode() + b"\n" for i in range(40_000))

    class Counting(io.BytesIO):
        consumed = 0

        def read(self, n: int | None = -1, /) -> bytes:
            chunk = super().read(n)
            self.consumed += len(chunk)
            return chunk

    f = Counting(data)
    seen: list[tuple[ViewItem, int]] = []
    read_records(f, ViewFold(lambda item: seen.append((item, f.consumed))))
    first, consumed = seen[0]
    assert isinstance(first, dict) and first["content"][0]["text"].startswith("m0 ")
    assert consumed < len(data) // 4  # handed on long before the end was read


# -- the command, in-process ----------------------------------------------------------


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(common, "stdout_is_terminal", lambda: True)


def test_show_header_on_one_line_per_field_at_120(tmp_path: Path, terminal: None) -> None:
    d = new_store(tmp_path / "s")
    write_session(d, sid(1), title="Header", workspace="/home/dev/projects/sessionctl-work",
                  vendor="anthropic", endpoint="default", model="claude-sonnet-4-5",
                  messages=[text_msg("user", f"m{i}") for i in range(8)])
    out = invoke("--dir", d, "show", sid(1), "--no-pager", env={"COLUMNS": "120"}).stdout
    head = out.split("\n\n")[0].splitlines()[1:]
    assert any(line.endswith("8 messages") for line in head), head
    assert all(len(line) <= 120 for line in head)


@pytest.mark.parametrize("columns", ["20", "30", "60"])
def test_list_never_cuts_the_short_id(tmp_path: Path, terminal: None, columns: str) -> None:
    d = new_store(tmp_path / "s")
    write_session(d, "20261125-111826-175ca5bde7dc8570", title="Why does the index go stale?",
                  workspace="/home/dev/src/ggcode", model="claude-sonnet-4-5")
    out = invoke("--dir", d, "list", env={"COLUMNS": columns}).stdout
    assert out.splitlines()[1].split()[0] == "175ca5bd"
    assert "…" not in out.splitlines()[1].split()[0]


def fake_less(tmp_path: Path) -> Path:
    """A ``less`` on PATH that writes its $LESS and its input to files."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "less"
    script.write_text(f'#!/bin/sh\nprintf "%s" "${{LESS-unset}}" > {tmp_path}/less-env\n'
                      f"cat > {tmp_path}/less-input\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return bin_dir


@pytest.mark.parametrize(("less", "given_to_less"), [
    (None, "FRX"), ("-X", "-X -R"), ("-SR", "-SR"), ("", "-R")])
def test_less_gets_r(tmp_path: Path, terminal: None, less: str | None,
                     given_to_less: str) -> None:
    d = new_store(tmp_path / "s")
    write_session(d, sid(1), title="Paged")
    env = {"PATH": f"{fake_less(tmp_path)}:{os.environ['PATH']}", "PAGER": None, "LESS": less}
    r = invoke("--dir", d, "show", sid(1), env=env)
    assert r.stdout == "" and r.stderr == ""
    assert (tmp_path / "less-env").read_text() == given_to_less
    assert "Paged" in (tmp_path / "less-input").read_text()
    assert "LESS" not in os.environ or os.environ.get("LESS") == less  # ours is untouched


def test_less_options() -> None:
    assert less_options(None) == "FRX"
    assert less_options("-r") == "-r"
    assert pager_command({"PAGER": ""}) is None
    assert pager_command({"PAGER": "cat"}) is None
    assert pager_command({"PAGER": "less -S"}) == ["less", "-S"]
    assert pager_command({"PAGER": "less | cat"}) == ["/bin/sh", "-c", "less | cat"]


@pytest.mark.parametrize(("pager", "warning"), [
    ("nonexistent-pager", "sessionctl: warning: pager 'nonexistent-pager' not found;"
                          " writing directly\n"),
    ("false", "sessionctl: warning: pager 'false' failed (exit status 1); writing directly\n"),
    ("exit 3 |", "sessionctl: warning: pager 'exit 3 |' failed"),
])
def test_a_broken_pager_falls_back_to_direct_output(
    tmp_path: Path, terminal: None, pager: str, warning: str
) -> None:
    d = new_store(tmp_path / "s")
    write_session(d, sid(1), title="Never lost")
    r = invoke("--dir", d, "show", sid(1), env={"PAGER": pager}, check=False)
    assert r.stderr.startswith(warning) and len(r.stderr.splitlines()) == 1
    assert "Never lost" in r.stdout and "hi there" in r.stdout


# -- a real terminal ---------------------------------------------------------------------


def big_store(tmp_path: Path, n: int = 4000) -> Path:
    d = new_store(tmp_path / "big")
    msgs = []
    for i in range(n):
        msgs.append(text_msg("user", f"question {i} " + "words " * 30))
        msgs.append({"role": "assistant", "content": [
            {"type": "text", "text": f"answer {i}\n\n```py\nprint({i})\n```"},
            {"type": "tool_result", "output": "\n".join(f"line {j}" for j in range(40))}]})
    write_session(d, sid(7), title="Big", messages=msgs)
    return d


def spawn(args: list[str], env: dict[str, str]) -> tuple[int, int]:
    pid, fd = pty.fork()
    if pid == 0:  # the child: sessionctl on a terminal
        os.execve(sys.executable, [sys.executable, "-m", "sessionctl", *args], env)
    return pid, fd


def read_until(fd: int, want: bytes, timeout: float) -> bytes:
    got = b""
    end = time.monotonic() + timeout
    while want not in got and time.monotonic() < end:
        r, _, _ = select.select([fd], [], [], 0.1)
        if r:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            got += chunk
    return got


def drain(fd: int, timeout: float) -> bytes:
    got = b""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        r, _, _ = select.select([fd], [], [], 0.1)
        if r:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            got += chunk
    return got


def quit_pager(pid: int, fd: int, timeout: float = 30) -> tuple[int | None, bytes]:
    """Press q until the process ends (its exit status, what it wrote);
    killed after ``timeout`` seconds (status None)."""
    out = b""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        with contextlib.suppress(OSError):  # the terminal is gone once it ended
            os.write(fd, b"q")
        out += drain(fd, 0.2)
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status, out
        time.sleep(0.1)
    os.killpg(os.getpgid(pid), signal.SIGKILL)
    os.waitpid(pid, 0)
    return None, out


def tty_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("SESSIONCTL_DEBUG", None)
    env.update({"PYTHONPATH": str(PACKAGE_ROOT), "TERM": "xterm", "COLUMNS": "100",
                "LINES": "30", "PYTHONDONTWRITEBYTECODE": "1"})
    env.update(extra)
    return env


@pytest.mark.skipif(sys.platform != "linux", reason="pty behaviour checked on Linux")
def test_ctrl_c_without_pager_exits_130_and_resets_the_terminal(tmp_path: Path) -> None:
    d = big_store(tmp_path)
    pid, fd = spawn(["--dir", str(d), "show", sid(7), "--no-pager", "--full"],
                    tty_env(tmp_path))
    first = read_until(fd, b"answer 3", 20)
    assert b"answer 3" in first
    os.kill(pid, signal.SIGINT)
    rest = drain(fd, 5)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 130
    out = first + rest
    assert b"Traceback" not in out and b"answer 3999" not in out
    assert out.rstrip().endswith(b"\x1b[0m")  # no style left on


@pytest.mark.skipif(not os.path.exists("/usr/bin/less") and not os.path.exists("/bin/less"),
                    reason="needs less")
def test_real_less_first_screen_then_ctrl_c_then_q(tmp_path: Path) -> None:
    d = big_store(tmp_path)
    env = tty_env(tmp_path)
    env.pop("PAGER", None)
    env.pop("LESS", None)
    pid, fd = spawn(["--dir", str(d), "show", sid(7)], env)
    screen = read_until(fd, b":\x1b[K", 20)  # less's prompt: a screen is shown
    assert b"Big" in screen and b"question 0" in screen and b"question 3999" not in screen
    os.write(fd, b"\x03")  # Ctrl-C on the terminal: SIGINT to sessionctl and less
    # less drops typeahead when interrupted: q until it quits
    status, _ = quit_pager(pid, fd)
    assert status is not None and os.waitstatus_to_exitcode(status) == 130


@pytest.mark.skipif(not os.path.exists("/usr/bin/less") and not os.path.exists("/bin/less"),
                    reason="needs less")
def test_quitting_less_early_is_a_quiet_success(tmp_path: Path) -> None:
    d = big_store(tmp_path)
    env = tty_env(tmp_path)
    env.pop("PAGER", None)
    pid, fd = spawn(["--dir", str(d), "show", sid(7)], env)
    read_until(fd, b":\x1b[K", 20)
    status, after = quit_pager(pid, fd)
    assert b"sessionctl:" not in after  # no error line after the pager
    assert status is not None and os.waitstatus_to_exitcode(status) == 0


def test_a_big_session_the_cache_lacks_streams_with_its_size_then_its_count(
    tmp_path: Path, terminal: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sessionctl.cli.commands import show as show_cmd

    monkeypatch.setattr(show_cmd, "STREAM_FROM", 0)  # every file counts as big here
    d = new_store(tmp_path / "s")
    write_session(d, sid(1), title="Streamed", workspace="/w/x", model="m",
                  messages=[text_msg("user", f"q{i}") for i in range(5)])
    out = invoke("--dir", d, "show", sid(1), "--no-pager", env={"COLUMNS": "100"}).stdout
    lines = out.splitlines()
    assert lines[0] == "Streamed"
    assert re.fullmatch(r"id \S+  ·  in /w/x  ·  m  ·  \d+ B", lines[1]), lines[1]
    assert "5 messages" not in lines[1]
    assert lines[-1].startswith("── end: 5 messages ")
    # with the summary known (a small file), the count is in the header, no footer
    monkeypatch.setattr(show_cmd, "STREAM_FROM", 1 << 30)
    out = invoke("--dir", d, "show", sid(1), "--no-pager", env={"COLUMNS": "100"}).stdout
    assert out.splitlines()[1].endswith("5 messages") and "end:" not in out
