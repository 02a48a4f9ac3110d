"""Presentation: tables, the ``show`` view and JSON emitters.

Takes library objects and writes text; knows nothing of files or of the
command line. Colour and layout are rich's decisions at run time (it honours
``NO_COLOR`` and notices pipes); piped output is plain and never truncated.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from enum import Enum
from typing import TYPE_CHECKING, Any

import orjson

from .ids import hex_part
from .models import Message, Session, SessionInfo

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

__all__ = [
    "OutputFormat",
    "clean_line",
    "emit_rows",
    "relative_time",
    "render_show",
    "short_id",
    "shorten_path",
]

Write = Callable[[str], object]
#: Tool output longer than this many lines is folded in ``show`` (``--full``).
FOLD_LINES = 20


class OutputFormat(str, Enum):
    """How ``list`` prints: one choice, never loose booleans."""

    table = "table"
    json = "json"
    jsonl = "jsonl"
    ids = "ids"


def short_id(sid: str) -> str:
    """The first 8 hex digits of a reference-shaped id (like git), else the id."""
    hx = hex_part(sid)
    return hx[:8] if hx else sid


def clean_line(text: str) -> str:
    """One line: control characters (newlines, tabs, escapes) become spaces."""
    return "".join(" " if (ord(c) < 32 or 0x7F <= ord(c) < 0xA0 or c in "\u2028\u2029") else c
                   for c in text)


def relative_time(ns: int, now: float | None = None) -> str:
    """``just now``, ``5m ago``, ``3h ago``, ``2d ago``; a date past 30 days."""
    now = time.time() if now is None else now
    delta = now - ns / 1e9
    if delta < 0:
        return time.strftime("%Y-%m-%d", time.localtime(ns / 1e9))
    if delta < 60:
        return "just now"
    if delta < 3600:
        return f"{int(delta // 60)}m ago"
    if delta < 86400:
        return f"{int(delta // 3600)}h ago"
    if delta < 30 * 86400:
        return f"{int(delta // 86400)}d ago"
    return time.strftime("%Y-%m-%d", time.localtime(ns / 1e9))


def shorten_path(path: str) -> str:
    """``$HOME/x`` as ``~/x``."""
    home = os.path.expanduser("~")
    if home not in ("", "/") and (path == home or path.startswith(home + "/")):
        return "~" + path[len(home):]
    return path


_BATCH = 256  # rows per write for --json


def emit_rows(
    infos: Iterable[SessionInfo], fmt: OutputFormat, write: Write, console: Console | None = None
) -> None:
    """Print ``list`` rows in ``fmt``, streaming row by row."""
    if fmt is OutputFormat.ids:
        for info in infos:
            write(info.id + "\n")
    elif fmt is OutputFormat.jsonl:
        for info in infos:
            write(orjson.dumps(info.to_dict()).decode() + "\n")
    elif fmt is OutputFormat.json:
        # One row per line, written in batches (one write per row made this
        # several times slower at 10,000 rows; batches still stream). A
        # batch is one orjson call; rows are then put on lines of their own:
        # '},{"id":' only occurs between rows (quotes inside strings are
        # escaped).
        dumps = orjson.dumps
        sep = "[\n  "
        batch: list[dict[str, Any]] = []
        for info in infos:
            batch.append(info.to_dict())
            if len(batch) == _BATCH:
                write(sep + _row_lines(dumps(batch)))
                sep, batch = ",\n  ", []
        if batch:
            write(sep + _row_lines(dumps(batch)))
            sep = ""
        write("[]\n" if sep == "[\n  " else "\n]\n")
    elif console is not None:
        console.print(list_table(list(infos), console.width))
    else:
        for info in infos:
            title = clean_line(info.title)
            write(f"{info.id}\t{info.updated[1]}\t{info.msg_count}\t"
                  f"{clean_line(info.workspace)}\t{title}\n")


def _row_lines(array: bytes) -> str:
    """A JSON array of ``list`` rows as the rows' lines (without brackets)."""
    return array[1:-1].replace(b'},{"id":', b'},\n  {"id":').decode()


#: ``list`` table: the title keeps at least this many cells before the
#: model and then the workspace columns are dropped on a narrow terminal.
MIN_TITLE = 20
MIN_WORKSPACE = 12
MAX_MODEL = 24
_GAP = 2  # cells between two columns (padding 1 + 1)


