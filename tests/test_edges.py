"""Rough edges a new user hits (issue #16): the command line at its edges.

Dates at the ends of the calendar, durations, pagers, exit codes, closed
stdout, resume, options. The rendering parts are in test_show_render.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_helpers import child_env, new_store, run, sid, write_session

ZONES = ["UTC", "Pacific/Kiritimati", "Etc/GMT+12"]


@pytest.fixture
def store(tmp_path: Path) -> Path:
    s = new_store(tmp_path / "store")
    write_session(s, sid(1), title="old", updated="2020-01-01T00:00:00Z")
    write_session(s, sid(2), title="new", updated="2026-03-01T12:00:00Z")
    return s


# -- item 5: dates at the edges ---------------------------------------------


@pytest.mark.parametrize("tz", ZONES)
def test_dates_at_the_ends_of_the_calendar_work(store: Path, tz: str) -> None:
    env = child_env(TZ=tz)
    every = run("--dir", store, "list", "--ids", "--since", "0001-01-01", env=env)
    assert every.stdout.split() == [sid(2), sid(1)]
    assert run("--dir", store, "list", "--ids", "--until", "0001-01-01", env=env).stdout == ""
    late = run("--dir", store, "list", "--ids", "--since", "9999-12-31T23:00", env=env)
    assert late.stdout == ""
    nothing = run("--dir", store, "cleanup", "--before", "0001-01-01", "--dry-run", "--json",
                  env=env)
    assert json.loads(nothing.stdout)["removed"] == []
    both = run("--dir", store, "cleanup", "--before", "9999-12-31T23:00", "--dry-run", env=env)
    assert sorted(both.stdout.split()) == [sid(1), sid(2)]


def test_older_than_reaching_past_the_calendar_removes_nothing(store: Path) -> None:
    r = run("--dir", store, "cleanup", "--older-than", "9000y", "--dry-run")
    assert r.stdout == ""
    assert run("--dir", store, "cleanup", "--older-than", "6m", code=2).stderr.startswith(
        "sessionctl: invalid age '6m': 'm' could be minutes or months: write 6min or 6mo")
