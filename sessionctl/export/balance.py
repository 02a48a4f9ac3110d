"""What a message's text leaves open: a fenced code block or an HTML block
that its markdown never closes would swallow every later section of an
export (issue #16). :func:`open_block_closer` gives the line that closes it."""

from __future__ import annotations

import re
from typing import Any

__all__ = ["open_block_closer"]


# A line that may open a block only its own end marker closes (a code fence,
# an HTML block of CommonMark types 1-5): what an unbalanced text must have.
_OPENER = re.compile(r"^ {0,3}(?:`{3,}|~{3,}|<(?:script|pre|style|textarea|!|\?))",
                     re.MULTILINE | re.IGNORECASE)
# Lines that start a container (block quote, list item) or an HTML block:
# where a plain fence scan would be wrong, so a real parser decides.
_NESTING = re.compile(r"^ {0,3}(?:[<>]|[-+*](?:[ \t]|$)|[0-9]{1,9}[.)](?:[ \t]|$))",
                      re.MULTILINE)
_INDENTED_FENCE = re.compile(r"^ {1,3}(?:`{3,}|~{3,})", re.MULTILINE)
_HTML_LINE = re.compile(r"^ {0,3}<", re.MULTILINE)
_FENCE_LINE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$", re.MULTILINE)
_HTML_CLOSERS = (
    (re.compile(r" {0,3}<(script|pre|style|textarea)", re.IGNORECASE), ""),
    (re.compile(r" {0,3}<!--"), "-->"),
    (re.compile(r" {0,3}<\?"), "?>"),
    (re.compile(r" {0,3}<!\[CDATA\["), "]]>"),
    (re.compile(r" {0,3}<![A-Za-z]"), ">"),
)
# What follows every message: a thematic break and the next heading.
_PROBE = "\n\n---\n\n## Next\n"
_parser: Any = None


def open_block_closer(text: str) -> str:
    """What must follow ``text`` so that nothing it opened is still open
    after it (CommonMark): ``""`` when it is balanced, else a line ending
    and the closing line (a fence as long as the open one, ``</pre>``,
    ``-->`` ...).

    Only a code fence or an HTML block of types 1-5 at the top level
    survives the blank line and the ``---`` that follow a message (containers
    and other blocks end there). Text with no line that could open one is
    balanced; text whose fence lines a fence scan reads exactly (no
    containers or HTML, or every fence line at column 0) is read by one;
    the rest (rare) by markdown-it, the parser rich uses.
    """
    if "\r" in text:  # CommonMark's other line endings
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if _OPENER.search(text) is None:
        return ""
    if _NESTING.search(text) is None or (
        _INDENTED_FENCE.search(text) is None and _HTML_LINE.search(text) is None
    ):
        # No containers; or every fence line at column 0, which no container
        # can hold (a list item needs indented lines, a quote its ">"): the
        # fence scan reads them as a CommonMark parser does.
        closer = _open_fence(text) or ""
    else:
        closer = _parsed_closer(text)
    if not closer:
        return ""
    return closer if text.endswith("\n") else "\n" + closer


def _open_fence(text: str) -> str | None:
    """The fence still open at the end of ``text`` (leaf blocks only)."""
    open_fence: str | None = None
    for m in _FENCE_LINE.finditer(text):
        run, rest = m.group(1), m.group(2)
        if open_fence is None:
            if run[0] == "`" and "`" in rest:  # an inline code span, not a fence
                continue
            open_fence = run
        elif run[0] == open_fence[0] and len(run) >= len(open_fence) and not rest.strip(" \t"):
            open_fence = None
    return open_fence


def _parsed_closer(text: str) -> str:
    global _parser
    if _parser is None:
        from markdown_it import MarkdownIt

        _parser = MarkdownIt("commonmark")
        _parser.core.ruler.disable(["inline", "text_join"])  # blocks are enough
    tokens = _parser.parse(text + _PROBE)
    top = [t.type for t in tokens if t.level == 0]
    if top[-3:] == ["hr", "heading_open", "heading_close"]:
        return ""
    last = next((t for t in reversed(tokens) if t.level == 0), None)
    if last is not None and last.type == "fence":
        return str(last.markup)
    if last is not None and last.type == "html_block":
        for pattern, closer in _HTML_CLOSERS:
            m = pattern.match(last.content)
            if m:
                return closer or f"</{m.group(1).lower()}>"
    return ""


