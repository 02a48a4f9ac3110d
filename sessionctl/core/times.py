"""RFC 3339 times as the reference writes them, kept to the nanosecond.

Python's ``datetime`` stops at microseconds, so the store keeps each time as
its original string plus integer nanoseconds since the epoch: the string is
written back unchanged, the integer orders sessions, and a ``datetime`` is
what the API shows.
"""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta, timezone

__all__ = ["ZERO_TIME", "format_ns", "from_datetime", "parse_ns", "to_datetime", "utc_second"]

#: Go's zero ``time.Time``: the reference writes it for "unset".
ZERO_TIME = "0001-01-01T00:00:00Z"
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
#: An RFC 3339 date-time (also how usage records are bucketed by time).
RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?"
    r"(?:([Zz])|([+-])(\d{2}):(\d{2}))"
)
_ZERO_NS = -62135596800 * 10**9
#: 10000-01-01T00:00:00Z: times from here on cannot be shown as a datetime.
_END_NS = 253402300800 * 10**9


def parse_ns(value: object) -> int | None:
    """Nanoseconds since the epoch of an RFC 3339 string; ``None`` if unset or bad."""
    if not isinstance(value, str):
        return None
    m = RFC3339.fullmatch(value)
    if m is None:
        return None
    y, mo, d, h, mi, s, frac, _z, sign, oh, om = m.groups()
    try:
        base = datetime(
            int(y), int(mo), int(d), int(h), int(mi), min(int(s), 59), tzinfo=timezone.utc
        )
    except ValueError:
        return None
    secs = (base - _EPOCH) // timedelta(seconds=1)
    if sign:
        offset = int(oh) * 3600 + int(om) * 60
        secs -= offset if sign == "+" else -offset
    ns = secs * 10**9 + (int(frac.ljust(9, "0")) if frac else 0)
    if ns <= _ZERO_NS or ns >= _END_NS:
        # Go's zero time means "unset"; an offset can push a time out of the
        # years 1-9999, which no datetime (nor RFC 3339) can show.
        return None
    return ns


def to_datetime(ns: int) -> datetime:
    """An aware UTC ``datetime`` for ``ns`` (microsecond precision)."""
    return _EPOCH + timedelta(microseconds=ns // 1000)


def from_datetime(dt: datetime) -> int:
    """Nanoseconds since the epoch of an aware ``datetime`` (naive = local)."""
    if dt.tzinfo is None:
        dt = dt.astimezone()
    return (dt - _EPOCH) // timedelta(microseconds=1) * 1000


def now_ns() -> int:
    """The current time in nanoseconds since the epoch."""
    return time.time_ns()


def format_ns(ns: int) -> str:
    """RFC 3339 in UTC with trailing zeros trimmed, like Go's RFC3339Nano."""
    secs, frac = divmod(ns, 10**9)
    stamp = _seconds(secs)
    if frac:
        stamp += "." + f"{frac:09d}".rstrip("0")
    return stamp + "Z"


def utc_second(ns: int) -> str:
    """UTC to the second, as the markdown header shows times."""
    return _seconds(ns // 10**9) + "Z"


def _seconds(secs: int) -> str:
    # isoformat, not strftime: strftime("%Y") does not pad years before 1000.
    return (_EPOCH + timedelta(seconds=secs)).replace(tzinfo=None).isoformat(timespec="seconds")
