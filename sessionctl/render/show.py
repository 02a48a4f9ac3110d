"""``show`` on a terminal: a session rendered message by message, fast.

The view is written as plain lines with ANSI styles (SGR) where colour is
on, one message at a time, so it can stream into a pager: the first screen
appears as soon as the first messages are read, whatever the size of the
session. Nothing here builds a layout of the whole session (rich's
``Markdown``/``Syntax`` took ~47 s and 108 MB for a 20 MB session); long
lines are left to the pager or the terminal to wrap.

What a message shows:

- a rule with its role;
- text as light markdown: headings and ``**bold**`` in bold, inline code
  and fenced code blocks in colour, the rest verbatim;
- thinking (``reasoning_content``) as its own dimmed block under a
  ``thinking`` label, folded to a few lines unless ``full``;
- tool calls (name, input as indented JSON) and tool results (output with
  its own SGR colours kept, other control sequences dropped), folded after
  :data:`FOLD_LINES` lines unless ``full``;
- images as one-line placeholders.

Control characters from a session file never reach the terminal raw.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import orjson

from .text import clean_line as one_line
from .text import printable

__all__ = [
    "FOLD_LINES",
    "THINKING_LINES",
    "ShowHeader",
    "ShowView",
    "wrap_fields",
]

Write = Callable[[str], object]
#: Tool input and output longer than this many lines is folded (``--full``).
FOLD_LINES = 20
#: Thinking longer than this many lines is folded (``--full``).
THINKING_LINES = 3

_RESET = "\x1b[0m"
_ROLE_STYLE = {"user": "1;32", "assistant": "1;34", "system": "1;35"}
# Escape sequences in tool output: SGR (colours) is kept, the rest dropped.
_ESCAPE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC
    r"|\x1b[P^_X][^\x1b]*(?:\x1b\\)?"  # DCS, PM, APC, SOS
    r"|\x1b[ -/]*[0-~]?"  # other escapes
)
_SGR = re.compile(r"\x1b\[[0-9;:]*m")
_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")
_HEADING = re.compile(r" {0,3}(#{1,6})(?:[ \t]+|$)")
_INLINE = re.compile(r"(`+)(.+?)\1|\*\*(?=\S)(.+?)(?<=\S)\*\*")


def wrap_fields(fields: Iterable[str], width: int, sep: str = "  ·  ") -> list[str]:
    """``fields`` joined by ``sep`` on lines of at most ``width`` cells,
    broken only between fields: a field is never cut (one wider than the
    line gets a line of its own)."""
    from rich.cells import cell_len

    lines: list[str] = []
    line = ""
    used = 0
    for field in fields:
        n = cell_len(field)
        if line and used + len(sep) + n <= width:
            line += sep + field
            used += len(sep) + n
        else:
            if line:
                lines.append(line)
            line, used = field, n
    if line:
        lines.append(line)
    return lines


@dataclass(frozen=True)
class ShowHeader:
    """What the view's header shows. ``count`` is None when not known yet
    (a big session read as it streams): the view then ends with it."""

    id: str
    title: str
    updated: str = ""  # already phrased ("3h ago")
    workspace: str = ""
    model: str = ""  # vendor / endpoint / model, joined
    count: int | None = None
    context: bool = False
    size: str = ""  # the file's size, shown when the count is not known


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


class ShowView:
    """Renders the parts of the view as strings (lines ending in ``\\n``)."""

    def __init__(self, *, width: int, color: bool, full: bool) -> None:
        self.width = max(width, 20)
        self.color = color
        self.full = full
        self._rules: dict[tuple[str, str, str], str] = {}  # a handful of roles, again and again

    # -- styles ------------------------------------------------------------

    def _s(self, text: str, style: str) -> str:
        return f"\x1b[{style}m{text}{_RESET}" if self.color and text else text

    def _rule(self, label: str, style: str, line_style: str = "2") -> str:
        key = (label, style, line_style)
        rule = self._rules.get(key)
        if rule is None:
            rule = self._rules[key] = self._make_rule(label, style, line_style)
        return rule

    def _make_rule(self, label: str, style: str, line_style: str) -> str:
        from rich.cells import cell_len

        head = "── "
        # At most 32 cells: a rule per message was half of what a big
        # session sent to the terminal.
        fill = max(min(self.width, 32) - len(head) - cell_len(label) - 1, 3)
        return (self._s(head, line_style) + self._s(label, style) + " "
                + self._s("─" * fill, line_style) + "\n")

    # -- parts --------------------------------------------------------------

    def header(self, h: ShowHeader) -> str:
        title = one_line(h.title).strip() or "Untitled session"
        fields = [f"id {h.id}"]
        if h.updated:
            fields.append(f"updated {h.updated}")
        if h.workspace:
            fields.append(f"in {one_line(h.workspace)}")
        if h.model:
            fields.append(one_line(h.model))
        if h.count is not None:
            fields.append(_plural(h.count, "message") + (" (resume context)" if h.context else ""))
        elif h.size:
            fields.append(h.size)
        lines = [self._s(title, "1;4")]
        lines += [self._s(line, "2") for line in wrap_fields(fields, self.width)]
        return "\n".join(lines) + "\n"

    def footer(self, count: int, *, context: bool = False) -> str:
        label = _plural(count, "message") + (" (resume context)" if context else "")
        return "\n" + self._rule(f"end: {label}", "2") if count else ""

    def checkpoint(self, tokens: int, messages: int | None) -> str:
        if messages is None:
            label = f"checkpoint: compacted ({_plural(tokens, 'token')})"
        else:
            label = (f"checkpoint: compacted to {_plural(messages, 'message')}"
                     f" ({_plural(tokens, 'token')})")
        return "\n" + self._rule(label, "33", "33")

    def message(self, m: dict[str, Any]) -> str:
        """One message object (the on-disk shape) as its section."""
        role = m.get("role")
        role = one_line(role) if isinstance(role, str) and role else "(no role)"
        out = ["\n", self._rule(role.capitalize(), _ROLE_STYLE.get(role, "1"))]
        content = m.get("content")
        if isinstance(content, list):
            for b in content:
                if isinstance(b, dict):
                    self._block(b, out)
        if out[-1] == "\n":  # the blank line that separates blocks, not messages
            out.pop()
        return "".join(out)

    # -- blocks --------------------------------------------------------------

    def _block(self, b: dict[str, Any], out: list[str]) -> None:
        kind = b.get("type")
        reasoning = b.get("reasoning_content")
        if isinstance(reasoning, str) and reasoning.strip():
            self._thinking(reasoning, out)
        elif kind in ("thinking", "redacted_thinking", "reasoning"):
            label = "thinking (redacted)" if kind == "redacted_thinking" else "thinking"
            out.append(self._s(f"┆ {label}", "2;3") + "\n")
        if kind == "text":
            text = b.get("text")
            if isinstance(text, str) and text.strip():
                self._markdown(printable(text), out)
        elif kind == "tool_use":
            name = b.get("tool_name")
            out.append(self._s("▶ tool call ", "1;33")
                       + self._s(one_line(name) if isinstance(name, str) else "", "1") + "\n")
            if "input" in b:
                try:
                    data = orjson.dumps(b["input"], option=orjson.OPT_INDENT_2).decode()
                except TypeError:  # beyond what orjson writes: numbers over 64 bits, depth
                    import json

                    data = json.dumps(b["input"], indent=2, ensure_ascii=False)
                self._folded(data, printable, "36", out)
        elif kind == "tool_result":
            error = b.get("is_error") is True
            out.append(self._s("✗ tool error" if error else "◀ tool result",
                               "1;31" if error else "1;32") + "\n")
            output = b.get("output")
            if isinstance(output, str) and output:
                self._folded(output, self._terminal_text, "2", out)
        elif kind == "image":
            mime = b.get("image_mime")
            mime = one_line(mime) if isinstance(mime, str) and mime else "image"
            out.append(self._s(f"[image: {mime}]", "3") + "\n")
        images = b.get("images")
        if isinstance(images, list) and images and kind != "image":
            out.append(self._s(f"[{_plural(len(images), 'image')}]", "3") + "\n")

    def _thinking(self, text: str, out: list[str]) -> None:
        """Thinking as its own block: a label, then the text dimmed behind a
        gutter, so it never reads as part of the reply."""
        lines = printable(text).strip("\n").split("\n")
        out.append(self._s("┆ thinking", "2;3") + "\n")
        shown = lines if self.full or len(lines) <= THINKING_LINES else lines[:THINKING_LINES]
        for line in shown:
            out.append(self._s("┆ ", "2") + self._s(line, "2;3") + "\n")
        if len(shown) < len(lines):
            out.append(self._s(f"┆ … {len(lines) - len(shown)} more lines of thinking"
                               " (use --full)", "2;3") + "\n")
        out.append("\n")

    def _folded(self, text: str, clean: Callable[[str], str], style: str,
                out: list[str]) -> None:
        """``text`` in ``style``, cut after :data:`FOLD_LINES` lines unless
        ``full``; only the lines shown are cleaned (outputs can be megabytes)."""
        lines = text.split("\n")
        if lines[-1] == "":
            lines.pop()
        hidden = 0
        if not self.full and len(lines) > FOLD_LINES:
            hidden = len(lines) - FOLD_LINES
            lines = lines[:FOLD_LINES]
        lines = clean("\n".join(lines)).split("\n")
        if self.color:
            out.extend(f"\x1b[{style}m{line}{_RESET}\n" for line in lines)
        else:
            out.extend(f"{line}\n" for line in lines)
        if hidden:
            out.append(self._s(f"… {hidden} more lines (use --full)", "3") + "\n")

    def _terminal_text(self, text: str) -> str:
        """Tool output for the terminal: its SGR colours kept (when colour
        is on), every other escape sequence dropped, control characters
        shown as U+FFFD."""
        text = text.replace("\r\n", "\n")
        if "\x1b" not in text:
            return printable(text)
        keep = self.color
        parts: list[str] = []
        pos = 0
        for m in _ESCAPE.finditer(text):
            parts.append(printable(text[pos:m.start()]))
            if keep and _SGR.fullmatch(m.group()):
                parts.append(m.group())
            pos = m.end()
        parts.append(printable(text[pos:]))
        return "".join(parts)

    def _markdown(self, text: str, out: list[str]) -> None:
        """Light markdown, line by line (no layout of the whole text)."""
        fence: str | None = None
        color = self.color
        for line in text.split("\n"):
            m = _FENCE.match(line)
            if fence is not None:
                if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) \
                        and not line[m.end():].strip():
                    fence = None
                    out.append(self._s(line, "2") + "\n")
                else:
                    out.append(f"\x1b[36m{line}{_RESET}\n" if color and line else line + "\n")
                continue
            if m and not (m.group(1)[0] == "`" and "`" in line[m.end():]):
                fence = m.group(1)
                out.append(self._s(line, "2") + "\n")
                continue
            h = _HEADING.match(line)
            if h:
                out.append(self._s(line[h.end():].rstrip(" #") or line, "1") + "\n")
                continue
            if "`" in line or "**" in line:
                line = _INLINE.sub(self._inline, line)
            out.append(line + "\n")
        out.append("\n")

    def _inline(self, m: re.Match[str]) -> str:
        if m.group(1) is not None:
            code = m.group(2)
            if code.startswith(" ") and code.endswith(" ") and code.strip():
                code = code[1:-1]
            return f"\x1b[36m{code}{_RESET}" if self.color else code
        return f"\x1b[1m{m.group(3)}\x1b[22m" if self.color else m.group(3)
