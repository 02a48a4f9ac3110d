"""Ages (``30d``) and dates (``2026-06-01``) as typed on the command line."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

from ..errors import UsageError

__all__ = ["AGE_UNITS", "age_cutoff", "parse_age", "parse_date"]

_AGE = re.compile(r"([0-9]+)(min|mo|[mhdwy])")
#: Units of an age and their length. ``m`` alone is refused: a cron line
#: with ``6m`` meant six months and removed every session older than six
#: minutes.
_UNITS = {
    "min": timedelta(minutes=1),
    "h": timedelta(hours=1),
    "d": timedelta(days=1),
    "w": timedelta(weeks=1),
    "mo": timedelta(days=30),
    "y": timedelta(days=365),
}
#: How ``--help``, the README and the completions spell the units.
AGE_UNITS = "90min, 12h, 30d, 2w, 6mo, 1y"
#: The ends of the calendar a datetime can show, in UTC.
_FIRST = datetime.min.replace(tzinfo=timezone.utc)
_LAST = datetime.max.replace(tzinfo=timezone.utc)


def parse_age(text: str) -> timedelta:
    """``90min``, ``12h``, ``30d``, ``2w``, ``6mo`` (30 days each), ``1y``
    (365 days) as a positive ``timedelta``.

    Zero, negative and unitless values are refused: a zero retention would
    wipe a whole store. So is a bare ``m``: minutes or months?
    """
    m = _AGE.fullmatch(text.strip())
    if m is None:
        raise UsageError(f"invalid age {text!r}: use a whole number and a unit, e.g. {AGE_UNITS}")
    n, unit = int(m.group(1)), m.group(2)
    if unit == "m":
        raise UsageError(
            f"invalid age {text!r}: 'm' could be minutes or months: "
            f"write {n}min or {n}mo")
    if n < 1:
        raise UsageError(f"invalid age {text!r}: it must be at least 1{unit}")
    try:
        return n * _UNITS[unit]
    except OverflowError:
        raise UsageError(f"invalid age {text!r}: too large") from None


def age_cutoff(text: str, now: datetime | None = None) -> datetime:
    """``now`` minus the age ``text``: the time before which a session is
    older than it. An age reaching back past the year 1 gives the year 1
    (nothing is that old)."""
    age = parse_age(text)
    now = datetime.now(timezone.utc) if now is None else now
    try:
        return now - age
    except OverflowError:
        return _FIRST


def parse_date(text: str) -> datetime:
    """An ISO 8601 date or date-time as an aware ``datetime``; no zone = local.

    A time beyond the calendar once in UTC (``0001-01-01`` east of UTC,
    ``9999-12-31T23:00`` west of it) is the calendar's first or last
    instant: it orders against every session the same way.
    """
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
        parsed = _local(parsed)  # local time, as the user means it
    try:
        parsed.astimezone(timezone.utc)
    except (OverflowError, ValueError):
        return _FIRST if parsed.year == 1 else _LAST
    return parsed


def _local(naive: datetime) -> datetime:
    """``naive`` in the local zone. The C library cannot convert the first
    and last days of the calendar: there the offset of two days inside."""
    try:
        return naive.astimezone()
    except (OverflowError, ValueError):
        near = naive + timedelta(days=2) if naive.year == 1 else naive - timedelta(days=2)
        try:
            offset = near.astimezone().utcoffset()
        except (OverflowError, ValueError):
            offset = None
        return naive.replace(tzinfo=timezone(offset or timedelta(0)))
