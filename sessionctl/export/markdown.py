"""Markdown export in the reference's layout, streamed and fence-safe.

The layout is the one of ggcode's ``ExportSessionMarkdown`` (v1.3.33), byte
for byte wherever the reference's output was already sound::

    # {title}                       (blank title: "# Untitled session")

    **Session:** {id}
    **Created:** 2026-11-24T14:54:43Z
    **Updated:** 2026-11-24T14:54:43Z
    **Vendor:** {vendor} / {endpoint} / {model}
    **Messages:** {n}

    ---

    ## User                         (## Assistant, ## System, ## {role})

    {text block, verbatim}

    **Tool Call:** `{tool_name}`
    ```json
    {input as compact JSON}
    ```

    **Tool Result** (error=false):
    ```
    {output}
    ```

    ---

Differences from the reference, all deliberate (SPEC §4, §5, §7):

- A title that is empty or blank renders as ``# Untitled session``.
- ``**Vendor:**`` joins the non-empty parts of vendor / endpoint / model with
  `` / `` and is left out when all three are empty (the reference required
  the vendor).
- Tool input is ``orjson.dumps(input)``: compact, stored key order, not
  HTML-escaped (``<html>``, not ``\\u003chtml\\u003e``). A block without an
  ``input`` key gets no json block; ``"input": null`` prints ``null``.
- Every code fence is a run of backticks longer than the longest backtick run
  in its content, and at least 3 (so content without a run of 3+ backticks
  keeps the reference's exact bytes). The content is written verbatim between
  an opening line and ``\\n`` + closing fence, so a CommonMark parser reads the
  block back as exactly ``content + "\\n"`` -- for every content, including
  content ending in a newline or empty. (CommonMark itself turns ``\\r`` into
  a line ending and NUL into U+FFFD; the bytes in the document are still the
  original ones.)
- Images never appear as base64. An ``image`` block, and each entry of a
  block's ``images`` list (``{"mime", "base64"}``), renders as one paragraph::

      [image: image/png, 68 B]
      [image: image/jpeg, 12.3 KB]
      [image: unknown type, 1.5 MB]

  The size is the decoded size computed from the base64 text (whitespace and
  ``=`` padding ignored; a ``data:<mime>;base64,`` prefix is understood):
  ``N B`` below 1024 bytes, else one decimal in KB, MB, GB or TB (1 KB = 1024
  bytes). An empty MIME type shows as ``unknown type``.
- Every message closes what its text opened: a text block that leaves a
  fenced code block or an HTML block (``<pre>``, ``<!--`` ...) open at its
  end -- a reply cut off inside a code block -- is followed by the line that
  closes it (the fence, ``</pre>``, ``-->`` ...), so every section still
  starts with its own heading. Balanced text keeps its exact bytes.
- Thinking, redacted_thinking, reasoning and any other unknown block types
  print nothing, as in the reference; so do ``reasoning_content`` and the
  ``thinking_*`` fields.
- A :class:`CheckpointMark` renders as::

      ## Checkpoint

      History compacted to 2 messages (1000 tokens).

      ### User

      {blocks, rendered as above}

      ### Assistant

      ...

      ---

  ("1 message", "1 token" in the singular.) A checkpoint without messages of
  its own (the v1.3.2xx form) shows only the sentence.
- Line breaks inside one-line fields (title, id, vendor parts, role, tool
  name, image MIME) are shown as spaces, so they cannot break the header or a
  heading; a tool name containing backticks gets a longer code span.
- The document is always valid Unicode text: lone surrogates (what invalid
  UTF-8 in a session file decodes to) become U+FFFD in text and output, and
  ``\\u`` escapes inside JSON.

Text blocks are markdown written by the model and stay verbatim, as in the
reference. The same input always gives the same bytes, and ``write`` is called
piece by piece (never with the whole document), so memory stays bounded by
the largest record.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

from ..core.models import Message
from ..core.records import InexactNumber
from ..core.times import utc_second
from .balance import open_block_closer

__all__ = [
    "CheckpointMark",
    "ExportHeader",
    "message_section",
    "nest_section",
    "render_header",
    "render_item",
    "render_markdown",
]

Write = Callable[[str], object]

_ROLE_HEADINGS = {"user": "User", "assistant": "Assistant", "system": "System"}
_HEADINGS = {role: f"## {heading}\n\n" for role, heading in _ROLE_HEADINGS.items()}
_CALL_HEADS: dict[str, str] = {}  # tool name -> its call's first line (see _call_head)
_RESULT_HEADS = ("**Tool Result** (error=false):\n", "**Tool Result** (error=true):\n")
_UNTITLED = "Untitled session"
_FENCE_RUN = re.compile(r"`{3,}")
_TICK_RUN = re.compile(r"`+")
_SURROGATE = re.compile("[\ud800-\udfff]")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_B64_SPACE = (" ", "\t", "\r", "\n")
_PIECE = 1 << 16  # text this long is written as a piece of its own
_SIZE_UNITS = ("KB", "MB", "GB", "TB")


@dataclass(frozen=True)
class ExportHeader:
    """What the document's header shows."""

    id: str
    title: str
    created_ns: int
    updated_ns: int
    vendor: str = ""
    endpoint: str = ""
    model: str = ""
    message_count: int = 0