def ellipsize_left(text: str, width: int) -> str:
    """``text`` cut to ``width`` cells from the left (``…/projects/app``):
    the end of a path is the part that tells workspaces apart."""
    from rich.cells import cell_len

    if cell_len(text) <= width:
        return text
    if width <= 1:
        return "…"[:width]
    out: list[str] = []
    used = 1
    for ch in reversed(text):
        w = cell_len(ch)
        if used + w > width:
            break
        out.append(ch)
        used += w
    return "…" + "".join(reversed(out))


def _table_widths(
    width: int, fixed: int, title: int, workspace: int | None, model: int | None
) -> tuple[int, int | None, int | None]:
    """Cells for (title, workspace, model) on a ``width``-cell terminal.

    ``fixed`` is the id, time and count columns; ``None`` is a column not
    shown (no session has a value, or the terminal is too narrow: the model
    goes first, then the workspace, so the title keeps ``MIN_TITLE`` cells).
    """
    if model is not None:
        model = min(model, MAX_MODEL)
    while True:
        shown = 3 + (workspace is not None) + (model is not None)  # columns besides the title
        rest = width - fixed - _GAP * shown - (model or 0)
        ws_min = min(workspace, MIN_WORKSPACE) if workspace is not None else 0
        if rest - ws_min >= min(title, MIN_TITLE):
            break
        if model is not None:
            model = None
        elif workspace is not None:
            workspace = None
        else:
            break
    if workspace is None:
        return max(rest, 1), None, model
    if title + workspace <= rest:
        return title, workspace, model
    ws = min(workspace, max(MIN_WORKSPACE, rest * 2 // 5))
    ws = max(ws, rest - title)  # give the title's spare room to the workspace
    return max(rest - ws, 1), ws, model


def list_table(infos: list[SessionInfo], width: int = 100) -> RenderableType:
    """The terminal view of ``list``: one line per session at any ``width``
    (long titles and models end with ``…``, paths lose their start)."""
    from rich.cells import cell_len
    from rich.table import Table
    from rich.text import Text

    now = time.time()
    rows = []
    for info in infos:
        title = Text(clean_line(info.title) or "Untitled session")
        if info.hidden:
            title = Text.assemble(("(empty) ", "dim italic"), title)
        rows.append((short_id(info.id), relative_time(info.updated[0], now), title,
                     shorten_path(clean_line(info.workspace)), clean_line(info.model),
                     str(info.msg_count), info.hidden))

    def natural(i: int, head: str) -> int:
        return max([cell_len(head)] + [cell_len(str(r[i])) for r in rows])

    def optional(i: int, head: str) -> int | None:
        """A column no session has a value for is left out."""
        return natural(i, head) if any(r[i] for r in rows) else None

    fixed = natural(0, "ID") + natural(1, "UPDATED") + natural(5, "MSGS")
    title_w, ws_w, model_w = _table_widths(
        width, fixed, natural(2, "TITLE"), optional(3, "WORKSPACE"), optional(4, "MODEL"))

    table = Table(box=None, header_style="bold", pad_edge=False, show_edge=False)
    table.add_column("ID", style="yellow", no_wrap=True)
    table.add_column("UPDATED", style="cyan", no_wrap=True)
    table.add_column("TITLE", overflow="ellipsis", no_wrap=True, width=title_w)
    if ws_w is not None:
        table.add_column("WORKSPACE", style="blue", no_wrap=True, width=ws_w)
    if model_w is not None:
        table.add_column("MODEL", style="magenta", overflow="ellipsis", no_wrap=True,
                         width=model_w)
    table.add_column("MSGS", justify="right", no_wrap=True)
    for sid, updated, title, ws, model, count, hidden in rows:
        cells: list[RenderableType] = [sid, updated, title]
        if ws_w is not None:
            cells.append(ellipsize_left(ws, ws_w))
        if model_w is not None:
            cells.append(model)
        cells.append(count)
        table.add_row(*cells, style="dim" if hidden else None)
    return table


_CONTROL: dict[int, str | None] = {
    c: "\ufffd" for c in [*range(0, 9), *range(11, 32), *range(0x7F, 0xA0)]}
_CONTROL[13] = None  # CR: CRLF text and progress output


def printable(text: str) -> str:
    """Text for a terminal: newlines and tabs kept, other control characters
    (escape sequences from a session file) shown as U+FFFD, never sent raw."""
    return text.translate(_CONTROL)


def _tool_output(text: str, style: str) -> RenderableType:
    """Tool output keeps its colours (test runners, ``ls --color``): SGR
    escapes become styles; every other control sequence is dropped."""
    from rich.text import Text

    # CRLF first: rich keeps only what follows the last \r of a line
    decoded = Text.from_ansi(text.replace("\r\n", "\n"), style=style)
    decoded.plain = printable(decoded.plain)
    return decoded


def _blocks(msg: Message, full: bool) -> list[RenderableType]:
    from rich.markdown import Markdown
    from rich.syntax import Syntax
    from rich.text import Text

    out: list[RenderableType] = []
    for b in msg.content:
        t = b.type
        if t == "text":
            if b.text.strip():
                out.append(Markdown(printable(b.text)))
        elif t == "tool_use":
            out.append(Text.assemble(("▶ tool call ", "bold yellow"),
                                     (clean_line(b.tool_name), "bold")))
            if "input" in b._raw:
                data = orjson.dumps(b.input, option=orjson.OPT_INDENT_2).decode()
                out.append(Syntax(data, "json", theme="ansi_dark", word_wrap=True))
        elif t == "tool_result":
            style = "bold red" if b.is_error else "bold green"
            label = "✗ tool error" if b.is_error else "◀ tool result"
            out.append(Text(label, style=style))
            lines = b.output.splitlines()
            if not full and len(lines) > FOLD_LINES:
                hidden = len(lines) - FOLD_LINES
                out.append(_tool_output("\n".join(lines[:FOLD_LINES]), "dim"))
                out.append(Text(f"… {hidden} more lines (use --full)", style="italic"))
            elif b.output:
                out.append(_tool_output(b.output, "dim"))
        elif t == "image":
            out.append(Text(f"[image: {clean_line(b.image_mime) or 'image'}]", style="italic"))
        elif t in ("thinking", "redacted_thinking", "reasoning"):
            if b.reasoning_content and full:
                out.append(Text(printable(b.reasoning_content), style="dim italic"))
            else:
                out.append(Text("[thinking]", style="dim italic"))
        if b.images and t != "image":
            n = len(b.images)
            out.append(Text(f"[{n} image{'s' if n != 1 else ''}]", style="italic"))
    return out


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _checkpoint_label(c: dict[str, int]) -> str:
    return (f"checkpoint: compacted to {_plural(c['messages'], 'message')}"
            f" ({_plural(c['tokens'], 'token')})")


_ROLE_STYLE = {"user": "bold green", "assistant": "bold blue", "system": "bold magenta"}


def render_show(
    session: Session, console: Console, *, full: bool, context: bool, start: int = 1
) -> None:
    """``show`` on a terminal: header, role sections, markdown, tool calls;
    from the ``start``-th message (1-based, full history) on."""
    from rich.rule import Rule
    from rich.text import Text

    console.print(Text(clean_line(session.title) or "Untitled session", style="bold underline"))
    meta = [f"id {session.id}", f"updated {relative_time(session.updated_ns)}"]
    if session.workspace:
        meta.append(f"in {shorten_path(clean_line(session.workspace))}")
    model = " / ".join(
        clean_line(p) for p in (session.vendor, session.endpoint, session.model) if p)
    if model:
        meta.append(model)
    msgs = session.context_messages if context else session.messages
    meta.append(_plural(len(msgs), "message") + (" (resume context)" if context else ""))
    console.print(Text("  ·  ".join(meta), style="dim"))
    marks = {} if context else {
        c["after_message"]: c for c in session.checkpoint_summaries()
    }
    if start > 1:
        console.print()
        console.print(Text(f"(from message #{start}; {_plural(start - 1, 'earlier message')}"
                           " not shown)", style="dim"))
    for i, msg in enumerate(msgs):
        if i < start - 1:
            continue
        if i in marks:
            c = marks[i]
            console.print()
            console.print(Rule(
                _checkpoint_label(c),
                style="yellow"))
        role = msg.role or "(no role)"
        console.print()
        console.print(Rule(Text(role.capitalize(), style=_ROLE_STYLE.get(role, "bold")),
                           align="left", style="dim"))
        for part in _blocks(msg, full):
            console.print(part)
    if len(msgs) in marks:
        c = marks[len(msgs)]
        console.print()
        console.print(Rule(
            _checkpoint_label(c),
            style="yellow"))
