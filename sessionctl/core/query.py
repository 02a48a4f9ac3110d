"""The search query language (SPEC §8.3) -> a parsed query and an FTS5 expression.

Words must all occur in one message; a bare word also matches words it
begins; ``"a phrase"`` matches exactly; ``-word`` excludes (per message);
``OR`` between terms binds tighter than the implied AND (``a b OR c`` is
``a AND (b OR c)``). Every other character is literal text: the FTS5
expression is built here from quoted strings, so FTS5's own syntax (``:``,
``^``, ``*``, ``(``, ``NEAR``) never reaches SQLite. A query that cannot be
parsed raises :class:`~sessionctl.errors.UsageError` (exit 2).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..errors import UsageError

__all__ = [
    "MAX_QUERY_BYTES",
    "MAX_TERMS",
    "MIN_INFIX",
    "Query",
    "Term",
    "fold",
    "parse_query",
    "space_cjk",
    "tokens",
    "word_set",
]

#: Longer queries are refused: nobody types them, and each term costs a
#: posting-list walk.
MAX_QUERY_BYTES = 2048
MAX_TERMS = 64
#: A bare word this long or longer also matches inside words (``dex`` finds
#: ``index``), as the agent's own substring search does.
MIN_INFIX = 3

# Scripts written without spaces between words: each of their characters
# is indexed as a word of its own, so any run of them is found by substring
# (a phrase of single characters). Han, kana, Hangul, CJK punctuation-free
# ranges and the compatibility ideographs.
_CJK_RANGES = (
    "\u2e80-\u2fdf"  # radicals
    "\u3040-\u30ff"  # hiragana, katakana
    "\u3100-\u312f\u3130-\u318f\u31a0-\u31bf\u31f0-\u31ff"
    "\u3400-\u4dbf"  # extension A
    "\u4e00-\u9fff"  # unified ideographs
    "\ua960-\ua97f\uac00-\ud7af\ud7b0-\ud7ff"  # hangul
    "\uf900-\ufaff"  # compatibility ideographs
    "\uff66-\uff9f"  # half-width katakana
    "\U00020000-\U0003134f"  # extensions B..G
)
_CJK = re.compile(f"[{_CJK_RANGES}]")
# A word as the unicode61 tokenizer sees one: a run of letters and digits
# (combining marks stay with their letter).
_WORD = re.compile(r"(?:[^\W_]|[\u0300-\u036f])+")


def space_cjk(text: str) -> str:
    """``text`` with a space either side of each CJK character, so the
    word tokenizer makes each one a word (substring search for CJK)."""
    if text.isascii() or not _CJK.search(text):
        return text
    return _CJK.sub(r" \g<0> ", text)


def fold(word: str) -> str:
    """Case and diacritics folded: ``Café`` -> ``cafe`` (as the index does)."""
    if word.isascii():
        return word.lower()
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


_ASCII_WORD = re.compile(r"[a-z0-9]+")


def word_set(text: str) -> set[str]:
    """The distinct lower-cased words of ``text`` (no CJK: those are found
    by substring anyway)."""
    if text.isascii():
        return set(_ASCII_WORD.findall(text.lower()))
    return {w for w in set(_WORD.findall(text.lower())) if not _CJK.search(w)}


def tokens(text: str) -> list[tuple[int, int, str]]:
    """``(start, end, folded word)`` of each word of ``text`` (CJK characters
    are words of one character), in order."""
    out: list[tuple[int, int, str]] = []
    for m in _WORD.finditer(text):
        word = m.group()
        start = m.start()
        if word.isascii() or not _CJK.search(word):
            out.append((start, m.end(), fold(word)))
            continue
        # Split around CJK characters.
        piece_start = start
        for i, ch in enumerate(word, start):
            if _CJK.match(ch):
                if piece_start < i:
                    out.append((piece_start, i, fold(text[piece_start:i])))
                out.append((i, i + 1, fold(ch)))
                piece_start = i + 1
        if piece_start < m.end():
            out.append((piece_start, m.end(), fold(text[piece_start:m.end()])))
    return out


@dataclass(frozen=True)
class Term:
    """One word or phrase of a query."""

    text: str
    phrase: bool = False  # quoted: matched exactly (no prefix)
    negated: bool = False

    @property
    def words(self) -> list[str]:
        """The folded words of the term (to find them in a text)."""
        return [w for _, _, w in tokens(self.text)]

    @property
    def pieces(self) -> list[str]:
        """The term's words as written, lower-cased: the index folds them
        itself (its diacritics rules are SQLite's, not Python's)."""
        return [self.text[a:b].lower() for a, b, _ in tokens(self.text)]

    @property
    def prefix(self) -> bool:
        """Whether the term matches words it begins: a bare word of one
        piece (an identifier such as ``store.go`` is matched whole)."""
        return not self.phrase and len(self.words) == 1

    @property
    def infix(self) -> str | None:
        """The word that may also match inside longer words (a bare word of
        one piece, at least :data:`MIN_INFIX` characters), else ``None``."""
        if not self.prefix:
            return None
        word = self.pieces[0]
        return word if len(word) >= MIN_INFIX and not _CJK.search(word) else None

    def fts(self, inside: Mapping[str, Sequence[str]] | None = None) -> str:
        """The term as one quoted FTS5 string (a phrase of its words); with
        ``inside``, also the indexed words that contain it (from the
        index's vocabulary)."""
        body = " ".join(self.pieces).replace('"', '""')
        own = f'"{body}"' + ("*" if self.prefix else "")
        more = inside.get(self.infix or "", ()) if inside else ()
        if not more:
            return own
        return "(" + " OR ".join([own, *(_quote(w) for w in more)]) + ")"


def _quote(word: str) -> str:
    return '"' + word.replace('"', '""') + '"'


@dataclass(frozen=True)
class Query:
    """A parsed query: every group must match (each group is terms joined by
    OR), and no excluded term may."""

    groups: tuple[tuple[Term, ...], ...]
    excluded: tuple[Term, ...] = ()

    @property
    def positive_terms(self) -> list[Term]:
        return [t for g in self.groups for t in g]

    @property
    def infixes(self) -> set[str]:
        """The words that may also match inside longer words."""
        return {w for t in self.positive_terms if (w := t.infix)}

    def fts(
        self, column: str | None = None, inside: Mapping[str, Sequence[str]] | None = None,
    ) -> str:
        """The FTS5 MATCH expression; with ``column``, the positive part must
        match in that column (exclusions still apply to the whole row).
        ``inside`` maps a bare word to indexed words containing it."""
        parts = []
        for group in self.groups:
            if len(group) == 1:
                parts.append(group[0].fts(inside))
            else:
                parts.append("(" + " OR ".join(t.fts(inside) for t in group) + ")")
        expr = " AND ".join(parts)
        if column is not None:
            expr = "{" + column + "} : (" + expr + ")"
        if self.excluded:
            expr = f"({expr}) NOT (" + " OR ".join(t.fts() for t in self.excluded) + ")"
        return expr


_SPACE = re.compile(r"\s+")


def _lex(text: str) -> list[Term | None]:
    """Terms in order; ``None`` stands for an ``OR``."""
    items: list[Term | None] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        negated = False
        if ch == "-":
            if i + 1 >= n or text[i + 1].isspace():
                raise UsageError("a lone '-' in the search query (write -word to exclude a word)")
            negated = True
            i += 1
            ch = text[i]
        if ch == '"':
            end = text.find('"', i + 1)
            if end < 0:
                raise UsageError("unbalanced quotes in the search query")
            items.append(Term(text[i + 1:end], phrase=True, negated=negated))
            i = end + 1
            continue
        j = i
        while j < n and not text[j].isspace() and text[j] != '"':
            j += 1
        word = text[i:j]
        i = j
        if word == "OR" and not negated:
            items.append(None)
        else:
            items.append(Term(word, negated=negated))
    return items


def parse_query(args: Sequence[str]) -> Query:
    """Parse the query arguments (joined by spaces) or raise :class:`UsageError`."""
    text = " ".join(args)
    if "\x00" in text:
        raise UsageError("the search query contains a NUL character")
    if len(text.encode("utf-8", "surrogatepass")) > MAX_QUERY_BYTES:
        raise UsageError(f"the search query is too long (at most {MAX_QUERY_BYTES} bytes)")
    if not text.strip():
        raise UsageError("empty search query")
    items = _lex(text)
    if len([t for t in items if t is not None]) > MAX_TERMS:
        raise UsageError(f"too many terms in the search query (at most {MAX_TERMS})")
    groups: list[list[Term]] = []
    excluded: list[Term] = []
    pending_or = False
    for pos, item in enumerate(items):
        if item is None:
            if pos == 0 or pending_or or pos == len(items) - 1:
                raise UsageError("a dangling OR in the search query (write: a OR b)")
            prev = items[pos - 1]
            if prev is not None and prev.negated:
                raise UsageError("an excluded term cannot be part of OR")
            pending_or = True
            continue
        if pending_or:
            if item.negated:
                raise UsageError("an excluded term cannot be part of OR")
            groups[-1].append(item)
            pending_or = False
        elif item.negated:
            excluded.append(item)
            groups.append([])  # keeps "a OR" after an exclusion an error above
        else:
            groups.append([item])
    # Terms with nothing to search for (punctuation only) drop out.
    kept = [tuple(t for t in g if t.words) for g in groups if g]
    kept = [g for g in kept if g]
    excl = tuple(t for t in excluded if t.words)
    if not kept:
        raise UsageError("nothing to search for in the query (only excluded terms or punctuation)")
    return Query(tuple(kept), excl)