@dataclass(frozen=True)
class CheckpointMark:
    """A compaction point in the history: what the history was compacted to."""

    tokens: int
    message_count: int
    messages: list[Message] = field(default_factory=list)
    #: Further messages shown, already rendered (see :func:`nest_section`).
    nested: tuple[str, ...] = ()


def render_markdown(
    header: ExportHeader,
    items: Iterable[Message | CheckpointMark],
    write: Write,
) -> None:
    """Write the document piece by piece through ``write`` (see the module doc)."""
    _write_header(header, write)
    for item in items:
        if isinstance(item, CheckpointMark):
            _write_checkpoint(item, write)
        else:
            _write_message(item, "##", write)
            write("---\n\n")


def render_header(header: ExportHeader, write: Write) -> None:
    """Write the document's header (title, metadata, the first break)."""
    _write_header(header, write)


def render_item(item: Message | CheckpointMark, write: Write) -> None:
    """Write one message section (closed by ``---``) or checkpoint section."""
    if isinstance(item, CheckpointMark):
        _write_checkpoint(item, write)
    else:
        _write_message(item, "##", write)
        write("---\n\n")


def nest_section(section: str) -> str:
    """A message's section as :func:`render_item` writes it, in the form it
    takes inside a checkpoint section: the heading one level deeper, without
    the closing break (so a streamed export can reuse a rendered message)."""
    if not section.startswith("## ") or not section.endswith("---\n\n"):
        raise ValueError("not a message section")
    return "#" + section[: -len("---\n\n")]


# -- header, sections ---------------------------------------------------------


def _write_header(header: ExportHeader, write: Write) -> None:
    title = _one_line(header.title)
    write(f"# {title if title.strip() else _UNTITLED}\n\n")
    write(f"**Session:** {_one_line(header.id)}\n")
    write(f"**Created:** {utc_second(header.created_ns)}\n")
    write(f"**Updated:** {utc_second(header.updated_ns)}\n")
    parts = [_one_line(p) for p in (header.vendor, header.endpoint, header.model) if p]
    if parts:
        write(f"**Vendor:** {' / '.join(parts)}\n")
    # Same bytes as the reference: the header ends with a thematic break.
    write(f"**Messages:** {header.message_count}\n\n---\n\n")


def _write_checkpoint(mark: CheckpointMark, write: Write) -> None:
    write("## Checkpoint\n\n")
    messages = _plural(mark.message_count, "message")
    tokens = _plural(mark.tokens, "token")
    write(f"History compacted to {messages} ({tokens}).\n\n")
    for message in mark.messages:
        _write_message(message, "###", write)
    for section in mark.nested:
        write(section)
    write("---\n\n")


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def message_section(m: dict[str, Any], *, exact: bool = True) -> str:
    """:func:`render_item` of a message object as read from a file (the
    record reader has checked that it is one: a string role, a list of
    block objects or null), without wrapping it: the hot path of a
    streamed export.

    With ``exact=False`` (``m`` was read by orjson alone, which reads
    integers beyond 64 bits as floats), tool input showing a number in
    exponent form raises :class:`~sessionctl.core.records.InexactNumber`, so
    the caller reads the line again exactly.
    """
    role: str = m["role"]
    out = [_HEADINGS.get(role) or f"## {_one_line(role)}\n\n"]
    _blocks(m.get("content") or (), out, not exact)
    out.append("---\n\n")
    return "".join(out)


