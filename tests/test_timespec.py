"""Ages and dates as typed on the command line (SPEC §5)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from sessionctl import UsageError
from sessionctl.core.timespec import parse_age, parse_date


@pytest.mark.parametrize(("text", "delta"), [
    ("90m", timedelta(minutes=90)),
    ("12h", timedelta(hours=12)),
    ("30d", timedelta(days=30)),
    ("2w", timedelta(weeks=2)),
    ("1m", timedelta(minutes=1)),
    (" 7d ", timedelta(days=7)),
    ("0001d", timedelta(days=1)),
])
def test_ages(text: str, delta: timedelta) -> None:
    assert parse_age(text) == delta


@pytest.mark.parametrize("bad", [
    "0d", "0m", "00w", "-1d", "-30d", "30", "d", "", "1.5d", "1y", "1s", "30 d", "1D", "+3d",
    "30days", "1e3d", "99999999999999999999w", "३d",
])
def test_bad_ages(bad: str) -> None:
    # A zero or negative retention must never wipe a store.
    with pytest.raises(UsageError) as info:
        parse_age(bad)
    assert info.value.exit_code == 2


def test_date_only_is_local_midnight() -> None:
    d = parse_date("2026-06-01")
    assert d.tzinfo is not None
    assert d.replace(tzinfo=None) == datetime(2026, 6, 1)
    assert d == datetime(2026, 6, 1).astimezone()


@pytest.mark.parametrize(("text", "want"), [
    ("2026-06-01T00:00:00Z", datetime(2026, 6, 1, tzinfo=timezone.utc)),
    ("2026-06-01T00:00:00z", datetime(2026, 6, 1, tzinfo=timezone.utc)),
    ("2026-06-01T02:00:00+02:00", datetime(2026, 6, 1, tzinfo=timezone.utc)),
    ("2026-06-01T12:30:00.5Z", datetime(2026, 6, 1, 12, 30, 0, 500000, tzinfo=timezone.utc)),
])
def test_datetimes_with_zone(text: str, want: datetime) -> None:
    assert parse_date(text) == want


def test_datetime_without_zone_is_local() -> None:
    d = parse_date("2026-06-01T08:15:00")
    assert d.tzinfo is not None
    assert d == datetime(2026, 6, 1, 8, 15).astimezone()


@pytest.mark.parametrize("bad", [
    "", "yesterday", "2026-13-01", "2026-02-30", "06/01/2026", "2026-06-01T25:00:00",
    "2026-06-01Tnoon", "1d",
])
def test_bad_dates(bad: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_date(bad)
    assert info.value.exit_code == 2
