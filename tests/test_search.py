"""``sessionctl search`` (SPEC §8.3): recall and precision on a corpus with
planted words in every searched place, ``#N`` against ``show --json``,
outputs, filters, ranking, and the index's catch-up and repair."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sessionctl import JSONLStore, Message
from sessionctl.cache.search import run_search
from sessionctl.cache.search_index import SCHEMA_VERSION, SearchIndex
from sessionctl.core.query import parse_query
from tests.cli_helpers import check_stderr, invoke, run, sid, text_msg, write_session

CACHE = "SESSIONCTL_CACHE_DIR"


def tool_use(name: str, inp: Any) -> dict[str, Any]:
    return {"role": "assistant", "content": [
        {"type": "tool_use", "tool_name": name, "tool_id": "t1", "input": inp}]}


def tool_result(output: str) -> dict[str, Any]:
    return {"role": "user", "content": [
        {"type": "tool_result", "tool_id": "t1", "output": output}]}


def rec(session_id: str, msg: dict[str, Any]) -> dict[str, Any]:
    return {"type": "message", "session_id": session_id, "message": msg}


# Each case: (name, query, messages/records builder, expected role, expected N)
# The planted word occurs only in its own session.
CORPUS: dict[str, tuple[str, str | None, int | None]] = {}


def _corpus(store: Path) -> dict[str, str]:
    """Write the corpus; returns case name -> session id."""
    ids: dict[str, str] = {}

    def new(name: str, **kw: Any) -> str:
        s = sid(len(ids) + 1)
        ids[name] = s
        kw.setdefault("updated", f"2026-03-{len(ids):02d}T12:00:00Z")
        write_session(store, s, **kw)
        return s

    new("title", title="Quokkatitle planning", user="hello", assistant="hi")
    new("user", user="the user wrote zebrauser here")
    new("assistant", assistant="the assistant said lemurassistant there")
    new("system", messages=[text_msg("user", "question"),
                            text_msg("system", "a system note: tapirsystem")])
    new("tool_input", messages=[
        text_msg("user", "please run it"),
        tool_use("run_shell", {"command": "grep -r ocelotinput .", "opts": [1, {"deep": True}]}),
    ])
    new("tool_output", messages=[text_msg("user", "go"), tool_use("read_file", {"path": "x"}),
                                 tool_result("line one\nthe pangolinoutput line\n")])
    new("hidden", user=None, assistant="nobody asked: wombathidden")
    s = new("before_cp", messages=[
        text_msg("user", "early words: narwhalbefore", id="msg_a"),
        text_msg("assistant", "ok", id="msg_b"),
    ])
    with open(store / f"{s}.jsonl", "a", encoding="utf-8") as f:
        for r in (
            rec(s, text_msg("system", "[Previous conversation summary] short", id="msg_c")),
            {"type": "checkpoint", "session_id": s, "checkpoint_summary_msg_id": "msg_c",
             "checkpoint_last_msg_id": "msg_b", "checkpoint_tokens": 10},
            rec(s, text_msg("user", "later words: walrusafter", id="msg_d")),
            # A legacy checkpoint's copies are not searched (the history has them).
            {"type": "checkpoint", "session_id": s, "checkpoint_tokens": 5,
             "checkpoint_messages": [text_msg("user", "copyonlyword")]},
        ):
            f.write(json.dumps(r) + "\n")
    big = "filler text " * (5_000_000 // 12) + " the okapibigoutput is near the end " + "z " * 50
    new("big", messages=[text_msg("user", "dump it"), tool_result(big)])
    new("cjk", user="これは日本語のテキストです", assistant="中文内容")
    new("diacritics", user="Un Café crème à la Brasserie Ærø")
    new("identifiers", messages=[
        text_msg("user", "call append_message_to_disk in internal/session/store.go please"),
    ])
    new("decoy_ident", user="append the message to the disk; the store goes")
    new("image", messages=[{"role": "user", "content": [
        {"type": "text", "text": "look at this"},
        {"type": "image", "image_mime": "image/png", "image_data": "ZmxhbWluZ29pbWFnZQ=="},
    ]}])
    new("thinking", messages=[text_msg("user", "think"), {"role": "assistant", "content": [
        {"type": "text", "text": "answer", "reasoning_content": "I muse about ibexthinking"}]}])
    s = new("duplicates", messages=[
        text_msg("user", "first", id="msg_1"),
        text_msg("assistant", "second", id="msg_2"),
        text_msg("user", "first", id="msg_1"),  # a duplicate: read once
        text_msg("assistant", "third mentions yakduplicate", id="msg_3"),
    ])
    # The trash (issue #13): a trashed session and a second copy of it.
    trash = store / ".trash"
    trash.mkdir(mode=0o700)
    t = sid(900)
    write_session(trash, t, user="in the bin: gerbiltrash", updated="2026-02-01T00:00:00Z")
    write_session(trash, sid(901), user="another gerbiltrash copy")
    os.rename(trash / f"{sid(901)}.jsonl", trash / f"{t}.20260201T000000.jsonl")
    ids["trash"] = t
    return ids


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, str]]]:
    store = tmp_path_factory.mktemp("corpus") / "store"
    store.mkdir(mode=0o700)
    ids = _corpus(store)
    yield store, ids


@pytest.fixture
def cache_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "cache"
    monkeypatch.setenv(CACHE, str(cache))
    return cache


def search_json(store: Path, *args: str, code: int = 0) -> list[dict[str, Any]]:
    r = invoke("--dir", store, "search", "--json", *args, code=code)
    data: list[dict[str, Any]] = json.loads(r.stdout)
    return data


@pytest.fixture(scope="module")
def corpus_cache(corpus: tuple[Path, dict[str, str]],
                 tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One index shared by the corpus tests (built once: the 5 MB session)."""
    return tmp_path_factory.mktemp("corpus-cache")