def _write_message(message: Message, level: str, write: Write) -> None:
    # The blocks' JSON objects are read directly (built ContentBlocks only
    # when the message's content was changed).
    built = message._content
    blocks = (b._raw for b in built) if built is not None else message._raw.get("content") or ()
    out = [f"{level} {_ROLE_HEADINGS.get(message.role) or _one_line(message.role)}\n\n"]
    _blocks(blocks, out, False)
    if max(map(len, out)) < _PIECE:
        write("".join(out))
    else:  # big text is written as its own piece, not copied into another string
        for piece in out:
            write(piece)


def _blocks(blocks: Iterable[Any], out: list[str], check: bool) -> bool:
    """Append the markdown of content blocks to ``out``, piece by piece;
    false (and stop) at a block that is not an object. ``check``: raise
    InexactNumber at tool input that may have lost digits."""
    # Hot path of an export (100,000s of blocks): inlined, few calls.
    w = out.append
    for d in blocks:
        if not isinstance(d, dict):
            return False
        kind = d.get("type")
        if kind == "text":
            text = d.get("text")
            if not isinstance(text, str):
                text = ""
            if not text.isascii():
                text = _clean(text)
            w(text)
            # A reply cut off inside a code block must not swallow the rest
            # of the document: close what the text left open.
            if ("``" in text or "~~" in text or "<" in text) and (
                closer := open_block_closer(text)
            ):
                w(closer)
            w("\n\n")
        elif kind == "tool_use":
            name = d.get("tool_name")
            head = _CALL_HEADS.get(name) if isinstance(name, str) else None
            w(head or _call_head(name))
            # Absent input: no json block (as the reference); JSON null: "null".
            if "input" in d:
                text = _json(d["input"])
                # orjson writes the float of an integer beyond 64 bits as
                # 1.8446744073709552e+19: only then is the line read again.
                if check and "e+" in text:
                    raise InexactNumber
                _fenced(text, "json", w)
            else:
                w("\n")
        elif kind == "tool_result":
            w(_RESULT_HEADS[d.get("is_error") is True])
            text = d.get("output")
            if not isinstance(text, str):
                text = ""
            elif not text.isascii():
                text = _clean(text)
            _fenced(text, "", w)
        elif kind == "image":
            mime, data, shown = _str_of(d, "image_mime"), _str_of(d, "image_data"), d.get("images")
            if data or mime or not (isinstance(shown, list) and shown):
                w(_image_placeholder(mime, data))
        # thinking, redacted_thinking, reasoning, unknown types: nothing, as the reference.
        listed = d.get("images")
        if listed and isinstance(listed, list):
            for image in listed:
                if isinstance(image, dict):
                    w(_image_placeholder(_str_of(image, "mime"), _str_of(image, "base64")))
    return True


def _call_head(name: object) -> str:
    """A tool call's first line (remembered for the first few hundred short
    tool names: a session uses a handful, again and again; memory stays
    small whatever a file holds)."""
    head = f"**Tool Call:** {_code_span(name if isinstance(name, str) else '')}\n"
    if isinstance(name, str) and len(name) <= 100 and len(_CALL_HEADS) < 512:
        _CALL_HEADS[name] = head
    return head


def _str_of(d: dict[str, Any], key: str) -> str:
    v = d.get(key)
    return v if isinstance(v, str) else ""


# -- fences and spans ---------------------------------------------------------


def _fence(content: str) -> str:
    """Backticks longer than any run of 3+ in ``content``; at least 3."""
    if "```" not in content:
        return "```"
    longest = max(len(run) for run in _FENCE_RUN.findall(content))
    return "`" * (longest + 1)


def _fenced(content: str, info: str, write: Write) -> None:
    """A fenced code block a CommonMark parser reads back as ``content + "\\n"``.

    The closing fence is preceded by ``\\n`` whether or not ``content`` ends
    with one (the reference's bytes), so the read-back rule has no exception;
    no line of ``content`` can close the block, since the fence is longer than
    every backtick run in it. A blank line follows. ``content`` is a piece of
    its own (never copied into another string).
    """
    fence = _fence(content)
    write(f"{fence}{info}\n")
    write(content)
    write(f"\n{fence}\n\n")


