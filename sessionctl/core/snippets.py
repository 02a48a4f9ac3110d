"""Search snippets: where a query's words occur in a text, and a short
one-line excerpt around them with the matches' spans.

Rules (SPEC §8.3): at most 160 code points (an ellipsis counts), cut at
characters, no newlines or tabs; each span covers a matched word as written
in the snippet (the whole word for a prefix match, each word of a phrase).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from .query import Term, tokens

__all__ = ["SNIPPET_MAX", "find_matches", "make_snippet"]

SNIPPET_MAX = 160
ELLIPSIS = "…"
#: Texts longer than this are only tokenized near the first likely match.
_WHOLE = 1 << 18
_WINDOW = 1 << 14


def _match_in(
    toks: list[tuple[int, int, str]], terms: Sequence[Term]
) -> list[tuple[int, int, int]]:
    """(start, end, term index) of each word matched by a term, in text order."""
    words = [t[2] for t in toks]
    found: list[tuple[int, int, int]] = []
    for ti, term in enumerate(terms):
        tw = term.words
        if not tw:
            continue
        k = len(tw)
        last = k - 1
        infix = tw[0] if term.infix is not None else None
        for i in range(len(words) - k + 1):
            ok = True
            for j in range(k):
                w = words[i + j]
                if infix is not None:
                    if infix not in w:
                        ok = False
                        break
                elif j == last and term.prefix:
                    if not w.startswith(tw[j]):
                        ok = False
                        break
                elif w != tw[j]:
                    ok = False
                    break
            if ok:
                for j in range(k):
                    found.append((toks[i + j][0], toks[i + j][1], ti))
    found.sort()
    return found


def _rough(term: Term) -> re.Pattern[str] | None:
    """A case-insensitive pattern for the term's first word (to find where
    to look in a long text); ``None`` when folding may change its letters."""
    words = term.words
    if not words or not words[0].isascii():
        return None
    return re.compile(re.escape(words[0]), re.IGNORECASE)


def find_matches(text: str, terms: Sequence[Term]) -> tuple[list[tuple[int, int, int]], int]:
    """The matched words of ``text`` as (start, end, term index), and how
    many distinct terms matched. A long text is tokenized only around the
    first place one of the terms (roughly) occurs."""
    offset = 0
    part = text
    if len(text) > _WHOLE:
        first = None
        for term in terms:
            pat = _rough(term)
            m = pat.search(text) if pat is not None else None
            if m is not None and (first is None or m.start() < first):
                first = m.start()
        if first is None:
            part = text[:_WHOLE]
        else:
            offset = max(0, first - _WINDOW)
            # Start at a word boundary so the first word is whole.
            while offset > 0 and text[offset - 1].isalnum():
                offset -= 1
            part = text[offset:first + _WINDOW]
    found = _match_in(tokens(part), terms)
    if offset:
        found = [(s + offset, e + offset, t) for s, e, t in found]
    return found, len({t for _, _, t in found})


def _flat(ch: str) -> bool:
    """Characters that become a space in a snippet (newlines, tabs, controls)."""
    o = ord(ch)
    return o < 32 or 0x7F <= o < 0xA0 or ch in "\u2028\u2029" or ch.isspace()


def make_snippet(
    text: str, matches: Sequence[tuple[int, int, int]], limit: int = SNIPPET_MAX
) -> tuple[str, list[tuple[int, int]]]:
    """An excerpt of ``text`` of at most ``limit`` code points around the first
    match, on one line (runs of whitespace and controls become one space),
    with ``…`` where text was cut, and the spans of the matches in it."""
    n = len(text)
    first = matches[0][0] if matches else 0
    # Begin a little before the first match, at a word start when one is near.
    start = first
    lead = 0
    while start > 0 and lead < limit // 4:
        start -= 1
        if not _flat(text[start]):
            lead += 1
    if start > 0:
        back = start
        while back < first and not _flat(text[back]):
            back += 1
        if back < first:
            start = back + 1
    while start < first and _flat(text[start]):
        start += 1
    if not matches:
        while start < n and _flat(text[start]):
            start += 1
    # Copy characters, folding whitespace runs, keeping each one's source place.
    back = start - 1
    while back >= 0 and _flat(text[back]):
        back -= 1
    cut_start = back >= 0  # text before the excerpt (not only whitespace)
    out: list[str] = []
    src: list[int] = []
    budget = limit - (1 if cut_start else 0)
    i = start
    while i < n and len(out) < budget:
        ch = text[i]
        if _flat(ch):
            if out and out[-1] != " ":
                out.append(" ")
                src.append(i)
            i += 1
            continue
        out.append(ch)
        src.append(i)
        i += 1
    # Whatever follows (other than trailing whitespace) means an ellipsis.
    rest = i
    while rest < n and _flat(text[rest]):
        rest += 1
    cut_end = rest < n
    if cut_end and len(out) + (1 if cut_start else 0) >= limit:
        # Room for the closing ellipsis.
        out.pop()
        src.pop()
    while out and out[-1] == " ":
        out.pop()
        src.pop()
    prefix = ELLIPSIS if cut_start else ""
    snippet = prefix + "".join(out) + (ELLIPSIS if cut_end else "")
    base = len(prefix)
    spans: list[tuple[int, int]] = []
    if src:
        lo_src, hi_src = src[0], src[-1]
        # Map source offsets to snippet offsets (src is increasing).
        pos = {s: k for k, s in enumerate(src)}
        for ms, me, _ in matches:
            if me <= lo_src or ms > hi_src:
                continue
            a = ms
            while a < me and a not in pos:
                a += 1
            b = me - 1
            while b >= a and b not in pos:
                b -= 1
            if a <= b:
                span = (base + pos[a], base + pos[b] + 1)
                if spans and spans[-1][1] >= span[0]:  # touching (CJK characters)
                    span = (spans[-1][0], max(span[1], spans[-1][1]))
                    spans.pop()
                spans.append(span)
    return snippet, spans
