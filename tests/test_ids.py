"""Session ids: validation, new ids, prefix resolution (SPEC §1, §5, §6, §7)."""

from __future__ import annotations

import re
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sessionctl import AmbiguousSessionId, InvalidSessionId, SessionNotFound
from sessionctl.core.ids import hex_part, is_valid_id, new_id, resolve, session_ids_in, validate_id

REF_ID = "20261124-145343-0626a978c20577ff"


@pytest.mark.parametrize("good", [
    REF_ID, "a", "_", "0", "a-b_c", "x" * 128, "20260101-000000-00000000deadbeef", "A-",
])
def test_valid(good: str) -> None:
    assert is_valid_id(good)
    assert validate_id(good) == good


@pytest.mark.parametrize("bad", [
    "", "-", "-rf", "--help", "../x", "..", ".", "a/b", "/abs", "a\\b", "a\0b", "x" * 129,
    "x" * 200, "a b", " a", "a\n", "é", "a.jsonl", "id:1", "~", "a\u200b",
])
def test_invalid(bad: str) -> None:
    assert not is_valid_id(bad)
    with pytest.raises(InvalidSessionId) as info:
        validate_id(bad)
    assert info.value.exit_code == 2
    assert len(str(info.value)) < 120  # long ids are shortened in the message


@pytest.mark.parametrize("bad", [None, 5, b"abc", ["a"]])
def test_invalid_types(bad: object) -> None:
    assert not is_valid_id(bad)
    with pytest.raises(InvalidSessionId):
        validate_id(bad)


@given(st.text(max_size=140))
def test_validity_matches_the_spec_pattern(s: str) -> None:
    assert is_valid_id(s) == bool(re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_-]{0,127}", s, re.ASCII))


_NAME_CHARS = st.sampled_from([*"ab09_-.\n \u00e9/", ".jsonl", ".json", ".lock"])


@given(st.lists(st.lists(_NAME_CHARS, max_size=12).map("".join), max_size=12)
       | st.lists(st.text(max_size=140).map(lambda t: t + ".jsonl"), max_size=5))
def test_session_ids_in_is_the_per_name_rule(names: list[str]) -> None:
    """The one-regex scan of a directory listing agrees, name by name, with
    is_valid_id on what precedes ".jsonl" (newlines and dots in names too)."""
    names = [n for n in names if "\0" not in n]  # no file name holds NUL
    expected = [n[:-6] for n in names if n.endswith(".jsonl") and is_valid_id(n[:-6])]
    assert session_ids_in(names) == expected


def test_session_ids_in_examples() -> None:
    names = [f"{REF_ID}.jsonl", f"{REF_ID}.jsonl.flock", f"{REF_ID}.lock", "index.json",
             "a\nb.jsonl", "-x.jsonl", "x" * 129 + ".jsonl", "x" * 128 + ".jsonl", ".jsonl",
             "a.jsonl.jsonl", "ok.jsonl"]
    assert session_ids_in(names) == [REF_ID, "x" * 128, "ok"]


def test_new_id_shape() -> None:
    now = time.time()
    i = new_id(now)
    assert re.fullmatch(r"\d{8}-\d{6}-[0-9a-f]{16}", i)
    assert i[:15] == time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    assert is_valid_id(i)
    assert len({new_id(now) for _ in range(50)}) == 50
    assert hex_part(i) == i[-16:]


def test_hex_part() -> None:
    assert hex_part(REF_ID) == "0626a978c20577ff"
    assert hex_part("custom-id") is None
    assert hex_part("20261124-145343-0626A978C20577FF") is None


IDS = [
    "20261124-145343-0626a978c20577ff",
    "20261124-150000-0626b00000000000",
    "20261125-090000-ffff000000000000",
    "my-session",
]


def test_resolve_exact_and_prefixes() -> None:
    assert resolve(IDS[0], IDS) == IDS[0]
    assert resolve("20261125", IDS) == IDS[2]          # prefix of the id
    assert resolve("ffff", IDS) == IDS[2]              # prefix of the hex part
    assert resolve("0626a", IDS) == IDS[0]
    assert resolve("my", IDS) == "my-session"
    with pytest.raises(SessionNotFound) as nf:
        resolve("abc", IDS)
    assert nf.value.exit_code == 3


def test_resolve_ambiguous() -> None:
    with pytest.raises(AmbiguousSessionId) as info:
        resolve("0626", IDS)
    assert sorted(info.value.candidates) == sorted(IDS[:2])
    assert info.value.exit_code == 3
    with pytest.raises(AmbiguousSessionId):
        resolve("20261124", IDS)


def test_exact_id_wins_over_prefix() -> None:
    ids = ["abc", "abcdef"]
    assert resolve("abc", ids) == "abc"
    assert resolve("abc", list(reversed(ids))) == "abc"


def test_resolve_validates_first() -> None:
    with pytest.raises(InvalidSessionId):
        resolve("../x", ["../x"])