@pytest.fixture
def cq(corpus: tuple[Path, dict[str, str]], corpus_cache: Path,
       monkeypatch: pytest.MonkeyPatch) -> tuple[Path, dict[str, str]]:
    monkeypatch.setenv(CACHE, str(corpus_cache))
    return corpus


# name, query, extra options, expected role, expected N (None: title hit)
PLANTED = [
    ("title", "quokkatitle", (), "title", None),
    ("user", "zebrauser", (), "user", 1),
    ("assistant", "lemurassistant", (), "assistant", 2),
    ("system", "tapirsystem", (), "system", 2),
    ("tool_input", "ocelotinput", (), "tool", 2),
    ("tool_input", "run_shell", (), "tool", 2),
    ("tool_output", "pangolinoutput", (), "tool", 3),
    ("hidden", "wombathidden", ("--all",), "assistant", 1),
    ("before_cp", "narwhalbefore", (), "user", 1),
    ("before_cp", "walrusafter", (), "user", 4),
    ("big", "okapibigoutput", (), "tool", 2),
    ("cjk", "日本語", (), "user", 1),
    ("cjk", "テキスト", (), "user", 1),
    ("cjk", "本語", (), "user", 1),
    ("cjk", "中文", (), "assistant", 2),
    ("diacritics", "cafe", (), "user", 1),
    ("diacritics", "CAFÉ crème", (), "user", 1),
    ("diacritics", "ærø brasserie", (), "user", 1),
    ("diacritics", "CREME", (), "user", 1),
    ("identifiers", "append_message_to_disk", (), "user", 1),
    ("identifiers", "store.go", (), "user", 1),
    ("thinking", "ibexthinking", (), "assistant", 2),
    ("duplicates", "yakduplicate", (), "assistant", 3),
    ("trash", "gerbiltrash", ("--trash",), "user", 1),
]


@pytest.mark.parametrize(("name", "query", "opts", "role", "n"), PLANTED,
                         ids=[f"{p[0]}-{p[1]}" for p in PLANTED])
def test_recall_and_precision(cq: tuple[Path, dict[str, str]], name: str, query: str,
                              opts: tuple[str, ...], role: str, n: int | None) -> None:
    store, ids = cq
    found = search_json(store, *opts, query)
    assert [r["id"] for r in found] == [ids[name]], found
    hit = found[0]["hits"][0]
    assert (hit["role"], hit["message"]) == (role, n)
    assert hit["spans"], hit
    for a, b in hit["spans"]:
        assert 0 <= a < b <= len(hit["snippet"])


@pytest.mark.parametrize("query", [
    "flamingoimage",  # image data (base64 of "flamingoimage") is not searched
    "ZmxhbWluZ29pbWFnZQ",
    "copyonlyword",  # legacy checkpoint copies are not searched
    "wombathidden",  # hidden without --all
    "gerbiltrash",  # trash only with --trash
    "gerbiltrashes",  # longer than the word
])
def test_not_found(cq: tuple[Path, dict[str, str]], query: str) -> None:
    store, _ = cq
    assert search_json(store, query) == []


def test_identifier_precision(cq: tuple[Path, dict[str, str]]) -> None:
    """The identifier finds the session that has it, not the one with its
    words apart; a phrase of the words finds both."""
    store, ids = cq
    assert [r["id"] for r in search_json(store, "append_message_to_disk")] == [
        ids["identifiers"]]
    assert {r["id"] for r in search_json(store, "append message disk")} == {
        ids["identifiers"], ids["decoy_ident"]}


def test_trash_reports_session_ids_for_every_copy(cq: tuple[Path, dict[str, str]]) -> None:
    store, ids = cq
    found = search_json(store, "--trash", "copy gerbiltrash")
    assert [r["id"] for r in found] == [ids["trash"]]


