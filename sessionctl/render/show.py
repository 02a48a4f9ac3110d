"""``show`` on a terminal: header, role sections, markdown text, tool calls
with their input highlighted, long tool output folded unless ``--full``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import orjson

from ..core.models import Message
from ..core.session import Session
from .text import clean_line, printable, relative_time, shorten_path

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

__all__ = ["render_show"]

#: Tool output longer than this many lines is folded in ``show`` (``--full``).
FOLD_LINES = 20


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


def render_show(session: Session, console: Console, *, full: bool, context: bool) -> None:
    """``show`` on a terminal: header, role sections, markdown, tool calls."""
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
    for i, msg in enumerate(msgs):
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
