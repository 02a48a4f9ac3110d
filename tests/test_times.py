"""RFC 3339 times kept to the nanosecond (SPEC §1, §7)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sessionctl.core.times import (
    ZERO_TIME,
    format_ns,
    from_datetime,
    parse_ns,
    to_datetime,
    utc_second,
)

T = 1795532022  # 2026-11-24T14:53:42Z
LOCAL = 1735787045  # 2025-01-02T03:04:05Z


@pytest.mark.parametrize(("text", "ns"), [
    ("1970-01-01T00:00:00Z", 0),
    ("2026-11-24T14:53:42.292109445Z", T * 10**9 + 292109445),
    ("2026-11-24T14:53:42.5Z", T * 10**9 + 500_000_000),
    ("2026-11-24T14:53:42z", T * 10**9),
    ("2025-01-02T11:04:05.123456789+08:00", LOCAL * 10**9 + 123456789),  # Go's Local
    ("2025-01-01T22:04:05-05:00", LOCAL * 10**9),
    ("1969-12-31T23:59:59.999999999Z", -1),
    ("0001-01-01T00:00:00.000000001Z", -62135596800 * 10**9 + 1),
    ("9999-12-31T23:59:59.999999999Z", 253402300799 * 10**9 + 999999999),
])
def test_parse(text: str, ns: int) -> None:
    assert parse_ns(text) == ns


@pytest.mark.parametrize("bad", [
    ZERO_TIME,                         # Go's zero time: unset
    "0001-01-01T00:00:00+00:00",       # the same instant
    "0001-01-01T00:00:00+01:00",       # before year 1 once the offset is applied
    "9999-12-31T23:59:59-01:00",       # after year 9999
    "", "now", "2026-11-24", "2026-11-24T14:53Z", "2026-13-01T00:00:00Z",
    "2026-02-30T00:00:00Z", "2026-11-24T25:00:00Z", "2026-11-24T14:53:42.1234567890Z",
    "2026-11-24T14:53:42", " 2026-11-24T14:53:42Z", None, 5, 1.5, ["x"],
])
def test_parse_unset_or_bad(bad: object) -> None:
    assert parse_ns(bad) is None


@pytest.mark.parametrize(("ns", "text"), [
    (0, "1970-01-01T00:00:00Z"),
    (T * 10**9 + 292109445, "2026-11-24T14:53:42.292109445Z"),
    (T * 10**9 + 500_000_000, "2026-11-24T14:53:42.5Z"),   # trailing zeros trimmed
    (T * 10**9 + 1000, "2026-11-24T14:53:42.000001Z"),
    (-1, "1969-12-31T23:59:59.999999999Z"),
    (-62135596800 * 10**9 + 1, "0001-01-01T00:00:00.000000001Z"),  # 4-digit years
    (-59011459200 * 10**9, "0100-01-01T00:00:00Z"),
])
def test_format(ns: int, text: str) -> None:
    assert format_ns(ns) == text


def test_utc_second() -> None:
    assert utc_second(T * 10**9 + 999_999_999) == "2026-11-24T14:53:42Z"  # truncated
    assert utc_second(-59011459200 * 10**9) == "0100-01-01T00:00:00Z"


@given(st.integers(min_value=-62135596800 * 10**9 + 1, max_value=253402300799 * 10**9))
def test_format_parse_round_trip(ns: int) -> None:
    assert parse_ns(format_ns(ns)) == ns
    dt = to_datetime(ns)
    assert dt.tzinfo is not None
    assert from_datetime(dt) == ns // 1000 * 1000


@given(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30),
                    timezones=st.sampled_from([timezone.utc, timezone(timedelta(hours=8)),
                                               timezone(timedelta(hours=-5, minutes=-30))])))
def test_isoformat_parses(dt: datetime) -> None:
    ns = parse_ns(dt.isoformat())
    assert ns == from_datetime(dt)
    assert to_datetime(ns) == dt


def test_naive_datetime_is_local() -> None:
    naive = datetime(2026, 6, 1, 12, 0, 0)
    assert from_datetime(naive) == from_datetime(naive.astimezone())


def test_to_datetime_is_aware_utc() -> None:
    dt = to_datetime(T * 10**9 + 292109445)
    assert dt == datetime(2026, 11, 24, 14, 53, 42, 292109, tzinfo=timezone.utc)
    assert dt.utcoffset() == timedelta(0)
