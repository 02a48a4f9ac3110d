"""The search query language (SPEC §8.3): parsing, the FTS5 expression it
becomes, and usage errors (exit 2) for queries that cannot be parsed."""

from __future__ import annotations

import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sessionctl.core.query import MAX_QUERY_BYTES, Term, fold, parse_query, space_cjk, tokens
from sessionctl.errors import UsageError


def fts(q: str) -> str:
    return parse_query([q]).fts()


@pytest.mark.parametrize(("query", "expected"), [
    ("refactor", '"refactor"*'),
    ("index race", '"index"* AND "race"*'),
    ('"index race"', '"index race"'),
    ("a b OR c", '"a"* AND ("b"* OR "c"*)'),
    ("a OR b OR c", '("a"* OR "b"* OR "c"*)'),
    ("a -b", '("a"*) NOT ("b"*)'),
    ('a -"b c" -d', '("a"*) NOT ("b c" OR "d"*)'),
    ("Café", '"café"*'),
    ("store.go", '"store go"'),
    ("append_message_to_disk", '"append message to disk"'),
    ("日本語", '"日 本 語"'),
    ("or and not", '"or"* AND "and"* AND "not"*'),  # only upper-case OR is an operator
    ('"OR"', '"or"'),
    ("NEAR(a b) x:y ^z *w", '"near a" AND "b"* AND "x y" AND "z"* AND "w"*'),
    ('say "hi', None),
])
def test_fts_expression(query: str, expected: str | None) -> None:
    if expected is None:
        with pytest.raises(UsageError, match="unbalanced"):
            fts(query)
    else:
        assert fts(query) == expected


def test_words_inside_words() -> None:
    q = parse_query(["dex ab store.go"])
    assert q.infixes == {"dex"}
    assert q.fts(inside={"dex": ["index", "indexes"]}) == (
        '("dex"* OR "index" OR "indexes") AND "ab"* AND "store go"')
    assert parse_query(['"dex"']).infixes == set()


def test_words_across_arguments() -> None:
    assert parse_query(["foo", "-bar"]).fts() == '("foo"*) NOT ("bar"*)'
    assert parse_query(["foo -bar"]).fts() == '("foo"*) NOT ("bar"*)'


def test_column_filter_keeps_exclusions_per_message() -> None:
    assert parse_query(["a -b"]).fts("tool") == '({tool} : ("a"*)) NOT ("b"*)'


@pytest.mark.parametrize(("query", "message"), [
    ([], "empty"),
    ([""], "empty"),
    (["   \t"], "empty"),
    (['"unbalanced'], "unbalanced"),
    (['a "b" "c'], "unbalanced"),
    (["OR"], "dangling OR"),
    (["a OR"], "dangling OR"),
    (["OR a"], "dangling OR"),
    (["a OR OR b"], "dangling OR"),
    (["-"], "lone '-'"),
    (["a - b"], "lone '-'"),
    (["a -"], "lone '-'"),
    (["-a OR b"], "cannot be part of OR"),
    (["a OR -b"], "cannot be part of OR"),
    (["-a"], "nothing to search"),
    (["-a -b"], "nothing to search"),
    (["::: ***"], "nothing to search"),
    (['""'], "nothing to search"),
    (["a\x00b"], "NUL"),
    (["x" * 10_000], "too long"),
    (["a " * 100], "too many terms"),
])
def test_usage_errors(query: list[str], message: str) -> None:
    with pytest.raises(UsageError, match=message) as info:
        parse_query(query)
    assert info.value.exit_code == 2
    assert "\n" not in str(info.value)


def test_ten_kilobyte_query_is_refused() -> None:
    q = "word " * 2048
    assert len(q.encode()) >= 10_000
    with pytest.raises(UsageError):
        parse_query([q])
    assert len(("w" * (MAX_QUERY_BYTES - 1)).encode()) < MAX_QUERY_BYTES
    parse_query(["w" * (MAX_QUERY_BYTES - 1)])


def test_fold_and_tokens() -> None:
    assert fold("Café") == "cafe"
    assert fold("ÉCOLE") == "ecole"
    assert fold("Straße") == "strasse"
    assert [t[2] for t in tokens("Hello, wörld! store.go")] == ["hello", "world", "store", "go"]
    assert [t[2] for t in tokens("日本語のtext")] == ["日", "本", "語", "の", "text"]
    assert space_cjk("ab日本") == "ab 日  本 "
    assert space_cjk("plain") == "plain"


def test_term_words() -> None:
    assert Term("x_y-Z").words == ["x", "y", "z"]
    assert Term("a", phrase=True).prefix is False


_FTS = sqlite3.connect(":memory:")
_FTS.execute("CREATE VIRTUAL TABLE t USING fts5(text, tool, content='', "
             "tokenize='unicode61 remove_diacritics 2')")
_FTS.execute("INSERT INTO t(rowid, text, tool) VALUES (1, 'some words here', 'x')")

query_text = st.text(
    alphabet=st.sampled_from(list('ab cdé"-OR()*:^{}NEAR\t\n日本\x00_.\'\\AND NOT+')),
    max_size=40,
)


@settings(max_examples=400, deadline=None)
@given(st.lists(query_text, max_size=4))
def test_any_input_parses_or_is_a_usage_error(args: list[str]) -> None:
    """Never a traceback: a query parses into an expression FTS5 accepts
    (in both column forms), or it is a UsageError."""
    try:
        q = parse_query(args)
    except UsageError as err:
        assert err.exit_code == 2
        return
    for column in (None, "text", "tool"):
        _FTS.execute("SELECT rowid FROM t WHERE t MATCH ?", (q.fts(column),)).fetchall()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=30), max_size=5))
def test_any_unicode_parses_or_is_a_usage_error(args: list[str]) -> None:
    try:
        q = parse_query(args)
    except UsageError:
        return
    _FTS.execute("SELECT rowid FROM t WHERE t MATCH ?", (q.fts(),)).fetchall()
