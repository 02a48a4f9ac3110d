"""The presentation helpers of ``sessionctl.render``."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator

import pytest
from rich.console import Console

from sessionctl.core.session import SessionInfo
from sessionctl.render.formats import OutputFormat, emit_rows
from sessionctl.render.tables import ellipsize_left, list_table
from sessionctl.render.text import (
    clean_line,
    printable,
    relative_time,
    short_id,
    shorten_path,
)

NOW = 1_800_000_000.0  # a fixed "now" (2027-01-15)
S = 10**9


@pytest.mark.parametrize(("ago", "expected"), [
    (0, "just now"),
    (59, "just now"),
    (60, "1m ago"),
    (3599, "59m ago"),
    (3600, "1h ago"),
    (86399, "23h ago"),
    (86400, "1d ago"),
    (29 * 86400, "29d ago"),
])
def test_relative_time(ago: int, expected: str) -> None:
    assert relative_time(int((NOW - ago) * S), NOW) == expected


def test_relative_time_old_and_future_show_the_date() -> None:
    old = int((NOW - 30 * 86400) * S)
    assert relative_time(old, NOW) == time.strftime("%Y-%m-%d", time.localtime(old / S))
    future = int((NOW + 3600) * S)
    assert relative_time(future, NOW) == time.strftime("%Y-%m-%d", time.localtime(future / S))


def test_relative_time_defaults_to_now() -> None:
    assert relative_time(time.time_ns()) == "just now"


@pytest.mark.parametrize(("sid", "expected"), [
    ("20261124-145342-0626a978c20577ff", "0626a978"),
    ("20260101-000000-00000000deadbeef", "00000000"),
    ("my-session", "my-session"),  # not the reference's shape: the id itself
    ("20261124-145342-0626A978C20577FF", "20261124-145342-0626A978C20577FF"),  # upper case
    ("20261124-145342-0626a978", "20261124-145342-0626a978"),  # short hex part
])
def test_short_id(sid: str, expected: str) -> None:
    assert short_id(sid) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("plain", "plain"),
    ("a\tb\nc\r\nd", "a b c  d"),
    ("esc\x1b[31mred", "esc [31mred"),
    ("nul\x00del\x7f", "nul del "),
    ("c1\x85\x9b", "c1  "),
    ("ls\u2028ps\u2029", "ls ps "),
    ("日本語 🚀 naïve", "日本語 🚀 naïve"),
    ("", ""),
])
def test_clean_line(text: str, expected: str) -> None:
    assert clean_line(text) == expected
    assert "\n" not in clean_line(text)


def test_shorten_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", "/home/dev")
    assert shorten_path("/home/dev") == "~"
    assert shorten_path("/home/dev/src/app") == "~/src/app"
    assert shorten_path("/home/developer/x") == "/home/developer/x"  # not a path prefix
    assert shorten_path("/srv/work") == "/srv/work"
    assert shorten_path("") == ""
    monkeypatch.setenv("HOME", "/")
    assert shorten_path("/srv/work") == "/srv/work"  # never "~srv/work"


def info(n: int, **kw: object) -> SessionInfo:
    fields: dict[str, object] = dict(
        id=f"20260301-120000-{n:08x}{n:08x}", title=f"title {n}", workspace="/w", vendor="v",
        endpoint="e", model="m", created=(NOW * S, "2027-01-15T08:00:00Z"),
        updated=(int(NOW * S), "2027-01-15T08:00:00Z"), msg_count=n, hidden=False,
    )
    fields.update(kw)
    return SessionInfo(**fields)  # type: ignore[arg-type]


def emitted(infos: list[SessionInfo], fmt: OutputFormat) -> str:
    out: list[str] = []
    emit_rows(infos, fmt, out.append)
    return "".join(out)


def test_emit_rows_formats() -> None:
    rows = [info(1), info(2, title="a\nb", hidden=True)]
    assert emitted(rows, OutputFormat.ids) == f"{rows[0].id}\n{rows[1].id}\n"
    assert [json.loads(x) for x in emitted(rows, OutputFormat.jsonl).splitlines()] == [
        r.to_dict() for r in rows]
    assert json.loads(emitted(rows, OutputFormat.json)) == [r.to_dict() for r in rows]
    assert emitted([], OutputFormat.json) == "[]\n"
    # One row per line, two-space indent, across batch boundaries too.
    tricky = '"},{"id":"x\n},\n  {"id":'  # what splits rows, inside a title
    for n in (1, 255, 256, 257, 600):
        many = [info(k, title=tricky if k % 2 else f"title {k}") for k in range(n)]
        lines = emitted(many, OutputFormat.json).split("\n")
        assert lines[0] == "[" and lines[-2:] == ["]", ""] and len(lines) == n + 3
        assert [json.loads(x.strip().rstrip(",")) for x in lines[1:-2]] == [
            r.to_dict() for r in many]
        assert all(x.endswith(",") for x in lines[1:-3]) and not lines[-3].endswith(",")
    assert emitted([], OutputFormat.jsonl) == ""
    assert emitted(rows, OutputFormat.table).splitlines() == [
        f"{rows[0].id}\t2027-01-15T08:00:00Z\t1\t/w\ttitle 1",
        f"{rows[1].id}\t2027-01-15T08:00:00Z\t2\t/w\ta b",
    ]


def test_emit_rows_streams() -> None:
    """Rows are written as they come, not collected first (list | head):
    row by row, or for --json in batches of a few hundred."""
    seen: list[str] = []

    def gen(fmt: OutputFormat, lag: int) -> Iterator[SessionInfo]:
        for n in range(1000):
            yield info(n)
            if n >= lag:
                assert seen, (fmt, n)

    for fmt, lag in ((OutputFormat.ids, 0), (OutputFormat.jsonl, 0),
                     (OutputFormat.table, 0), (OutputFormat.json, 256)):
        seen.clear()
        emit_rows(gen(fmt, lag), fmt, seen.append)
        assert seen


def render(renderable: object, width: int = 100) -> str:
    buf = io.StringIO()
    Console(file=buf, width=width, color_system=None, force_terminal=False).print(renderable)
    return buf.getvalue()


TABLE_ROWS = [
    info(1, msg_count=12, title="Please fix the bug in the parser where long lines are dropped",
         workspace="/home/dev/projects/alpha-service", model="claude-sonnet-4-20250514"),
    info(2, msg_count=3, title="", hidden=True, model="gpt-5"),
    info(3, msg_count=1234, title="日本語のテキストでタイトルを長くするためのテキストです",
         workspace="/home/dev/projects/alpha", model="claude-sonnet-4"),
    info(4, msg_count=1, title="x" * 300, workspace="/very/long/" + "w" * 200),
]


@pytest.mark.parametrize("width", [30, 40, 60, 80, 100, 120, 160, 250])
def test_list_table_is_one_line_per_session_at_any_width(width: int) -> None:
    from rich.cells import cell_len

    out = render(list_table(TABLE_ROWS, width), width).splitlines()
    assert len(out) == 1 + len(TABLE_ROWS), out  # never wrapped
    assert all(cell_len(line) <= width for line in out)
    head = out[0].split()
    # the id, the time and the message count are always there, in full
    assert head[:2] == ["ID", "UPDATED"] and head[-1] == "MSGS"
    for line, row in zip(out[1:], TABLE_ROWS, strict=True):
        assert line.split()[0] == row.id[16:24]
        assert line.split()[1] == "2027-01-15"
        assert line.rstrip().endswith(f"  {row.msg_count}")


def test_list_table_columns_by_width() -> None:
    def heads(width: int) -> list[str]:
        return render(list_table(TABLE_ROWS, width), width).splitlines()[0].split()

    assert heads(60) == ["ID", "UPDATED", "TITLE", "MSGS"]  # narrow: model, workspace go
    assert heads(80) == ["ID", "UPDATED", "TITLE", "WORKSPACE", "MSGS"]
    assert heads(120) == ["ID", "UPDATED", "TITLE", "WORKSPACE", "MODEL", "MSGS"]
    # a column no session has a value for takes no room
    bare = [info(1, workspace="", model=""), info(2, workspace="", model="")]
    assert render(list_table(bare, 120), 120).splitlines()[0].split() == [
        "ID", "UPDATED", "TITLE", "MSGS"]


def test_list_table_content() -> None:
    out = render(list_table(TABLE_ROWS[:3], 200), 200)
    assert "(empty) Untitled session" in out  # hidden ones are marked
    assert "Please fix the bug in the parser where long lines are dropped" in out  # room: whole
    assert "/home/dev/projects/alpha-service" in out
    out = render(list_table(TABLE_ROWS, 100), 100)
    assert "xxxx…" in out  # long titles end with an ellipsis
    assert "…wwww" in out  # long paths lose their start, keep their end


@pytest.mark.parametrize(("text", "width", "expected"), [
    ("/home/dev/app", 20, "/home/dev/app"),
    ("/home/dev/app", 13, "/home/dev/app"),
    ("/home/dev/app", 12, "…ome/dev/app"),
    ("/home/dev/app", 5, "…/app"),
    ("/home/dev/app", 1, "…"),
    ("/srv/日本語", 5, "…本語"),  # wide characters count two cells
    ("/srv/日本語", 4, "…語"),
])
def test_ellipsize_left(text: str, width: int, expected: str) -> None:
    from rich.cells import cell_len

    assert ellipsize_left(text, width) == expected
    assert cell_len(ellipsize_left(text, width)) <= width


def test_printable() -> None:
    assert printable("a\tb\nc") == "a\tb\nc"  # layout kept
    assert printable("x\r\ny") == "x\ny"
    assert printable("\x1b[2J\x07\x9b") == "\ufffd[2J\ufffd\ufffd"
    assert printable("日本語 🚀") == "日本語 🚀"


def test_json_bytes() -> None:
    from sessionctl.core.records import json_bytes

    assert json_bytes({"a": "é", "b": [1]}) == '{"a":"é","b":[1]}\n'.encode()
