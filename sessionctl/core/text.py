"""Text rules shared with the reference: blank tests and derived titles."""

from __future__ import annotations

__all__ = ["derive_title", "go_trim_space", "is_blank"]

# Go's strings.TrimSpace trims Unicode White_Space, which is not quite
# Python's str.strip() (that also trims \x1c-\x1f).
_GO_SPACE = (
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007"
    "\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


def go_trim_space(text: str) -> str:
    """Go's ``strings.TrimSpace``."""
    return text.strip(_GO_SPACE)


def is_blank(text: str) -> bool:
    """True when the reference would call ``text`` empty."""
    return not go_trim_space(text)


def derive_title(text: str) -> str:
    """The title rule, in characters: 60 at most, else 57 + ``...``."""
    if len(text) <= 60:
        return text
    return text[:57] + "..."