def test_hit_numbers_are_show_json_places(cq: tuple[Path, dict[str, str]]) -> None:
    """For every hit, message N of ``show --json`` (full history) holds the word."""
    store, _ids = cq
    for name, query, opts, _role, _n in PLANTED:
        if "--trash" in opts or name in ("big", "title"):
            continue
        for r in search_json(store, *opts, query):
            shown = json.loads(invoke("--dir", store, "show", "--json", r["id"]).stdout)
            for hit in r["hits"]:
                msg = shown["messages"][hit["message"] - 1]
                from sessionctl.core.query import fold

                text = fold(json.dumps(msg, ensure_ascii=False))
                word = fold(query.split()[0])
                if word.isascii() and word.isalpha():
                    assert word in text, (name, hit)
                elif name == "cjk":
                    assert word in text


def test_snippet_of_a_big_output_is_short(cq: tuple[Path, dict[str, str]]) -> None:
    store, _ = cq
    [r] = search_json(store, "okapibigoutput")
    snippet = r["hits"][0]["snippet"]
    assert len(snippet) <= 160
    assert snippet.startswith("…") and snippet.endswith("…")
    [(a, b)] = r["hits"][0]["spans"]
    assert snippet[a:b] == "okapibigoutput"


def test_phrases_exclusion_or(cq: tuple[Path, dict[str, str]]) -> None:
    store, ids = cq
    assert [r["id"] for r in search_json(store, '"user wrote zebrauser"')] == [ids["user"]]
    assert search_json(store, '"wrote user zebrauser"') == []
    assert search_json(store, "--", "zebrauser", "-wrote") == []
    assert search_json(store, "zebrauser -wrote") == []
    assert len(search_json(store, "zebrauser -nosuchword")) == 1
    assert {r["id"] for r in search_json(store, "zebrauser OR lemurassistant")} == {
        ids["user"], ids["assistant"]}
    # a b OR c is a AND (b OR c): "the" with either word
    assert {r["id"] for r in search_json(store, "the zebrauser OR lemurassistant")} == {
        ids["user"], ids["assistant"]}
    # All words in one message: user text and assistant text of one session do not combine.
    assert search_json(store, "zebrauser hi") == []


def test_prefix_match_spans_whole_word(cq: tuple[Path, dict[str, str]]) -> None:
    store, _ids = cq
    [r] = search_json(store, "pangolinout")
    hit = r["hits"][0]
    [(a, b)] = hit["spans"]
    assert hit["snippet"][a:b] == "pangolinoutput"


@pytest.mark.parametrize(("roles", "found"), [
    (("user",), {"user"}),
    (("tool",), {"tool_input", "tool_output"}),
    (("assistant",), set()),
    (("user", "tool"), {"user", "tool_input", "tool_output"}),
])
def test_role_filter(cq: tuple[Path, dict[str, str]], roles: tuple[str, ...],
                     found: set[str]) -> None:
    store, ids = cq
    args = [a for r in roles for a in ("--role", r)]
    got = search_json(store, *args, "zebrauser OR ocelotinput OR pangolinoutput")
    assert {r["id"] for r in got} == {ids[n] for n in found}
    for r in got:
        for h in r["hits"]:
            assert h["role"] in roles


def test_role_tool_covers_tool_names(cq: tuple[Path, dict[str, str]]) -> None:
    store, ids = cq
    assert [r["id"] for r in search_json(store, "--role", "tool", "run_shell")] == [
        ids["tool_input"]]
    assert search_json(store, "--role", "user", "run_shell") == []


def test_bad_role_is_usage_error(cq: tuple[Path, dict[str, str]]) -> None:
    store, _ = cq
    r = invoke("--dir", store, "search", "--role", "robot", "x", code=2)
    assert "--role" in r.stderr


# -- outputs ------------------------------------------------------------------

def test_json_contract(cq: tuple[Path, dict[str, str]]) -> None:
    store, ids = cq
    [r] = search_json(store, "zebrauser")
    assert list(r) == ["id", "title", "workspace", "updated_at", "score", "hits"]
    assert isinstance(r["score"], float)
    listed = {x["id"]: x for x in json.loads(
        invoke("--dir", store, "list", "--json").stdout)}
    assert r["updated_at"] == listed[ids["user"]]["updated_at"]
    assert r["title"] == listed[ids["user"]]["title"]
    assert list(r["hits"][0]) == ["message", "role", "snippet", "spans"]


def test_jsonl_and_tsv(cq: tuple[Path, dict[str, str]]) -> None:
    store, ids = cq
    out = invoke("--dir", store, "search", "--jsonl", "zebrauser OR lemurassistant").stdout
    rows = [json.loads(line) for line in out.splitlines()]
    assert {r["id"] for r in rows} == {ids["user"], ids["assistant"]}
    tsv = invoke("--dir", store, "search", "zebrauser").stdout
    [line] = tsv.splitlines()
    sid_, n, role, updated, snippet = line.split("\t")
    assert (sid_, n, role) == (ids["user"], "1", "user")
    assert updated == rows[0]["updated_at"] or updated.startswith("2026-03-")
    assert snippet == "the user wrote zebrauser here"


