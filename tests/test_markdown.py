"""Markdown export: the reference's layout, fence safety, placeholders, streaming."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from sessionctl.core.models import Message
from sessionctl.core.times import parse_ns
from sessionctl.export.markdown import CheckpointMark, ExportHeader, render_markdown

DATA = Path(__file__).parent / "data" / "markdown"
T0 = 1795532083 * 10**9  # 2026-11-24T14:54:43Z
STAMP = "2026-11-24T14:54:43Z"


# -- helpers ------------------------------------------------------------------


def msg(role: str, *blocks: dict[str, Any]) -> Message:
    return Message.from_dict({"role": role, "content": list(blocks)})


def text(t: str) -> dict[str, Any]:
    return {"type": "text", "text": t}


def tool_result(output: str, *, is_error: bool = False) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "tool_result", "tool_id": "t1", "output": output}
    if is_error:
        block["is_error"] = True
    return block


def header(**kw: Any) -> ExportHeader:
    fields: dict[str, Any] = {
        "id": "20261124-145443-0123456789abcdef",
        "title": "A title",
        "created_ns": T0,
        "updated_ns": T0,
        "message_count": 1,
    }
    fields.update(kw)
    return ExportHeader(**fields)


def render(h: ExportHeader, items: list[Message | CheckpointMark]) -> str:
    pieces: list[str] = []
    render_markdown(h, items, pieces.append)
    return "".join(pieces)


def body(items: list[Message | CheckpointMark]) -> str:
    """The document after the header."""
    doc = render(header(), items)
    _head, sep, rest = doc.partition("\n\n---\n\n")
    assert sep
    return rest


def load_fixture(session_id: str) -> tuple[dict[str, Any], list[Message]]:
    meta: dict[str, Any] = {}
    messages: list[Message] = []
    with open(DATA / f"{session_id}.jsonl", encoding="utf-8") as f:
        for line in f:
            record = json.loads(line)
            if record["type"] == "meta":
                meta = record
            elif record["type"] == "message":
                wrapped = Message._wrap(record["message"])
                assert wrapped is not None
                messages.append(wrapped)
    return meta, messages


def expected_md(session_id: str) -> str:
    return (DATA / f"{session_id}.md").read_bytes().decode("utf-8")


MD = MarkdownIt("commonmark")


def parsed_fences(doc: str) -> list[tuple[str, str]]:
    """(info, content) of every fenced block, as markdown-it reads them."""
    return [(t.info, t.content) for t in MD.parse(doc) if t.type == "fence"]


_OPEN = re.compile(r" {0,3}(`{3,})([^`]*)")


def read_fences(doc: str) -> list[tuple[str, str]]:
    """A tiny CommonMark fence reader for top-level backtick fences.

    Splits on ``\\n`` only, so unlike a full parser it keeps ``\\r`` and NUL:
    it checks the bytes, markdown-it checks what a reader sees.
    """
    lines = doc.split("\n")
    blocks: list[tuple[str, str]] = []
    i = 0
    while i < len(lines):
        m = _OPEN.fullmatch(lines[i])
        if not m:
            i += 1
            continue
        closing = re.compile(r" {0,3}`{" + str(len(m.group(1))) + r",}[ \t]*")
        content: list[str] = []
        i += 1
        while i < len(lines) and not closing.fullmatch(lines[i]):
            content.append(lines[i])
            i += 1
        assert i < len(lines), "fence left open"
        blocks.append((m.group(2).strip(), "".join(line + "\n" for line in content)))
        i += 1
    return blocks


# -- the reference's bytes ----------------------------------------------------


@pytest.mark.parametrize(
    "session_id",
    ["20261124-145443-8d88239efa5560f5", "20261124-145443-141870a45d1e0b70"],
)
def test_reference_exact_bytes(session_id: str) -> None:
    meta, messages = load_fixture(session_id)
    created, updated = parse_ns(meta["created_at"]), parse_ns(meta["updated_at"])
    assert created is not None and updated is not None
    h = ExportHeader(
        id=session_id,
        title=meta["title"],
        created_ns=created,
        updated_ns=updated,
        vendor=meta.get("vendor", ""),
        endpoint=meta.get("endpoint", ""),
        model=meta.get("model", ""),
        message_count=len(messages),
    )
    assert render(h, list(messages)) == expected_md(session_id)


def test_reference_layout_with_tools_and_documented_improvements() -> None:
    """A session with tool calls, errors, an image and a custom role.

    The reference's bytes, except for exactly the documented improvements.
    """
    session_id = "20261124-145443-d28262528cd3014e"
    _meta, messages = load_fixture(session_id)
    h = ExportHeader(id=session_id, title="", created_ns=T0, updated_ns=T0, message_count=11)
    expected = expected_md(session_id)

    # 1. An empty title is "Untitled session".
    expected = expected.replace("# \n\n", "# Untitled session\n\n", 1)
    # 2. Tool input is not HTML-escaped.
    assert "\\u003chtml\\u003e" in expected
    expected = expected.replace("\\u003chtml\\u003e", "<html>")
    # 3. Tool outputs containing ``` get a longer fence.
    outputs = [b.output for m in messages for b in m.content if b.type == "tool_result"]
    assert len(outputs) == 3 and all("```" in o and "````" not in o for o in outputs)
    for output in outputs:
        old = f"```\n{output}\n```\n"
        assert expected.count(old) == 1
        expected = expected.replace(old, f"````\n{output}\n````\n")
    # 4. The image is a placeholder with its type and decoded size.
    image = next(b for m in messages for b in m.content if b.type == "image")
    size = len(base64.b64decode(image.image_data))
    assert size == 70
    expected = expected.replace(
        "here is a screenshot\n\n", "here is a screenshot\n\n[image: image/png, 70 B]\n\n"
    )

    assert render(h, list(messages)) == expected


def test_reference_header_and_sections() -> None:
    doc = render(
        header(vendor="openai", endpoint="https://api.example.test/v1", model="gpt-5"),
        [
            msg("system", text("sys")),
            msg("user", text("hi"), text("")),
            msg("assistant"),
            msg("tool", text("custom")),
            msg("", text("no role")),
        ],
    )
    assert doc == (
        "# A title\n\n"
        "**Session:** 20261124-145443-0123456789abcdef\n"
        f"**Created:** {STAMP}\n"
        f"**Updated:** {STAMP}\n"
        "**Vendor:** openai / https://api.example.test/v1 / gpt-5\n"
        "**Messages:** 1\n\n---\n\n"
        "## System\n\nsys\n\n---\n\n"
        "## User\n\nhi\n\n\n\n---\n\n"
        "## Assistant\n\n---\n\n"
        "## tool\n\ncustom\n\n---\n\n"
        "## \n\nno role\n\n---\n\n"
    )


def test_times_are_utc_to_the_second() -> None:
    doc = render(header(created_ns=T0 + 999_999_999, updated_ns=T0 + 61 * 10**9), [])
    assert "**Created:** 2026-11-24T14:54:43Z\n" in doc
    assert "**Updated:** 2026-11-24T14:55:44Z\n" in doc


# -- header -------------------------------------------------------------------


@pytest.mark.parametrize("title", ["", "   ", "\n"])
def test_untitled(title: str) -> None:
    assert render(header(title=title), []).startswith("# Untitled session\n\n**Session:** ")


def test_title_line_breaks_become_spaces() -> None:
    doc = render(header(title="line\nbreak\r\nand\rmore"), [])
    assert doc.startswith("# line break and more\n\n")


@pytest.mark.parametrize(
    ("vendor", "endpoint", "model", "line"),
    [
        ("openai", "https://x/v1", "gpt-5", "**Vendor:** openai / https://x/v1 / gpt-5\n"),
        ("deepseek", "", "deepseek-reasoner", "**Vendor:** deepseek / deepseek-reasoner\n"),
        ("anthropic", "", "", "**Vendor:** anthropic\n"),
        ("", "https://x/v1", "gpt-5", "**Vendor:** https://x/v1 / gpt-5\n"),
        ("", "", "gpt-5", "**Vendor:** gpt-5\n"),
        ("", "default", "", "**Vendor:** default\n"),
        ("", "", "", None),
    ],
)
def test_vendor_line_joins_non_empty_parts(
    vendor: str, endpoint: str, model: str, line: str | None
) -> None:
    doc = render(header(vendor=vendor, endpoint=endpoint, model=model, message_count=4), [])
    before = f"**Updated:** {STAMP}\n"
    after = "**Messages:** 4\n\n---\n\n"
    assert doc.endswith(before + (line or "") + after)
    assert doc.count("**Vendor:**") == (1 if line else 0)


# -- tool calls ---------------------------------------------------------------


def test_tool_call_input_compact_ordered_not_html_escaped() -> None:
    block = {
        "type": "tool_use",
        "tool_name": "grep",
        "input": {"z": 1, "a": "<html> & 'q' 日本語 🚀", "m": [True, None, 1.5], "n": {}},
    }
    assert body([msg("assistant", block)]) == (
        "## Assistant\n\n"
        "**Tool Call:** `grep`\n"
        '```json\n{"z":1,"a":"<html> & \'q\' 日本語 🚀","m":[true,null,1.5],"n":{}}\n```\n\n'
        "---\n\n"
    )


def test_tool_call_absent_input_has_no_json_block_null_input_has() -> None:
    absent = {"type": "tool_use", "tool_name": "ls"}
    null = {"type": "tool_use", "tool_name": "ls", "input": None}
    assert body([msg("assistant", absent)]) == "## Assistant\n\n**Tool Call:** `ls`\n\n---\n\n"
    assert body([msg("assistant", null)]) == (
        "## Assistant\n\n**Tool Call:** `ls`\n```json\nnull\n```\n\n---\n\n"
    )


def test_tool_call_input_beyond_orjson() -> None:
    deep: Any = 1
    for _ in range(600):
        deep = [deep]
    value = {"big": 2**70, "deep": deep, "s": "a\ud800b"}
    doc = body([msg("assistant", {"type": "tool_use", "tool_name": "x", "input": value})])
    ((info, content),) = parsed_fences(doc)
    assert info == "json"
    assert content == '{"big":1180591620717411303424,"deep":' + "[" * 600 + "1" + "]" * 600 + (
        ',"s":"a\\ud800b"}\n'
    )
    assert json.loads(content) == value
    doc.encode("utf-8")


def test_tool_result_error_flag() -> None:
    assert body([msg("user", tool_result("boom", is_error=True))]) == (
        "## User\n\n**Tool Result** (error=true):\n```\nboom\n```\n\n---\n\n"
    )
    assert body([msg("user", tool_result("ok"))]) == (
        "## User\n\n**Tool Result** (error=false):\n```\nok\n```\n\n---\n\n"
    )


def test_tool_name_with_backticks_is_one_code_span() -> None:
    doc = body([msg("assistant", {"type": "tool_use", "tool_name": "a``b`"})])
    assert "**Tool Call:** ``` a``b` ```\n" in doc
    inline = next(t for t in MD.parse(doc) if t.type == "inline" and "Tool Call" in t.content)
    assert inline.children is not None
    assert [c.content for c in inline.children if c.type == "code_inline"] == ["a``b`"]


# -- fences -------------------------------------------------------------------

FENCE_CASES = [
    "plain",
    "",
    "\n",
    "ends with newline\n",
    "two trailing\n\n",
    "```",
    "````",
    "```\nnested fence\n```\nend",
    "````python\ncode\n````",
    "abc```",
    "```json\n{}\n``` \n",
    "   ```\n    ```",
    "`` `inline` ``",
    "~~~\nnot closed",
    "``````````",
    "x\n---\n## User\n",
]


@pytest.mark.parametrize("output", FENCE_CASES)
def test_tool_output_round_trips_through_commonmark(output: str) -> None:
    doc = body([msg("user", tool_result(output)), msg("assistant", text("after"))])
    assert parsed_fences(doc) == [("", output + "\n")]
    assert read_fences(doc) == [("", output + "\n")]
    # The rest of the document is intact: both sections and their breaks.
    tokens = MD.parse(doc)
    assert [t.type for t in tokens].count("hr") == 2
    assert [t.content for t in tokens if t.type == "inline"][-1] == "after"


@pytest.mark.parametrize("output", FENCE_CASES)
def test_tool_input_with_backticks_round_trips(output: str) -> None:
    value = {"cmd": output}
    doc = body([msg("assistant", {"type": "tool_use", "tool_name": "sh", "input": value})])
    ((info, content),) = parsed_fences(doc)
    assert info == "json"
    assert json.loads(content) == value


def test_fence_is_longer_than_longest_backtick_run() -> None:
    doc = body([msg("user", tool_result("a ``` b ````` c `` d"))])
    assert "\n``````\na ``` b ````` c `` d\n``````\n" in doc


def test_no_long_backtick_run_keeps_the_reference_bytes() -> None:
    output = "`code` and ``two`` but never three"
    assert body([msg("user", tool_result(output))]) == (
        f"## User\n\n**Tool Result** (error=false):\n```\n{output}\n```\n\n---\n\n"
    )


_ALPHABET = st.one_of(
    st.sampled_from(["`", "```", "````", "\n", " ", "\t", "~", "~~~", "-", "#", ">", "<", "\\"]),
    st.characters(codec="utf-8"),  # no lone surrogates: see test_lone_surrogates_*
)
_OUTPUTS = st.lists(_ALPHABET, max_size=40).map("".join)


@settings(max_examples=300, deadline=None)
@given(_OUTPUTS)
def test_property_fenced_output_reads_back_exactly(output: str) -> None:
    doc = body([msg("user", tool_result(output, is_error=True)), msg("assistant", text("end"))])
    # The raw bytes between the fences are the output, always.
    assert read_fences(doc) == [("", output + "\n")]
    # A CommonMark parser reads back the same, up to what CommonMark itself
    # normalises (CR and CRLF are line endings; NUL becomes U+FFFD).
    seen = (output + "\n").replace("\r\n", "\n").replace("\r", "\n").replace("\0", "\ufffd")
    assert parsed_fences(doc) == [("", seen)]
    if "\r" not in output and "\0" not in output:
        assert parsed_fences(doc) == [("", output + "\n")]


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(max_size=5), _OUTPUTS, max_size=3))
def test_property_tool_input_reads_back(value: dict[str, str]) -> None:
    doc = body([msg("assistant", {"type": "tool_use", "tool_name": "t", "input": value})])
    ((info, content),) = read_fences(doc)
    assert info == "json"
    assert json.loads(content) == value
    assert list(json.loads(content)) == list(value)  # stored key order


# -- images, thinking ---------------------------------------------------------


def b64(n: int) -> str:
    return base64.b64encode(bytes(range(256)) * (n // 256) + bytes(n % 256)).decode()


def test_image_block_placeholder() -> None:
    data = b64(70)
    doc = body(
        [
            msg(
                "user",
                text("look"),
                {"type": "image", "image_mime": "image/png", "image_data": data},
            )
        ]
    )
    assert doc == "## User\n\nlook\n\n[image: image/png, 70 B]\n\n---\n\n"
    assert data not in doc


@pytest.mark.parametrize(
    ("size", "shown"),
    [
        (0, "0 B"),
        (1, "1 B"),
        (1023, "1023 B"),
        (1024, "1.0 KB"),
        (12595, "12.3 KB"),
        (1048524, "1023.9 KB"),
        (1048575, "1.0 MB"),
        (3 * 1024 * 1024 + 512 * 1024, "3.5 MB"),
    ],
)
def test_image_sizes(size: int, shown: str) -> None:
    block = {"type": "image", "image_mime": "image/jpeg", "image_data": b64(size)}
    assert f"[image: image/jpeg, {shown}]\n\n" in body([msg("user", block)])


def test_image_size_ignores_missing_padding_and_line_breaks() -> None:
    data = b64(100)
    wrapped = "\n".join(data[i : i + 76] for i in range(0, len(data), 76)) + "\n"
    for variant in (data, data.rstrip("="), wrapped):
        block = {"type": "image", "image_mime": "image/gif", "image_data": variant}
        assert "[image: image/gif, 100 B]" in body([msg("user", block)])


def test_image_data_url_and_unknown_type() -> None:
    url = {"type": "image", "image_data": "data:image/webp;base64," + b64(2048)}
    bare = {"type": "image", "image_data": b64(5)}
    doc = body([msg("user", url, bare)])
    assert "[image: image/webp, 2.0 KB]\n\n[image: unknown type, 5 B]\n\n" in doc


def test_images_list_on_any_block() -> None:
    result = tool_result("shot taken") | {
        "images": [
            {"mime": "image/png", "base64": b64(3000)},
            {"mime": "image/jpeg", "base64": b64(10)},
            "not an image",
        ]
    }
    carrier = {"type": "image", "images": [{"mime": "image/png", "base64": b64(1)}]}
    doc = body([msg("user", result, carrier)])
    assert doc == (
        "## User\n\n**Tool Result** (error=false):\n```\nshot taken\n```\n\n"
        "[image: image/png, 2.9 KB]\n\n[image: image/jpeg, 10 B]\n\n"
        "[image: image/png, 1 B]\n\n---\n\n"
    )


def test_thinking_and_unknown_blocks_print_nothing() -> None:
    blocks = [
        {"type": "thinking", "text": "secret", "thinking_signature": "sig"},
        {"type": "redacted_thinking", "thinking_data": "xyz"},
        {"type": "reasoning", "reasoning_content": "hmm"},
        {"type": "text", "text": "visible", "reasoning_content": "hidden"},
        {"type": "from_the_future", "text": "?"},
    ]
    assert body([msg("assistant", *blocks)]) == "## Assistant\n\nvisible\n\n---\n\n"


def test_lone_surrogates_become_replacement_characters() -> None:
    doc = body([msg("user", text("bad \udcff byte"), tool_result("out \udc80"))])
    assert "bad \ufffd byte" in doc and "out \ufffd" in doc
    doc.encode("utf-8")


# -- checkpoints ----------------------------------------------------------------


def test_checkpoint_section() -> None:
    mark = CheckpointMark(
        tokens=1000,
        message_count=2,
        messages=[msg("user", text("[summary] so far")), msg("assistant", text("ok"))],
    )
    items: list[Message | CheckpointMark] = [
        msg("user", text("before")),
        mark,
        msg("user", text("after")),
    ]
    assert body(items) == (
        "## User\n\nbefore\n\n---\n\n"
        "## Checkpoint\n\n"
        "History compacted to 2 messages (1000 tokens).\n\n"
        "### User\n\n[summary] so far\n\n"
        "### Assistant\n\nok\n\n"
        "---\n\n"
        "## User\n\nafter\n\n---\n\n"
    )


def test_checkpoint_singular_roles_and_blocks() -> None:
    mark = CheckpointMark(
        tokens=1,
        message_count=1,
        messages=[msg("system", text("sum"), tool_result("```x")), msg("tool", text("t"))],
    )
    assert body([mark]) == (
        "## Checkpoint\n\n"
        "History compacted to 1 message (1 token).\n\n"
        "### System\n\nsum\n\n**Tool Result** (error=false):\n````\n```x\n````\n\n"
        "### tool\n\nt\n\n"
        "---\n\n"
    )


def test_checkpoint_without_messages() -> None:
    assert body([CheckpointMark(tokens=0, message_count=0)]) == (
        "## Checkpoint\n\nHistory compacted to 0 messages (0 tokens).\n\n---\n\n"
    )


# -- determinism, streaming -------------------------------------------------------


def sample_items() -> list[Message | CheckpointMark]:
    return [
        msg("user", text("hi")),
        msg("assistant", {"type": "tool_use", "tool_name": "t", "input": {"b": 1, "a": 2}}),
        CheckpointMark(tokens=5, message_count=1, messages=[msg("user", text("s"))]),
        msg("user", tool_result("```")),
    ]


def test_same_input_same_bytes() -> None:
    h = header(vendor="v", model="m")
    first = render(h, sample_items())
    assert render(h, sample_items()) == first
    copies = [
        Message.from_dict(i.to_dict()) if isinstance(i, Message) else i for i in sample_items()
    ]
    assert render(h, copies) == first


def test_streams_piece_by_piece() -> None:
    calls: list[str] = []
    seen_at_yield: list[int] = []

    def items() -> Iterator[Message | CheckpointMark]:
        for item in sample_items():
            seen_at_yield.append(len(calls))
            yield item

    render_markdown(header(), items(), calls.append)
    document = "".join(calls)
    assert len(calls) > 10
    assert max(map(len, calls)) < len(document) / 4
    # Items are consumed lazily: writing starts before the iterable is exhausted.
    assert seen_at_yield == sorted(seen_at_yield) and seen_at_yield[0] > 0
    assert len(set(seen_at_yield)) == len(seen_at_yield)
    assert all(isinstance(c, str) for c in calls)


def test_large_output_is_written_whole_not_copied_into_a_document() -> None:
    big = "x" * 1_000_000
    calls: list[str] = []
    render_markdown(header(), [msg("user", tool_result(big))], calls.append)
    assert big in calls  # written as its own piece


_block_dicts = st.fixed_dictionaries(
    {"type": st.sampled_from(["text", "tool_use", "tool_result", "image", "thinking"])},
    optional={"text": st.text(max_size=30), "tool_name": st.text(max_size=8)
              | st.sampled_from(["a\nb", "x\r\ny", "`q`", "\ud800"]),
              "input": st.dictionaries(st.text(max_size=4), st.integers(), max_size=2),
              "output": st.text(max_size=30), "is_error": st.booleans(),
              "image_mime": st.just("image/png"), "image_data": st.text(max_size=8)},
)


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=12), st.lists(_block_dicts, max_size=4))
def test_nest_section_is_the_nested_rendering(role: str, blocks: list[dict[str, Any]]) -> None:
    """The export's direct rendering of a message object is render_item's;
    rendered for the history, then nested, it reads exactly as the same
    message rendered inside a checkpoint section."""
    from sessionctl.export.markdown import message_section, nest_section, render_item

    raw: dict[str, Any] = {"role": role, "content": blocks}
    m = Message.from_dict(raw)
    section: list[str] = []
    render_item(m, section.append)
    assert message_section(raw) == "".join(section)  # the export's hot path
    inside: list[str] = []
    render_item(CheckpointMark(5, 1, [m]), inside.append)
    nested: list[str] = []
    render_item(CheckpointMark(5, 1, [], (nest_section("".join(section)),)), nested.append)
    assert "".join(nested) == "".join(inside)


def test_nest_section_refuses_other_text() -> None:
    from sessionctl.export.markdown import nest_section

    with pytest.raises(ValueError):
        nest_section("# Title\n\n")


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=6),
    lambda inner: (st.lists(inner, max_size=3)
                   | st.dictionaries(st.text(max_size=6), inner, max_size=3)),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(st.fixed_dictionaries(
    {"role": st.text(max_size=12),
     "content": st.none() | st.lists(_block_dicts, max_size=3)},
    optional={"id": st.none() | st.text(max_size=4)},
))
def test_message_section_renders_as_render_item(value: Any) -> None:
    """For every message object (the record reader passes only those), the
    export's hot path writes the section render_item writes."""
    from sessionctl.core.models import is_message_object
    from sessionctl.export.markdown import message_section, render_item

    assume(is_message_object(value))
    pieces: list[str] = []
    render_item(Message.from_dict(value), pieces.append)
    assert message_section(value) == "".join(pieces)


