"""Ages and dates as typed on the command line (SPEC §5)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone

import pytest

from sessionctl import UsageError
from sessionctl.core.times import format_ns, from_datetime
from sessionctl.core.timespec import age_cutoff, parse_age, parse_date


@pytest.mark.parametrize(("text", "delta"), [
    ("90min", timedelta(minutes=90)),
    ("12h", timedelta(hours=12)),
    ("30d", timedelta(days=30)),
    ("2w", timedelta(weeks=2)),
    ("1min", timedelta(minutes=1)),
    ("6mo", timedelta(days=180)),
    ("1mo", timedelta(days=30)),
    ("1y", timedelta(days=365)),
    ("2y", timedelta(days=730)),
    (" 7d ", timedelta(days=7)),
    ("0001d", timedelta(days=1)),
])
def test_ages(text: str, delta: timedelta) -> None:
    assert parse_age(text) == delta


@pytest.mark.parametrize("bad", [
    "0d", "0min", "0mo", "00w", "-1d", "-30d", "30", "d", "", "1.5d", "1s", "30 d", "1D", "+3d",
    "30days", "1e3d", "99999999999999999999w", "३d", "1M", "1mon", "1yr", "1mins", "min", "mo",
    "99999999999y",
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


@pytest.mark.parametrize("text", ["1m", "6m", "90m", " 12m "])
def test_bare_m_is_refused_and_suggests_min_or_mo(text: str) -> None:
    # A cron line with `6m` meant six months; as minutes it removed everything.
    n = text.strip()[:-1]
    with pytest.raises(UsageError) as info:
        parse_age(text)
    assert info.value.exit_code == 2
    assert f"{n}min" in info.value.message and f"{n}mo" in info.value.message


def test_age_cutoff() -> None:
    now = datetime(2026, 6, 1, tzinfo=timezone.utc)
    assert age_cutoff("1y", now) == datetime(2025, 6, 1, tzinfo=timezone.utc)
    assert age_cutoff("6mo", now) == now - timedelta(days=180)
    # Further back than the calendar goes: nothing is that old.
    assert age_cutoff("9000y", now) == datetime.min.replace(tzinfo=timezone.utc)
    with pytest.raises(UsageError):
        age_cutoff("6m", now)


@pytest.fixture
def zone(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], None]]:
    """Set the local time zone of this process (TZ + tzset)."""
    def set_zone(name: str) -> None:
        monkeypatch.setenv("TZ", name)
        time.tzset()

    yield set_zone
    monkeypatch.undo()
    time.tzset()


FIRST = datetime.min.replace(tzinfo=timezone.utc)
LAST = datetime.max.replace(tzinfo=timezone.utc)
ZONES = ["UTC", "Pacific/Kiritimati", "Etc/GMT+12", "Etc/GMT-14", "America/St_Johns"]


@pytest.mark.parametrize("tz", ZONES)
@pytest.mark.parametrize("text", [
    "0001-01-01", "0001-01-01T00:00", "0001-01-01T00:00:00+14:00", "9999-12-31",
    "9999-12-31T23:00", "9999-12-31T23:59:59.999999", "9999-12-31T23:00:00-12:00",
])
def test_dates_at_the_ends_of_the_calendar(
    zone: Callable[[str], None], tz: str, text: str
) -> None:
    zone(tz)
    d = parse_date(text)
    # Usable: in UTC, as nanoseconds, and as the JSON cutoff shows it.
    utc = d.astimezone(timezone.utc)
    assert FIRST <= utc <= LAST
    format_ns(from_datetime(d))
    if text.startswith("0001"):
        assert utc < datetime(1, 1, 3, tzinfo=timezone.utc)
    else:
        assert utc > datetime(9999, 12, 29, tzinfo=timezone.utc)


def test_beyond_the_calendar_in_utc_is_its_end(zone: Callable[[str], None]) -> None:
    zone("Etc/GMT+12")  # UTC-12: 9999-12-31T23:00 local is in the year 10000 in UTC
    assert parse_date("9999-12-31T23:00") == LAST
    assert parse_date("9999-12-31T23:00:00-12:00") == LAST
    zone("Etc/GMT-14")  # UTC+14: 0001-01-01 local is in the year 0 in UTC
    assert parse_date("0001-01-01") == FIRST
    assert parse_date("0001-01-01T05:00:00+14:00") == FIRST
    # Inside the calendar: unchanged, in the local zone.
    assert parse_date("0001-01-02").utcoffset() == timedelta(hours=14)