def test_no_match(cq: tuple[Path, dict[str, str]], monkeypatch: pytest.MonkeyPatch) -> None:
    store, _ = cq
    assert invoke("--dir", store, "search", "nosuchwordatall").stdout == ""
    assert invoke("--dir", store, "search", "--json", "nosuchwordatall").stdout == "[]\n"
    assert invoke("--dir", store, "search", "--jsonl", "nosuchwordatall").stdout == ""
    import sessionctl.cli.common as common

    monkeypatch.setattr(common, "stdout_is_terminal", lambda: True)
    r = invoke("--dir", store, "search", "nosuchwordatall")
    assert r.stdout == "" and "no matches" in r.stderr


def test_terminal_view(cq: tuple[Path, dict[str, str]], monkeypatch: pytest.MonkeyPatch) -> None:
    store, ids = cq
    import sessionctl.cli.common as common

    monkeypatch.setattr(common, "stdout_is_terminal", lambda: True)
    out = invoke("--dir", store, "search", "zebrauser OR quokkatitle",
                 env={"COLUMNS": "120"}).stdout
    assert ids["user"][-16:-8] in out and ids["title"][-16:-8] in out
    assert "#1 user" in out and "the user wrote zebrauser here" in out
    assert "Quokkatitle planning" in out and "title" in out


def test_limit_and_filters(cq: tuple[Path, dict[str, str]]) -> None:
    store, ids = cq
    assert len(search_json(store, "the")) > 2
    assert len(search_json(store, "-n", "2", "the")) == 2
    got = search_json(store, "--since", "2026-03-02", "--until", "2026-03-03", "the")
    assert [r["id"] for r in got] == [ids["user"]]
    assert search_json(store, "--model", "nosuchmodel", "the") == []
    import importlib.util

    if importlib.util.find_spec("sessionctl.storage.labels") is None:
        r = invoke("--dir", store, "search", "--tag", "x", "the", code=2)
        assert "labels" in r.stderr  # refused, never ignored
    else:
        assert search_json(store, "--tag", "nosuchtag", "the") == []


def test_ranking_title_weighs_more_and_ties_newest_first(tmp_path: Path, cache_env: Path) -> None:
    store = tmp_path / "store"
    store.mkdir(mode=0o700)
    write_session(store, sid(1), user="gecko in the text", updated="2026-01-03T00:00:00Z")
    write_session(store, sid(2), title="gecko", user="gecko in the text",
                  updated="2026-01-01T00:00:00Z")
    write_session(store, sid(3), user="gecko in the text", updated="2026-01-02T00:00:00Z")
    got = search_json(store, "gecko")
    assert [r["id"] for r in got] == [sid(2), sid(1), sid(3)]
    assert got[0]["score"] > got[1]["score"] == got[2]["score"]


def test_three_hits_per_session_best_first(tmp_path: Path, cache_env: Path) -> None:
    store = tmp_path / "store"
    store.mkdir(mode=0o700)
    msgs = [text_msg("user", "heron")] + [
        text_msg("assistant", "heron " + "padding words " * k) for k in range(1, 6)]
    write_session(store, sid(1), messages=msgs)
    [r] = search_json(store, "heron")
    assert [h["message"] for h in r["hits"]] == [1, 2, 3]


# -- usage errors: exit 2, one line, never a traceback ---------------------------------

@pytest.mark.parametrize("args", [
    [], [""], ['"open'], ["OR"], ["a", "OR"], ["-"], ["--", "-x"], ["x" * 10_240],
])
def test_bad_queries(tmp_path: Path, cache_env: Path, args: list[str]) -> None:
    store = tmp_path / "store"
    store.mkdir(mode=0o700)
    r = invoke("--dir", store, "search", *args, code=2)
    assert r.stderr.startswith("sessionctl: ")


def test_bad_queries_in_a_real_process(tmp_path: Path) -> None:
    store = tmp_path / "store"
    store.mkdir(mode=0o700)
    for args in (['"open'], ["a", "OR"], ["--", "-"], ["x" * 10_240]):
        p = run("--dir", store, "search", *args, code=2)
        assert len(p.stderr.splitlines()) == 1 and p.stderr.startswith("sessionctl: ")
    # NUL bytes cannot be argv: in-process they are a usage error.
    r = invoke("--dir", store, "search", "a\x00b", code=2)
    assert "NUL" in r.stderr


