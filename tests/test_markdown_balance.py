"""Markdown export: every message closes what its text opened (issue #16, item 4).

A reply cut off inside a fenced code block (or an HTML block such as
``<pre>``) used to put every later message inside that block. markdown-it, a
CommonMark parser, checks the documents: as many ``##`` sections as messages,
and text that was balanced keeps its exact bytes.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from sessionctl.core.models import Message
from sessionctl.export.balance import open_block_closer
from sessionctl.export.markdown import ExportHeader, render_markdown

MD = MarkdownIt("commonmark")
T0 = 1795532083 * 10**9


def msg(role: str, text: str) -> Message:
    return Message.from_dict({"role": role, "content": [{"type": "text", "text": text}]})


def export(messages: list[Message]) -> str:
    pieces: list[str] = []
    head = ExportHeader(id="20261124-145443-0123456789abcdef", title="t", created_ns=T0,
                        updated_ns=T0, message_count=len(messages))
    render_markdown(head, messages, pieces.append)
    return "".join(pieces)


def sections(doc: str) -> list[str]:
    """The text of every top-level ``##`` heading, as a reader sees them."""
    tokens = MD.parse(doc)
    return [tokens[i + 1].content for i, t in enumerate(tokens)
            if t.type == "heading_open" and t.tag == "h2" and t.level == 0]


def balanced(text: str) -> bool:
    """markdown-it's own answer: is the thematic break and heading that
    follow a message still read as such after ``text``?"""
    tokens = [t.type for t in MD.parse(text + "\n\n---\n\n## Next\n") if t.level == 0]
    return tokens[-3:] == ["hr", "heading_open", "heading_close"]


CUT_OFF = "Here is the fix:\n\n```python\ndef f():\n    return 1\n"


def test_reply_cut_off_inside_a_fence_does_not_swallow_later_messages() -> None:
    messages = [
        msg("user", "first question"),
        msg("assistant", CUT_OFF),
        msg("user", "second question"),
        msg("assistant", "an answer"),
        msg("user", "third"),
        msg("assistant", "done"),
    ]
    doc = export(messages)
    assert sections(doc) == ["User", "Assistant", "User", "Assistant", "User", "Assistant"]
    # The cut-off code is still code, closed right after it.
    assert CUT_OFF + "```\n\n---\n\n## User" in doc
    fences = [t for t in MD.parse(doc) if t.type == "fence"]
    assert [f.content for f in fences] == ["def f():\n    return 1\n"]


@pytest.mark.parametrize(("text", "closer"), [
    ("```py\ncode", "\n```"),
    ("````\n```\nstill code\n", "````"),
    ("~~~\ncode\n```", "\n~~~"),
    ("text\n   ```\ncode", "\n```"),
    ("<pre>\nunclosed", "\n</pre>"),
    ("<SCRIPT>\nx = 1", "\n</script>"),
    ("<!-- a comment", "\n-->"),
    ("<?php echo 1;", "\n?>"),
    ("<![CDATA[ data", "\n]]>"),
    ("<!DOCTYPE html", "\n>"),
    # inside a list item the fence is not top level: containers end at the break
    ("- a\n\n  ```\n  x\n```\ny", "\n```"),
    ("line\r```\rcode", "\n```"),
])
def test_open_blocks_are_closed(text: str, closer: str) -> None:
    assert not balanced(text)
    assert open_block_closer(text) == closer
    assert balanced(text + closer)


@pytest.mark.parametrize("text", [
    "plain prose",
    "```py\ncode\n```",
    "a ```inline``` span",
    "````\n```\n````",
    "    ```\n    indented code",
    "- ```\n  in a list item",
    "> ```\n> in a quote",
    "<div>\n```\n",
    "<pre>x</pre>",
    "```foo`bar\nnot a fence",
])
def test_balanced_text_keeps_its_bytes(text: str) -> None:
    assert balanced(text)
    assert open_block_closer(text) == ""
    assert f"## User\n\n{text}\n\n---\n\n" in export([msg("user", text)])


LINES = st.sampled_from([
    "", "text", "```", "```py", "````", "~~~", "~~~~", "   ```", "    ```", "- item",
    "- ```", "  ```", "1. one", "> quote", "> ```", "<pre>", "</pre>", "<!--", "-->",
    "<div>", "<?x", "?>", "<!X", "`code`", "```a`b", "  - nested", "\t```", "---", "***",
    "Title", "===", "<script>", "</script>", "<![CDATA[", "]]>", ">",
])


@settings(max_examples=400, deadline=None)
@given(st.lists(LINES, max_size=12), st.sampled_from(["", "\n", "\r\n"]))
def test_property_every_message_starts_a_section(lines: list[str], end: str) -> None:
    text = "\n".join(lines) + end
    doc = export([msg("user", "before"), msg("assistant", text), msg("user", "after")])
    roles = [s for s in sections(doc) if s in ("User", "Assistant")]
    assert roles == ["User", "Assistant", "User"]
    assert doc.endswith("## User\n\nafter\n\n---\n\n")
    if balanced(text):  # the same bytes as before
        assert f"## Assistant\n\n{text}\n\n---\n\n" in doc
    else:
        closer = open_block_closer(text)
        assert closer
        assert f"## Assistant\n\n{text}{closer}\n\n---\n\n" in doc


def test_property_sections_equal_messages_for_generated_text() -> None:
    texts: list[Any] = [CUT_OFF, "<pre>\nx", "ok", "~~~\n", "- ```\n  x", "<!--"]
    doc = export([msg("assistant", t) for t in texts])
    assert len(sections(doc)) == len(texts)
