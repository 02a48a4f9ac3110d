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
        first = True
        write("[")
        for info in infos:
            write(("\n  " if first else ",\n  ") + orjson.dumps(info.to_dict()).decode())
            first = False
        write("]\n" if first else "\n]\n")
    elif console is not None:
        console.print(list_table(list(infos)))
    else:
        for info in infos:
            title = clean_line(info.title)
            write(f"{info.id}\t{info.updated[1]}\t{info.msg_count}\t"
                  f"{clean_line(info.workspace)}\t{title}\n")


def list_table(infos: list[SessionInfo]) -> RenderableType:
    """The terminal view of ``list``."""
    from rich.table import Table
    from rich.text import Text

    table = Table(box=None, header_style="bold", pad_edge=False, show_edge=False)
    table.add_column("ID", style="yellow", no_wrap=True)
    table.add_column("UPDATED", style="cyan", no_wrap=True)
    table.add_column("TITLE", overflow="ellipsis", no_wrap=True, ratio=3)
    table.add_column("WORKSPACE", style="blue", overflow="ellipsis", no_wrap=True, ratio=2)
    table.add_column("MODEL", style="magenta", overflow="ellipsis", no_wrap=True)
    table.add_column("MSGS", justify="right", no_wrap=True)
    now = time.time()
    for info in infos:
        title = Text(clean_line(info.title) or "Untitled session")
        if info.hidden:
            title = Text.assemble(("(empty) ", "dim italic"), title)
        table.add_row(
            short_id(info.id), relative_time(info.updated[0], now), title,
            shorten_path(clean_line(info.workspace)), clean_line(info.model),
            str(info.msg_count),
            style="dim" if info.hidden else None,
        )
    return table


def _blocks(msg: Message, full: bool) -> list[RenderableType]:
    from rich.markdown import Markdown
    from rich.syntax import Syntax
    from rich.text import Text

    out: list[RenderableType] = []
    for b in msg.content:
        t = b.type
        if t == "text":
            if b.text.strip():
                out.append(Markdown(b.text))
        elif t == "tool_use":
            out.append(Text.assemble(("▶ tool call ", "bold yellow"), (b.tool_name, "bold")))
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
                shown = "\n".join(lines[:FOLD_LINES])
                out.append(Text(shown, style="dim"))
                out.append(Text(f"… {hidden} more lines (use --full)", style="italic"))
            else:
                out.append(Text(b.output, style="dim"))
        elif t == "image" or b.images:
            out.append(Text(f"[image: {b.image_mime or 'image'}]", style="italic"))
        elif t in ("thinking", "redacted_thinking", "reasoning"):
            if b.reasoning_content and full:
                out.append(Text(b.reasoning_content, style="dim italic"))
            else:
                out.append(Text("[thinking]", style="dim italic"))
    return out


_ROLE_STYLE = {"user": "bold green", "assistant": "bold blue", "system": "bold magenta"}


def render_show(session: Session, console: Console, *, full: bool, context: bool) -> None:
    """``show`` on a terminal: header, role sections, markdown, tool calls."""
    from rich.rule import Rule
    from rich.text import Text

    console.print(Text(session.title or "Untitled session", style="bold underline"))
    meta = [f"id {session.id}", f"updated {session.updated_at_str}"]
    if session.workspace:
        meta.append(f"in {shorten_path(session.workspace)}")
    model = " / ".join(p for p in (session.vendor, session.endpoint, session.model) if p)
    if model:
        meta.append(model)
    msgs = session.context_messages if context else session.messages
    meta.append(f"{len(msgs)} messages" + (" (resume context)" if context else ""))
    console.print(Text("  ·  ".join(meta), style="dim"))
    marks = {} if context else {
        c["after_message"]: c for c in session.checkpoint_summaries()
    }
    for i, msg in enumerate(msgs):
        if i in marks:
            c = marks[i]
            console.print(Rule(
                f"checkpoint: compacted to {c['messages']} messages ({c['tokens']} tokens)",
                style="yellow"))
        role = msg.role or "(no role)"
        console.print(Rule(Text(role.capitalize(), style=_ROLE_STYLE.get(role, "bold")),
                           align="left", style="dim"))
        for part in _blocks(msg, full):
            console.print(part)
    if len(msgs) in marks:
        c = marks[len(msgs)]
        console.print(Rule(
            f"checkpoint: compacted to {c['messages']} messages ({c['tokens']} tokens)",
            style="yellow"))


def json_bytes(obj: Any) -> bytes:
    """Compact JSON with a final newline (what ``--json`` prints)."""
    return orjson.dumps(obj, option=orjson.OPT_APPEND_NEWLINE)