def test_missing_fts5_is_one_line_exit_1(tmp_path: Path, cache_env: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """An interpreter whose SQLite lacks FTS5 (simulated: creating an fts5
    table fails as it does there)."""
    store = tmp_path / "store"
    store.mkdir(mode=0o700)
    write_session(store, sid(1))

    class NoFTS5(sqlite3.Connection):
        def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:  # type: ignore[override]
            if "fts5" in sql.lower():
                raise sqlite3.OperationalError("no such module: fts5")
            return super().execute(sql, *args)

    real = sqlite3.connect
    monkeypatch.setattr(sqlite3, "connect",
                        lambda *a, **k: real(*a, **{**k, "factory": NoFTS5}))
    r = invoke("--dir", store, "search", "hello", code=1)
    assert r.stderr.count("\n") == 1 and "FTS5" in r.stderr


# -- the store is never written ----------------------------------------------------

def _tree(path: Path) -> dict[str, tuple[int, int, int]]:
    return {str(p.relative_to(path)): (p.stat().st_size, p.stat().st_mtime_ns, p.stat().st_mode)
            for p in sorted(path.rglob("*"))}


def test_search_never_writes_into_the_store(tmp_path: Path, cache_env: Path) -> None:
    store = tmp_path / "store"
    store.mkdir(mode=0o700)
    write_session(store, sid(1), user="hello ferret")
    (store / "index.json").write_text("[]")  # stale on purpose
    before = _tree(store)
    os.chmod(store, 0o500)
    try:
        assert len(search_json(store, "ferret")) == 1
    finally:
        os.chmod(store, 0o700)
    assert _tree(store) == before
    assert list(cache_env.glob("search-*.sqlite3"))


def test_missing_store(tmp_path: Path, cache_env: Path) -> None:
    r = invoke("--dir", tmp_path / "nope", "search", "x", code=None)
    assert r.exit_code == invoke("--dir", tmp_path / "nope", "list", code=None).exit_code


# -- the index: catch-up for each way a file changes ---------------------------------

def _index_rows(cache: Path) -> tuple[int, int]:
    [db] = cache.glob("search-*.sqlite3")
    with sqlite3.connect(db) as conn:
        msgs = conn.execute("SELECT count(*) FROM msg").fetchone()[0]
        garbage = conn.execute("SELECT value FROM info WHERE key='garbage'").fetchone()[0]
    return msgs, garbage


@pytest.fixture
def small(tmp_path: Path, cache_env: Path) -> Path:
    store = tmp_path / "store"
    store.mkdir(mode=0o700)
    write_session(store, sid(1), user="alpha beetle", assistant="gamma")
    write_session(store, sid(2), user="other session")
    assert [r["id"] for r in search_json(store, "beetle")] == [sid(1)]
    return store


def test_append_indexes_only_new_records(small: Path, cache_env: Path) -> None:
    msgs, garbage = _index_rows(cache_env)
    JSONLStore(small).append_message_to_disk(
        JSONLStore(small).load(sid(1)), Message.text_message("user", "a new cricket"))
    [r] = search_json(small, "cricket")
    assert r["hits"][0]["message"] == 3
    assert _index_rows(cache_env) == (msgs + 1, garbage)  # nothing read twice
    assert [r["id"] for r in search_json(small, "beetle")] == [sid(1)]


def test_rewrite_in_place(small: Path, cache_env: Path) -> None:
    path = small / f"{sid(1)}.jsonl"
    data = path.read_bytes().replace(b"beetle", b"hornet")
    ino = path.stat().st_ino
    with open(path, "r+b") as f:  # same inode, same size
        f.write(data)
    os.utime(path, ns=(path.stat().st_mtime_ns + 10**9,) * 2)
    assert path.stat().st_ino == ino
    assert search_json(small, "beetle") == []
    assert [r["id"] for r in search_json(small, "hornet")] == [sid(1)]


def test_grown_but_changed_is_read_again(small: Path, cache_env: Path) -> None:
    path = small / f"{sid(1)}.jsonl"
    data = path.read_bytes().replace(b"beetle", b"mantis")
    with open(path, "r+b") as f:
        f.write(data + b"\n")  # same inode, larger, but the old bytes changed
    assert search_json(small, "beetle") == []
    assert [r["id"] for r in search_json(small, "mantis")] == [sid(1)]


def test_replace_by_rename(small: Path, cache_env: Path) -> None:
    tmp = small / "x.tmp"
    write_session(small, "tmpname", user="alpha termite")
    os.rename(small / "tmpname.jsonl", tmp)
    os.rename(tmp, small / f"{sid(1)}.jsonl")
    assert search_json(small, "beetle") == []
    assert [r["id"] for r in search_json(small, "termite")] == [sid(1)]


def test_delete(small: Path, cache_env: Path) -> None:
    os.unlink(small / f"{sid(1)}.jsonl")
    assert search_json(small, "beetle") == []
    assert [r["id"] for r in search_json(small, "other")] == [sid(2)]


def test_torn_tail_completed_later(small: Path, cache_env: Path) -> None:
    path = small / f"{sid(1)}.jsonl"
    line = json.dumps(rec(sid(1), text_msg("assistant", "a torn locust line"))).encode()
    with open(path, "ab") as f:
        f.write(line[:20])  # torn: the writer is mid-line
    assert search_json(small, "locust") == []
    assert [r["id"] for r in search_json(small, "beetle")] == [sid(1)]
    with open(path, "ab") as f:
        f.write(line[20:] + b"\n")
    [r] = search_json(small, "locust")
    assert [h["message"] for h in r["hits"]] == [3]
    # ... and read once: an append after it does not bring it back twice.
    with open(path, "ab") as f:
        f.write(json.dumps(rec(sid(1), text_msg("user", "locust again"))).encode() + b"\n")
    [r] = search_json(small, "locust")
    assert sorted(h["message"] for h in r["hits"]) == [3, 4]


def test_unterminated_complete_last_line_then_repaired(small: Path, cache_env: Path) -> None:
    path = small / f"{sid(1)}.jsonl"
    line = json.dumps(rec(sid(1), text_msg("assistant", "no newline weevil"))).encode()
    with open(path, "ab") as f:
        f.write(line)  # complete record that lost its newline
    [r] = search_json(small, "weevil")
    assert r["hits"][0]["message"] == 3
    with open(path, "ab") as f:  # the repair ends it; then a new record
        f.write(b"\n" + json.dumps(rec(sid(1), text_msg("user", "weevil two"))).encode() + b"\n")
    [r] = search_json(small, "weevil")
    assert sorted(h["message"] for h in r["hits"]) == [3, 4]


def test_damaged_lines_are_skipped(tmp_path: Path, cache_env: Path) -> None:
    store = tmp_path / "store"
    store.mkdir(mode=0o700)
    path = write_session(store, sid(1), user="hello aphid")
    with open(path, "ab") as f:
        f.write(b'{"type":"message","message":{broken\n\xff\xfe\n[1,2]\n')
        f.write(json.dumps(rec(sid(1), text_msg("user", "after damage aphid"))).encode() + b"\n")
    [r] = search_json(store, "aphid")
    assert sorted(h["message"] for h in r["hits"]) == [1, 3]


@pytest.mark.parametrize("damage", ["garbage", "foreign", "version", "truncated"])
def test_damaged_or_foreign_database_is_rebuilt(small: Path, cache_env: Path, damage: str) -> None:
    [db] = cache_env.glob("search-*.sqlite3")
    if damage == "garbage":
        db.write_bytes(b"this is not a database" * 100)
    elif damage == "foreign":
        db.unlink()
        with sqlite3.connect(db) as conn:
            conn.execute("CREATE TABLE something(x)")
    elif damage == "version":
        with sqlite3.connect(db) as conn:
            conn.execute("UPDATE info SET value = ? WHERE key = 'version'", (SCHEMA_VERSION + 1,))
    else:
        data = db.read_bytes()
        db.write_bytes(data[: len(data) // 2])
    assert [r["id"] for r in search_json(small, "beetle")] == [sid(1)]
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT value FROM info WHERE key='version'").fetchone()[0] \
            == SCHEMA_VERSION


def test_reindex(small: Path, cache_env: Path) -> None:
    JSONLStore(small).append_message_to_disk(
        JSONLStore(small).load(sid(1)), Message.text_message("user", "moth"))
    assert len(search_json(small, "--reindex", "moth")) == 1
    assert _index_rows(cache_env)[1] == 0


def test_database_for_another_store_is_not_shared(tmp_path: Path, cache_env: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    for d, word in ((a, "puffin"), (b, "toucan")):
        d.mkdir(mode=0o700)
        write_session(d, sid(1), user=word)
    assert len(search_json(a, "puffin")) == 1 and search_json(b, "puffin") == []
    assert len(list(cache_env.glob("search-*.sqlite3"))) == 2


def test_unwritable_cache_still_searches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = tmp_path / "store"
    store.mkdir(mode=0o700)
    write_session(store, sid(1), user="hello marmot")
    blocker = tmp_path / "cache-file"
    blocker.write_text("not a directory")
    monkeypatch.setenv(CACHE, str(blocker / "sub"))
    assert len(search_json(store, "marmot")) == 1


def test_title_change_is_seen(small: Path, cache_env: Path) -> None:
    s = JSONLStore(small)
    ses = s.load(sid(2))
    ses.title = "renamed albatross"
    s.append_message_to_disk(ses, Message.text_message("user", "more"))
    [r] = search_json(small, "albatross")
    assert r["id"] == sid(2) and r["hits"][0]["role"] == "title"


def test_library_api(small: Path, cache_env: Path) -> None:
    results, skipped = run_search(JSONLStore(small, create=False), parse_query(["beetle"]),
                                  cache=cache_env)
    assert [r.info.id for r in results] == [sid(1)] and skipped == []
    idx = SearchIndex(JSONLStore(small, create=False), cache_env)
    assert idx.path is not None and idx.path.exists()


# -- show --from N --------------------------------------------------------------

def test_show_from(tmp_path: Path, cache_env: Path) -> None:
    store = tmp_path / "store"
    store.mkdir(mode=0o700)
    write_session(store, sid(1), messages=[text_msg("user", f"message number {k}")
                                           for k in range(1, 6)])
    out = invoke("--dir", store, "show", "--from", "4", sid(1)).stdout
    assert "message number 4" in out and "message number 5" in out
    assert "message number 3" not in out
    invoke("--dir", store, "show", "--from", "9", sid(1), code=2)
    invoke("--dir", store, "show", "--from", "0", sid(1), code=2)
    invoke("--dir", store, "show", "--from", "2", "--json", sid(1), code=2)


# -- the reference's own search finds nothing we miss -------------------------------

def _ggcode_search(store: Path, word: str) -> set[str]:
    """ggcode v1.3.216's SearchSessions (internal/session/search.go): the
    sessions in index.json whose message records have a text block holding
    the lower-cased query as a substring of its lower-cased text."""
    needle = word.strip().lower()
    found = set()
    for entry in json.loads((store / "index.json").read_text()):
        path = store / f"{entry['id']}.jsonl"
        try:
            lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            continue
        for line in lines:
            t = line.strip()
            if not t or needle not in t.lower():
                continue
            try:
                r = json.loads(t)
            except ValueError:
                continue
            if r.get("type") != "message" or not isinstance(r.get("message"), dict):
                continue
            for b in r["message"].get("content") or []:
                if b.get("type") == "text" and needle in (b.get("text") or "").lower():
                    found.add(entry["id"])
                    break
    return found


def test_finds_every_session_ggcode_finds(dir216: Path, cache_env: Path) -> None:
    import re

    words: set[str] = set()
    for p in dir216.glob("*.jsonl"):
        for line in p.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                r = json.loads(line)
            except ValueError:
                continue
            if r.get("type") == "message" and isinstance(r.get("message"), dict):
                for b in r["message"].get("content") or []:
                    if b.get("type") == "text":
                        words.update(re.findall(r"\w{3,}", b.get("text") or ""))
    assert len(words) > 50
    checked = 0
    for word in sorted(words):
        theirs = _ggcode_search(dir216, word)
        if not theirs:
            continue
        ours = {r["id"] for r in search_json(dir216, "--all", "-n", "1000", word)}
        assert theirs <= ours, (word, theirs - ours)
        checked += 1
    assert checked > 50


def test_real_process_search(cq: tuple[Path, dict[str, str]], corpus_cache: Path) -> None:
    store, ids = cq
    from tests.cli_helpers import child_env

    p = run("--dir", store, "search", "--json", "zebrauser", env=child_env(**{
        CACHE: str(corpus_cache)}))
    check_stderr(p.stderr, p.returncode)
    assert [r["id"] for r in json.loads(p.stdout)] == [ids["user"]]


def test_rows_after_an_append_are_lists_rows(small: Path, cache_env: Path) -> None:
    """After an append only that session's row is read again; it equals list's."""
    s = JSONLStore(small)
    ses = s.load(sid(1))
    ses.title = "retitled by append"
    s.append_message_to_disk(ses, Message.text_message("user", "a stonefly arrives"))
    [r] = search_json(small, "stonefly")
    listed = {x["id"]: x for x in json.loads(invoke("--dir", small, "list", "--json").stdout)}
    assert (r["title"], r["updated_at"], r["workspace"]) == (
        listed[sid(1)]["title"], listed[sid(1)]["updated_at"], listed[sid(1)]["workspace"])


def test_index_json_change_is_seen(tmp_path: Path, cache_env: Path) -> None:
    """A session without meta takes its title from index.json (SPEC §7): a
    rewritten index.json alone changes what the title search finds."""
    store = tmp_path / "store"
    store.mkdir(mode=0o700)
    (store / f"{sid(1)}.jsonl").write_text(
        json.dumps(rec(sid(1), text_msg("user", "no meta here"))) + "\n")

    def index(title: str) -> None:
        (store / "index.json").write_text(json.dumps([{
            "id": sid(1), "title": title, "created_at": "2026-01-01T00:00:00Z",
            "updated_at": "2026-01-01T00:00:00Z", "msg_count": 1}]))

    index("zanzibar plans")
    assert [h["role"] for r in search_json(store, "zanzibar") for h in r["hits"]] == ["title"]
    index("yucatan plans")
    assert search_json(store, "zanzibar") == []
    assert [r["id"] for r in search_json(store, "yucatan")] == [sid(1)]


def test_index_is_private(small: Path, cache_env: Path) -> None:
    [db] = cache_env.glob("search-*.sqlite3")
    assert db.stat().st_mode & 0o077 == 0


def test_tag_and_pinned_filters(tmp_path: Path, cache_env: Path) -> None:
    """--tag (all must match, lower-cased) and --pinned, from
    ``.sessionctl/labels.json`` (SPEC §8.2; issue #13's labels module)."""
    pytest.importorskip("sessionctl.storage.labels")
    store = tmp_path / "store"
    store.mkdir(mode=0o700)
    for k in (1, 2, 3):
        write_session(store, sid(k), user="common cormorant")
    state = store / ".sessionctl"
    state.mkdir(mode=0o700)
    (state / "labels.json").write_text(json.dumps({"version": 1, "sessions": {
        sid(1): {"tags": ["work", "db"], "pinned": True},
        sid(2): {"tags": ["work"]},
    }}))
    assert {r["id"] for r in search_json(store, "--tag", "WORK", "cormorant")} == {
        sid(1), sid(2)}
    assert [r["id"] for r in search_json(store, "--tag", "work", "--tag", "db",
                                         "cormorant")] == [sid(1)]
    assert [r["id"] for r in search_json(store, "--pinned", "cormorant")] == [sid(1)]


@pytest.mark.parametrize("from_index", [False, True])
def test_words_inside_words_both_vocabulary_paths(
    tmp_path: Path, cache_env: Path, monkeypatch: pytest.MonkeyPatch, from_index: bool,
) -> None:
    """A bare word matches inside longer words, whether the vocabulary was
    collected word by word (a small catch-up) or from the index (a build)."""
    import sessionctl.cache.search_catchup as catchup_mod

    if from_index:
        monkeypatch.setattr(catchup_mod, "_VOCAB_SCAN_BYTES", 0)
    store = tmp_path / "store"
    store.mkdir(mode=0o700)
    write_session(store, sid(1), user="the reindexing job")
    write_session(store, sid(2), user="nothing here", assistant="see CodexPlugin docs")
    assert [r["id"] for r in search_json(store, "index")] == [sid(1)]
    [r] = search_json(store, "dexplug")
    assert r["id"] == sid(2)
    assert [r["hits"][0]["snippet"][a:b] for a, b in r["hits"][0]["spans"]] == ["CodexPlugin"]


def test_catch_up_in_many_batches(tmp_path: Path, cache_env: Path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A catch-up commits batch by batch (other searches move on between
    them); every file is indexed once."""
    import sessionctl.cache.search_catchup as catchup_mod

    monkeypatch.setattr(catchup_mod, "_BATCH_BYTES", 1)
    store = tmp_path / "store"
    store.mkdir(mode=0o700)
    for k in range(1, 8):
        write_session(store, sid(k), user=f"batch {k} kestrel")
    found = search_json(store, "kestrel")
    assert sorted(r["id"] for r in found) == [sid(k) for k in range(1, 8)]
    assert _index_rows(cache_env) == (14, 0)


def test_garbage_outweighing_live_rows_rebuilds(small: Path, cache_env: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows of rewritten and removed files stay behind in the contentless
    index until they outweigh the live ones; then it is built afresh, whole."""
    import sessionctl.cache.search_index as index_mod

    monkeypatch.setattr(index_mod, "GARBAGE_MIN", 2)
    os.unlink(small / f"{sid(2)}.jsonl")
    write_session(small, sid(3), user="a fresh bittern")
    assert [r["id"] for r in search_json(small, "bittern")] == [sid(3)]
    assert _index_rows(cache_env)[1] == 2  # sid(2)'s two messages
    path = small / f"{sid(1)}.jsonl"
    path.write_text(path.read_text().replace("beetle", "weta"))
    os.utime(path, ns=(path.stat().st_mtime_ns + 10**9,) * 2)
    assert [r["id"] for r in search_json(small, "weta")] == [sid(1)]
    assert _index_rows(cache_env)[1] == 4  # and sid(1)'s old two
    # Next search: 4 unreachable > 4 live? Not yet; one more rewrite tips it.
    write_session(small, sid(3), user="a fresh bittern again")
    assert [r["id"] for r in search_json(small, "bittern")] == [sid(3)]
    assert [r["id"] for r in search_json(small, "weta")] == [sid(1)]
    msgs, garbage = _index_rows(cache_env)
    assert garbage == 0 and msgs == 4
    assert [r["id"] for r in search_json(small, "bittern")] == [sid(3)]


def test_index_that_cannot_be_opened_still_searches(small: Path, cache_env: Path) -> None:
    """An index path that can be neither opened nor removed (here a
    directory in its place; in life another user's cache): the search still
    answers, from an index in memory."""
    [db] = cache_env.glob("search-*.sqlite3")
    for p in cache_env.glob("search-*"):
        p.unlink()
    db.mkdir()
    (db / "keep").write_text("x")
    JSONLStore(small).append_message_to_disk(
        JSONLStore(small).load(sid(2)), Message.text_message("user", "a late tui"))
    assert [r["id"] for r in search_json(small, "tui")] == [sid(2)]
    assert db.is_dir()


def test_search_fold_agrees_with_the_record_reader(cq: tuple[Path, dict[str, str]]) -> None:
    """The index's documents (and their N) are what the one record reader's
    fold gives for every corpus file: duplicates, checkpoints, damage alike."""
    from sessionctl.cache.search_catchup import read_docs
    from sessionctl.core.folds import read_records
    from sessionctl.core.search_fold import SearchDocs, SearchFold

    store, _ = cq
    for path in sorted(store.glob("*.jsonl")):
        docs = SearchDocs()
        with open(path, "rb") as f:
            read_records(f, docs)
        with open(path, "rb") as f:
            _, rows = read_docs(f, 0, path.stat().st_size, SearchFold())
        assert [d for d, _, _ in rows] == docs.docs, path.name
