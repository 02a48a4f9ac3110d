"""Ages (``30d``) and dates (``2026-06-01``) as typed on the command line."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from ..errors import UsageError

__all__ = ["parse_age", "parse_date"]

_AGE = re.compile(r"([0-9]+)([mhdw])")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_age(text: str) -> timedelta:
    """``90m``, ``12h``, ``30d``, ``2w`` as a positive ``timedelta``.

    Zero, negative and unitless values are refused: a zero retention would
    wipe a whole store.
    """
    m = _AGE.fullmatch(text.strip())
    if m is None:
        raise UsageError(
            f"invalid age {text!r}: use a whole number and a unit, e.g. 90m, 12h, 30d, 2w"
        )
    n = int(m.group(1))
    if n < 1:
        raise UsageError(f"invalid age {text!r}: it must be at least 1{m.group(2)}")
    try:
        return timedelta(**{_UNITS[m.group(2)]: n})
    except OverflowError:
        raise UsageError(f"invalid age {text!r}: too large") from None


def parse_date(text: str) -> datetime:
    """An ISO 8601 date or date-time as an aware ``datetime``; no zone = local."""
    raw = text.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
            d = date.fromisoformat(raw)
            parsed = datetime(d.year, d.month, d.day)
        else:
            parsed = datetime.fromisoformat(raw.replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"invalid date {text!r}: use ISO 8601, e.g. 2026-06-01 or 2026-06-01T12:00:00Z"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.astimezone()  # local time, as the user means it
    return parsed
