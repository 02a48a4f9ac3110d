"""Snippet rules (SPEC §8.3): at most 160 code points with the ellipses, cut
at characters, one line, spans on the matched words as written."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from sessionctl.core.query import fold, parse_query
from sessionctl.core.snippets import SNIPPET_MAX, find_matches, make_snippet


def snip(text: str, query: str) -> tuple[str, list[tuple[int, int]]]:
    terms = parse_query([query]).positive_terms
    matches, _ = find_matches(text, terms)
    return make_snippet(text, matches)


def check(snippet: str, spans: list[tuple[int, int]]) -> None:
    assert len(snippet) <= SNIPPET_MAX
    assert not any(c in snippet for c in "\n\r\t\x0b\x0c\u2028\u2029")
    assert all(not 0xD800 <= ord(c) <= 0xDFFF for c in snippet)
    for a, b in spans:
        assert 0 <= a < b <= len(snippet)


def test_short_text_whole() -> None:
    s, spans = snip("Fix the\tindex race\nnow", "index race")
    assert s == "Fix the index race now"
    assert [s[a:b] for a, b in spans] == ["index", "race"]


def test_long_text_cut_around_the_match_with_ellipses() -> None:
    text = "word " * 200 + "the Refactoring happened " + "tail " * 200
    s, spans = snip(text, "refactor")
    check(s, spans)
    assert s.startswith("…") and s.endswith("…") and len(s) == SNIPPET_MAX
    [(a, b)] = spans
    assert s[a:b] == "Refactoring"  # the whole word for a prefix match


def test_phrase_spans_each_word() -> None:
    s, spans = snip("we saw an Index  Race today", '"index race"')
    assert [s[a:b] for a, b in spans] == ["Index", "Race"]


def test_multibyte_text_is_cut_at_characters() -> None:
    text = "🙂é日本" * 100 + " needle " + "😀ü" * 100
    s, spans = snip(text, "needle")
    check(s, spans)
    assert [s[a:b] for a, b in spans] == ["needle"]


def test_cjk_substring_span() -> None:
    s, spans = snip("これは日本語のテキストです", "テキスト")
    assert [s[a:b] for a, b in spans] == ["テキスト"]


def test_diacritics_span() -> None:
    s, spans = snip("Un CAFÉ noir", "cafe")
    assert [s[a:b] for a, b in spans] == ["CAFÉ"]


def test_no_match_gives_the_start() -> None:
    s, spans = snip("  \n\n first words of a long text " + "x" * 500, "zzz")
    assert s.startswith("first words") and spans == []
    check(s, spans)


def test_match_near_the_end_of_a_huge_text() -> None:
    text = "a" * 1000 + " filler" * 500_000 + " marker-okapi here"
    s, spans = snip(text, "okapi")
    check(s, spans)
    assert [s[a:b] for a, b in spans] == ["okapi"]


@settings(max_examples=300, deadline=None)
@given(
    st.text(max_size=400),
    st.text(max_size=400),
    st.sampled_from(["needle", "Needle", "NEEDLES", "néédle"]),
)
def test_any_text(before: str, after: str, planted: str) -> None:
    text = before + " " + planted + " " + after
    s, spans = snip(text, "needle")
    check(s, spans)
    assert spans, (s, text)
    assert any(fold(s[a:b]).startswith("needle") or "needle" in fold(s[a:b])
               for a, b in spans)