def test_message_section_says_when_numbers_may_have_lost_digits() -> None:
    """Read by orjson alone (exact=False), tool input showing a number in
    exponent form (what orjson makes of an integer beyond 64 bits) raises
    InexactNumber; read exactly (the default), it renders as it is."""
    from sessionctl.core.records import InexactNumber
    from sessionctl.export.markdown import message_section

    def tool(value: Any) -> dict[str, Any]:
        return {"role": "assistant", "content": [
            {"type": "tool_use", "tool_name": "t", "input": value}]}

    with pytest.raises(InexactNumber):
        message_section(tool({"n": 1.8446744073709552e19}), exact=False)
    with pytest.raises(InexactNumber):
        message_section(tool({"e+": 1}), exact=False)  # a false alarm costs one re-read
    for value in ({"n": 2**64}, {"n": 1e20}, {"e+": 1}):
        section = message_section(tool(value))
        assert section is not None and "```json\n" in section
    assert str(2**64) in (message_section(tool({"n": 2**64})) or "")
    plain = tool({"n": 5, "s": "1e5"})
    assert message_section(plain, exact=False) == message_section(plain)


def test_tool_headings_remembered_only_for_short_names() -> None:
    """Memory stays bounded by the largest record: a long tool name is
    rendered, never kept; short ones are, up to a few hundred."""
    from sessionctl.export import markdown
    from sessionctl.export.markdown import message_section

    long_name, short = "x" * 5000, "read_file_for_the_heading_test"
    for name in (long_name, short):
        section = message_section({"role": "assistant", "content": [
            {"type": "tool_use", "tool_name": name}]})
        assert section is not None and f"`{name}`" in section
    assert long_name not in markdown._CALL_HEADS and short in markdown._CALL_HEADS
    assert len(markdown._CALL_HEADS) <= 512