def _code_span(text: str) -> str:
    """An inline code span showing ``text`` (the reference's bytes without backticks)."""
    text = _one_line(text)
    if "`" not in text:
        return f"`{text}`"
    ticks = "`" * (max(len(run) for run in _TICK_RUN.findall(text)) + 1)
    # CommonMark strips one space on each side when both are there; the
    # padding also keeps a leading or trailing backtick off the delimiter.
    return f"{ticks} {text} {ticks}"


# -- values -------------------------------------------------------------------


def _clean(text: str) -> str:
    """``text`` as valid Unicode: lone surrogates become U+FFFD."""
    if text.isascii() or _SURROGATE.search(text) is None:  # isascii: fast, in C
        return text
    return _SURROGATE.sub("\ufffd", text)


def _one_line(text: str) -> str:
    """A one-line field: line breaks shown as spaces."""
    if "\n" not in text and "\r" not in text:
        return _clean(text)
    return _LINE_BREAK.sub(" ", _clean(text))


def _json(value: Any) -> str:
    """Compact JSON in stored key order, not HTML-escaped."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # orjson.JSONEncodeError: huge integers, lone surrogates, depth
        return _json_fallback(value)


class _Raw(str):
    """Literal JSON text on :func:`_json_fallback`'s stack."""

    __slots__ = ()


def _json_fallback(value: Any) -> str:
    """What orjson refuses, written the same way without recursion.

    Values nested deeper than orjson writes (the reader accepts up to 1024
    levels) would overflow the standard library's recursive encoder.
    """
    out: list[str] = []
    stack: list[Any] = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, _Raw):
            out.append(item)
        elif isinstance(item, dict):
            pieces: list[Any] = [_Raw("{")]
            for i, (key, val) in enumerate(item.items()):
                pieces.append(_Raw(("," if i else "") + _json_string(str(key)) + ":"))
                pieces.append(val)
            pieces.append(_Raw("}"))
            stack.extend(reversed(pieces))
        elif isinstance(item, list):
            pieces = [_Raw("[")]
            for i, val in enumerate(item):
                if i:
                    pieces.append(_Raw(","))
                pieces.append(val)
            pieces.append(_Raw("]"))
            stack.extend(reversed(pieces))
        elif isinstance(item, str):
            out.append(_json_string(item))
        elif isinstance(item, bool) or item is None:
            out.append(orjson.dumps(item).decode())
        elif isinstance(item, int):
            out.append(int.__repr__(item))  # beyond 64 bits
        elif isinstance(item, float):
            out.append(orjson.dumps(item).decode())
        else:
            out.append(json.dumps(item))
    return "".join(out)


def _json_string(text: str) -> str:
    # A lone surrogate's escape means the same JSON string and keeps the
    # document valid UTF-8.
    encoded = json.dumps(text, ensure_ascii=False)
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", encoded)


def _image_placeholder(mime: str, data: str) -> str:
    start = 0
    if data.startswith("data:"):
        comma = data.find(",")
        if comma >= 0:
            if not mime:
                mime = data[5:comma].split(";", 1)[0]
            start = comma + 1
    mime = _one_line(mime).strip() or "unknown type"
    return f"[image: {mime}, {_human_size(_decoded_size(data, start))}]\n\n"


def _decoded_size(data: str, start: int = 0) -> int:
    """Bytes that the base64 text ``data[start:]`` decodes to, without decoding it."""
    end = len(data)
    while end > start and data[end - 1] in _B64_SPACE:
        end -= 1
    pad = 0
    while pad < 2 and end - pad > start and data[end - 1 - pad] == "=":
        pad += 1
    chars = end - start - pad - sum(data.count(c, start, end) for c in _B64_SPACE)
    return max(chars, 0) * 3 // 4


def _human_size(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    value = n / 1024
    for unit in _SIZE_UNITS:
        # Move up a unit when rounding would show 1024.0.
        if round(value, 1) < 1024 or unit == _SIZE_UNITS[-1]:
            return f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")
