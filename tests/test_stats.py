"""``sessionctl stats``/``du`` over a generated store in v1.3.216's record
shapes (internal/session/store.go's jsonlRecord with ``usage_entry`` and
``metric_event``; internal/metrics/metrics.go's MetricEvent), with totals
computed here, independently of the code under test (SPEC §8.4)."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import invoke, run
from conftest import V1333, write_lines

from sessionctl.core.prices import PriceTable, parse_table
from sessionctl.core.usage import FileUsage, billable_input, call_total, fold_usage
from sessionctl.errors import UsageError
from sessionctl.storage.prices import load_prices, shipped_table

ZERO = "0001-01-01T00:00:00Z"


@pytest.fixture(autouse=True)
def _no_user_prices(tmp_path_factory: pytest.TempPathFactory,
                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Never the developer's own price file (XDG_CONFIG_HOME may be set)."""
    monkeypatch.setenv("SESSIONCTL_CONFIG_DIR", str(tmp_path_factory.mktemp("config")))
ZU = {"input_tokens": 0, "output_tokens": 0, "cache_read_tokens": 0, "cache_write_tokens": 0}
WS_A, WS_B, WS_C = "/home/dev/a", "/home/dev/b", "/home/dev/c"

S_SWITCH = "20261130-234000-000000000000000a"
S_DAEMON = "20261115-100000-000000000000000b"
S_OLD = "20261010-110000-000000000000000c"
S_HIDDEN = "20261120-090000-000000000000000d"
S_BIG = "20261121-080000-000000000000000e"
S_V1333 = "20261124-145443-141870a45d1e0b70"


def env(sid: str, rtype: str) -> dict[str, Any]:
    """The fields every v1.3.216 record carries (zero times, zero token_usage)."""
    return {"type": rtype, "session_id": sid, "token_usage": dict(ZU), "created_at": ZERO,
            "updated_at": ZERO, "timestamp": ZERO}


def meta(sid: str, ws: str, vendor: str, model: str, updated: str,
         total: dict[str, int] | None = None) -> dict[str, Any]:
    r = env(sid, "meta")
    r.update(title="t " + sid[-1], workspace=ws, vendor=vendor, endpoint="default", model=model,
             token_usage=total or dict(ZU), created_at="2026-10-01T00:00:00Z", updated_at=updated)
    return r


def msg(sid: str, n: int, role: str, ts: str, content: list[dict[str, Any]]) -> dict[str, Any]:
    r = env(sid, "message")
    r.update(message={"id": f"msg_{sid[-4:]}-{n}", "role": role, "content": content},
             timestamp=ts)
    return r


def text(t: str) -> list[dict[str, Any]]:
    return [{"type": "text", "text": t}]


def usage(sid: str, ts: str, model: str, vendor: str, inp: int, out: int, cr: int, cw: int,
          ptt: int = 0) -> dict[str, Any]:
    u: dict[str, Any] = {"input_tokens": inp, "output_tokens": out, "cache_read_tokens": cr,
                         "cache_write_tokens": cw}
    if ptt:
        u["prompt_tokens_total"] = ptt
    entry: dict[str, Any] = {"timestamp": ts, "turn_index": 1, "source": "agent", "usage": u}
    if model:
        entry.update(model=model, vendor=vendor, endpoint="default")
    r = env(sid, "usage")
    r["usage_entry"] = entry
    return r


def metric_llm(sid: str, ts: str, model: str, vendor: str, inp: int, out: int, cr: int,
               cw: int) -> dict[str, Any]:
    ev: dict[str, Any] = {"timestamp": ts, "turn_index": 1, "type": "llm", "ttft": 420000000,
                          "duration": 3000000000, "model": model, "vendor": vendor}
    for k, v in (("input_tokens", inp), ("output_tokens", out), ("cache_read_tokens", cr),
                 ("cache_write_tokens", cw)):
        if v:  # omitempty
            ev[k] = v
    r = env(sid, "metric")
    r["metric_event"] = ev
    return r


def metric_tool(sid: str, ts: str, name: str, ok: bool, ns: int) -> dict[str, Any]:
    ev: dict[str, Any] = {"timestamp": ts, "turn_index": 1, "type": "tool", "tool_name": name,
                          "tool_duration": ns}
    if ok:
        ev["tool_success"] = True  # omitempty: absent when false
    else:
        ev["tool_error"] = "exit status 1"
    r = env(sid, "metric")
    r["metric_event"] = ev
    return r


# The ground truth: every call that counts, as (session, time, model, vendor,
# workspace, in, out, cache read, cache write, prompt_tokens_total).
Call = tuple[str, str, str, str, str, int, int, int, int, int]
CALLS: list[Call] = [
    # model switch mid-session, crossing midnight UTC and a month boundary
    (S_SWITCH, "2026-11-30T23:50:10Z", "claude-sonnet-4-5", "anthropic", WS_A,
     1000, 100, 500, 50, 1550),
    (S_SWITCH, "2026-12-01T00:10:00Z", "gpt-5-mini", "openai", WS_A, 2000, 200, 1000, 0, 2000),
    (S_SWITCH, "2026-12-01T00:20:00Z", "gpt-5-mini", "openai", WS_A, 400, 40, 0, 0, 0),
    # a daemon session: metric records only
    (S_DAEMON, "2026-11-15T10:00:00Z", "deepseek-chat", "deepseek", WS_B, 300, 30, 100, 0, 0),
    (S_DAEMON, "2026-11-15T10:05:00Z", "deepseek-chat", "deepseek", WS_B, 600, 60, 0, 0, 0),
    # an old session: only a meta total, counted once at its updated_at
    (S_OLD, "2026-10-10T12:00:00Z", "claude-opus-4-1", "anthropic", WS_C, 5000, 500, 0, 0, 0),
    # the hidden session (counted with --all only)
    (S_HIDDEN, "2026-11-20T09:00:00Z", "claude-haiku-4-5", "anthropic", WS_B, 70, 7, 0, 0, 0),
    # a line over 4 MB still counts; a local model is unpriced; a usage record
    # without model/time falls back to the session's model and updated_at
    (S_BIG, "2026-11-21T08:00:00Z", "qwen3-coder:30b", "ollama", WS_C, 11, 22, 0, 0, 0),
    (S_BIG, "2026-11-21T08:30:00Z", "claude-sonnet-4-5", "anthropic", WS_C, 9, 1, 0, 0, 0),
]
HIDDEN = {S_HIDDEN}
# (session, time, model, vendor, workspace) of every message read.
Msg = tuple[str, str, str, str, str]
MSGS: list[Msg] = []
# (session, time, tool, calls, failures, seconds or None)
TOOLS: list[tuple[str, str, str, int, int, float | None]] = [
    (S_DAEMON, "2026-11-15T10:01:00Z", "bash", 1, 0, 2.0),
    (S_DAEMON, "2026-11-15T10:02:00Z", "bash", 1, 1, 1.5),
    (S_DAEMON, "2026-11-15T10:03:00Z", "read_file", 1, 0, 0.25),
    (S_OLD, "2026-10-10T11:10:00Z", "run_command", 1, 0, None),
    (S_OLD, "2026-10-10T11:11:00Z", "run_command", 0, 1, None),
]
BIG_LINE = 4_500_000


def _write(path: Path, records: Iterable[dict[str, Any] | bytes]) -> None:
    """A ``bytes`` record is written as is (no newline added): a cut line."""
    recs = list(records)
    raw = recs.pop() if recs and isinstance(recs[-1], bytes) else b""
    assert not any(isinstance(r, bytes) for r in recs)
    write_lines(path, *recs, raw=raw, ensure_ascii=True, mode=None)


def make_store(root: Path) -> Path:
    store = root / "store"
    store.mkdir(mode=0o700)
    MSGS.clear()

    def m(sid: str, n: int, role: str, ts: str, model: str, vendor: str, ws: str,
          content: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        MSGS.append((sid, ts, model, vendor, ws))
        return msg(sid, n, role, ts, content or text(f"{role} {n}"))

    sw = S_SWITCH
    _write(store / f"{sw}.jsonl", [
        meta(sw, WS_A, "anthropic", "claude-sonnet-4-5", "2026-11-30T23:50:00Z",
             {"input_tokens": 1000, "output_tokens": 100}),
        m(sw, 1, "user", "2026-11-30T23:49:00Z", "gpt-5-mini", "openai", WS_A),
        usage(sw, "2026-11-30T23:50:10Z", "claude-sonnet-4-5", "anthropic", 1000, 100, 500, 50,
              1550),
        metric_llm(sw, "2026-11-30T23:50:10Z", "claude-sonnet-4-5", "anthropic", 1000, 100,
                   500, 50),
        m(sw, 2, "assistant", "2026-11-30T23:55:00Z", "gpt-5-mini", "openai", WS_A),
        # the same message again: read once
        msg(sw, 2, "assistant", "2026-11-30T23:55:00Z", text("assistant 2")),
        meta(sw, WS_A, "openai", "gpt-5-mini", "2026-12-01T00:20:00Z",
             {"input_tokens": 3400, "output_tokens": 340, "cache_read_tokens": 1500}),
        usage(sw, "2026-12-01T00:10:00Z", "gpt-5-mini", "openai", 2000, 200, 1000, 0, 2000),
        metric_llm(sw, "2026-12-01T00:10:00Z", "gpt-5-mini", "openai", 2000, 200, 1000, 0),
        usage(sw, "2026-12-01T00:20:00Z", "gpt-5-mini", "openai", 400, 40, 0, 0),
        m(sw, 3, "user", "2026-12-01T00:21:00Z", "gpt-5-mini", "openai", WS_A),
    ])
    d = S_DAEMON
    _write(store / f"{d}.jsonl", [
        meta(d, WS_B, "deepseek", "deepseek-chat", "2026-11-15T10:05:00Z"),
        m(d, 1, "user", "2026-11-15T09:59:00Z", "deepseek-chat", "deepseek", WS_B),
        metric_llm(d, "2026-11-15T10:00:00Z", "deepseek-chat", "deepseek", 300, 30, 100, 0),
        metric_tool(d, "2026-11-15T10:01:00Z", "bash", True, 2_000_000_000),
        metric_tool(d, "2026-11-15T10:02:00Z", "bash", False, 1_500_000_000),
        metric_tool(d, "2026-11-15T10:03:00Z", "read_file", True, 250_000_000),
        metric_llm(d, "2026-11-15T10:05:00Z", "deepseek-chat", "deepseek", 600, 60, 0, 0),
        # tool_use blocks in a session with tool metrics are not counted again
        m(d, 2, "assistant", "2026-11-15T10:04:00Z", "deepseek-chat", "deepseek", WS_B,
          [{"type": "tool_use", "tool_name": "bash", "tool_id": "x1", "input": {}}]),
    ])
    o = S_OLD
    _write(store / f"{o}.jsonl", [
        meta(o, WS_C, "anthropic", "claude-opus-4-1", "2026-10-10T11:30:00Z",
             {"input_tokens": 2000, "output_tokens": 200}),
        m(o, 1, "user", "2026-10-10T11:00:00Z", "claude-opus-4-1", "anthropic", WS_C),
        m(o, 2, "assistant", "2026-10-10T11:10:00Z", "claude-opus-4-1", "anthropic", WS_C,
          [{"type": "tool_use", "tool_name": "run_command", "tool_id": "t1", "input": {}}]),
        m(o, 3, "user", "2026-10-10T11:11:00Z", "claude-opus-4-1", "anthropic", WS_C,
          [{"type": "tool_result", "tool_id": "t1", "output": "boom", "is_error": True}]),
        meta(o, WS_C, "anthropic", "claude-opus-4-1", "2026-10-10T12:00:00Z",
             {"input_tokens": 5000, "output_tokens": 500}),
    ])
    h = S_HIDDEN
    _write(store / f"{h}.jsonl", [
        meta(h, WS_B, "anthropic", "claude-haiku-4-5", "2026-11-20T09:00:00Z"),
        m(h, 1, "assistant", "2026-11-20T08:59:00Z", "claude-haiku-4-5", "anthropic", WS_B),
        usage(h, "2026-11-20T09:00:00Z", "claude-haiku-4-5", "anthropic", 70, 7, 0, 0),
    ])
    b = S_BIG
    big = usage(b, "2026-11-21T08:00:00Z", "qwen3-coder:30b", "ollama", 11, 22, 0, 0)
    big["padding"] = "x" * BIG_LINE
    nomodel = usage(b, ZERO, "", "", 9, 1, 0, 0)
    nomodel["usage_entry"]["timestamp"] = ZERO
    _write(store / f"{b}.jsonl", [
        meta(b, WS_C, "anthropic", "claude-sonnet-4-5", "2026-11-21T08:30:00Z"),
        m(b, 1, "user", "2026-11-21T07:59:00Z", "claude-sonnet-4-5", "anthropic", WS_C),
        big,
        nomodel,
        b'{"type":"usage","session_id":"' + b.encode() + b'","usage_entry":{"usage":{"input_tok',
    ])
    # a v1.3.33 file: no usage at all, messages without times (at updated_at)
    src = V1333 / "sessions" / f"{S_V1333}.jsonl"
    shutil.copy(src, store / src.name)
    first = json.loads(src.read_text().splitlines()[0])
    n = sum(1 for ln in src.read_text().splitlines() if json.loads(ln)["type"] == "message")
    for _ in range(n):
        MSGS.append((S_V1333, first["updated_at"], first["model"], first["vendor"],
                     first["workspace"]))
    return store


# -- the independent model ---------------------------------------------------------

def _minute(ts: str) -> datetime:
    t = datetime.fromisoformat(ts.replace("Z", "+00:00")).astimezone(timezone.utc)
    return t.replace(second=0, microsecond=0)


def _bykey(by: str, ts: str, model: str, vendor: str, ws: str, sid: str) -> str:
    t = _minute(ts)
    if by == "day":
        return t.strftime("%Y-%m-%d")
    if by == "week":
        y, w, _ = t.isocalendar()
        return f"{y}-W{w:02d}"
    if by == "month":
        return t.strftime("%Y-%m")
    return {"model": model, "vendor": vendor, "workspace": ws, "session": sid}[by]


def expected(by: str, *, hidden: bool = False, since: str | None = None,
             until: str | None = None, model: str | None = None, vendor: str | None = None,
             ws: str | None = None) -> dict[str, dict[str, Any]]:
    prices = load_prices()
    out: dict[str, dict[str, Any]] = {}
    sessions: dict[str, set[str]] = defaultdict(set)

    def keep(sid: str, ts: str, mo: str, ve: str, w: str) -> bool:
        t = _minute(ts)
        return ((hidden or sid not in HIDDEN)
                and (since is None or t >= _minute(since))
                and (until is None or t < _minute(until))
                and (model is None or mo == model) and (vendor is None or ve == vendor)
                and (ws is None or w == ws))

    def row(k: str) -> dict[str, Any]:
        return out.setdefault(k, {"key": k, "messages": 0, "input_tokens": 0,
                                  "output_tokens": 0, "cache_read_tokens": 0,
                                  "cache_write_tokens": 0, "total_tokens": 0, "cost": 0.0,
                                  "unpriced": set()})

    for sid, ts, mo, ve, w, i, o, cr, cw, ptt in CALLS:
        if not keep(sid, ts, mo, ve, w):
            continue
        k = _bykey(by, ts, mo, ve, w, sid)
        r = row(k)
        sessions[k].add(sid)
        r["input_tokens"] += i
        r["output_tokens"] += o
        r["cache_read_tokens"] += cr
        r["cache_write_tokens"] += cw
        r["total_tokens"] += (ptt + o) if ptt > 0 else (i + cr + cw + o)
        p = prices.get(mo)
        if p is None:
            r["unpriced"].add(mo)
        else:
            fresh = min(ptt - cr, i) if cr > 0 and ptt > 0 and ptt - cr >= 0 else i
            r["cost"] += (fresh * p.input + o * p.output + cr * p.cache_read
                          + cw * p.cache_write) / 1e6
    for sid, ts, mo, ve, w in MSGS:
        if keep(sid, ts, mo, ve, w):
            k = _bykey(by, ts, mo, ve, w, sid)
            row(k)["messages"] += 1
            sessions[k].add(sid)
    for k, r in out.items():
        r["sessions"] = len(sessions[k])
    return out


def stats_json(store: Path, *args: object) -> dict[str, Any]:
    res = invoke("--dir", store, "stats", "--json", *args)
    data: dict[str, Any] = json.loads(res.stdout)
    return data


def check_rows(data: dict[str, Any], want: dict[str, dict[str, Any]]) -> None:
    got = {r["key"]: r for r in data["rows"]}
    assert set(got) == set(want), (sorted(got), sorted(want))
    for k, w in want.items():
        g = got[k]
        for f in ("sessions", "messages", "input_tokens", "output_tokens", "cache_read_tokens",
                  "cache_write_tokens", "total_tokens"):
            assert g[f] == w[f], (k, f, g, w)
        if w["unpriced"] and not w["cost"]:
            assert g["cost_usd"] is None
        else:
            assert g["cost_usd"] == pytest.approx(w["cost"], abs=1e-6), (k, g, w)
        assert set(g.get("unpriced_models", [])) == w["unpriced"]
    tot = data["totals"]
    for f in ("messages", "input_tokens", "output_tokens", "total_tokens"):
        assert tot[f] == sum(w[f] for w in want.values()), f


@pytest.fixture(scope="module")
def gen_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_store(tmp_path_factory.mktemp("stats"))


BYS = ("day", "week", "month", "model", "vendor", "workspace", "session")


@pytest.mark.parametrize("by", BYS)
def test_every_by_matches_independent_totals(gen_store: Path, by: str) -> None:
    check_rows(stats_json(gen_store, "--by", by), expected(by))


@pytest.mark.parametrize("by", ["day", "model", "session"])
def test_all_counts_the_hidden_session(gen_store: Path, by: str) -> None:
    data = stats_json(gen_store, "--by", by, "--all")
    check_rows(data, expected(by, hidden=True))
    assert S_HIDDEN in json.dumps(stats_json(gen_store, "--by", "session", "--all"))


@pytest.mark.parametrize(("args", "kw"), [
    (("--since", "2026-12-01T00:00:00Z"), {"since": "2026-12-01T00:00:00Z"}),
    (("--until", "2026-12-01T00:00:00Z"), {"until": "2026-12-01T00:00:00Z"}),
    (("--since", "2026-11-15T10:02:00Z", "--until", "2026-11-30T23:51:00Z"),
     {"since": "2026-11-15T10:02:00Z", "until": "2026-11-30T23:51:00Z"}),
    (("--model", "gpt-5-mini"), {"model": "gpt-5-mini"}),
    (("--model", "claude-sonnet-4-5"), {"model": "claude-sonnet-4-5"}),
    (("--vendor", "anthropic"), {"vendor": "anthropic"}),
    (("--workspace", WS_C), {"ws": WS_C}),
])
@pytest.mark.parametrize("by", ["day", "model", "workspace"])
def test_filters_match_independent_totals(
    gen_store: Path, args: tuple[str, ...], kw: dict[str, str], by: str,
) -> None:
    check_rows(stats_json(gen_store, "--by", by, *args), expected(by, **kw))  # type: ignore[arg-type]


def test_month_and_midnight_split_the_switching_session(gen_store: Path) -> None:
    days = {r["key"]: r for r in stats_json(gen_store, "--by", "day")["rows"]}
    assert days["2026-11-30"]["total_tokens"] == 1550 + 100
    assert days["2026-12-01"]["total_tokens"] == (2000 + 200) + (400 + 40)
    months = {r["key"] for r in stats_json(gen_store, "--by", "month")["rows"]}
    assert {"2026-11", "2026-12", "2026-10"} <= months
    weeks = {r["key"] for r in stats_json(gen_store, "--by", "week")["rows"]}
    assert "2026-W49" in weeks and "2026-W48" in weeks


def test_only_usage_records_count_when_all_three_kinds(gen_store: Path) -> None:
    rows = {r["key"]: r for r in stats_json(gen_store, "--by", "session")["rows"]}
    # usage records: 1550+100, 2000+200, 400+40; never the metric copies nor the meta total
    assert rows[S_SWITCH]["total_tokens"] == 1650 + 2200 + 440
    assert rows[S_OLD]["total_tokens"] == 5500  # the last meta total, once
    assert rows[S_DAEMON]["total_tokens"] == 330 + 100 + 660
    assert rows[S_V1333]["total_tokens"] == 0 and rows[S_V1333]["messages"] > 0


def test_big_line_counts_and_local_model_is_unpriced(gen_store: Path) -> None:
    data = stats_json(gen_store, "--by", "model")
    rows = {r["key"]: r for r in data["rows"]}
    assert rows["qwen3-coder:30b"]["total_tokens"] == 33
    assert rows["qwen3-coder:30b"]["cost_usd"] is None
    assert "qwen3-coder:30b" in data["unpriced_models"]
    # the usage record without model/time: the session's model and updated_at
    assert rows["claude-sonnet-4-5"]["input_tokens"] == 1000 + 9


def test_tools_from_metrics_else_blocks(gen_store: Path) -> None:
    data = stats_json(gen_store, "--by", "tool")
    rows = {r["key"]: r for r in data["rows"]}
    want: dict[str, list[Any]] = {}
    for _sid, _ts, name, calls, fails, secs in TOOLS:
        w = want.setdefault(name, [0, 0, None])
        w[0] += calls
        w[1] += fails
        if secs is not None:
            w[2] = (w[2] or 0) + secs
    assert set(rows) == set(want)
    for name, (calls, fails, secs) in want.items():
        assert rows[name]["calls"] == calls and rows[name]["failures"] == fails, name
        assert rows[name]["duration_s"] == (None if secs is None else pytest.approx(secs))
    assert data["totals"]["calls"] == 4 and data["totals"]["failures"] == 2


def test_json_shape_and_overview(gen_store: Path) -> None:
    data = stats_json(gen_store)
    assert {"from", "to", "by", "rows", "totals", "unpriced_models"} <= set(data)
    assert data["by"] is None and len(data["days"]) == 30
    assert data["totals"]["total_tokens"] == sum(
        r["total_tokens"] for r in expected("day").values())
    assert data["models"][0]["key"] == "claude-opus-4-1"  # most tokens first
    keys = {"key", "sessions", "messages", "input_tokens", "output_tokens",
            "cache_read_tokens", "cache_write_tokens", "total_tokens", "cost_usd"}
    assert all(keys <= set(r) for r in stats_json(gen_store, "--by", "day")["rows"])


def test_csv_parses_back_to_the_json_rows(gen_store: Path) -> None:
    for by in ("model", "day", "tool"):
        rows = stats_json(gen_store, "--by", by)["rows"]
        out = invoke("--dir", gen_store, "stats", "--by", by, "--csv").stdout
        back = list(csv.DictReader(io.StringIO(out)))
        assert len(back) == len(rows)
        for b, r in zip(back, rows, strict=True):
            for k, v in r.items():
                if isinstance(v, list):
                    continue
                if v is None:
                    assert b[k] == ""
                elif isinstance(v, float):
                    assert float(b[k]) == pytest.approx(v)
                else:
                    assert b[k] == str(v), (k, b, r)


def test_piped_tsv_has_a_header(gen_store: Path) -> None:
    out = run("--dir", gen_store, "stats", "--by", "vendor", check=False).stdout
    lines = out.splitlines()
    assert lines[0].split("\t")[:3] == ["vendor", "sessions", "messages"]
    assert all(len(ln.split("\t")) == 9 for ln in lines)
    over = run("--dir", gen_store, "stats", check=False).stdout.splitlines()
    assert over[0].startswith("view\tkey\t") and over[1].startswith("total\tall\t")


def test_terminal_table_at_80_and_40_columns(
    gen_store: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from rich.console import Console

    from sessionctl.render.stats import print_stats

    data = stats_json(gen_store, "--by", "model")
    for width in (120, 80, 40):
        buf = io.StringIO()
        print_stats(data, "tokens", Console(file=buf, width=width, color_system=None))
        text_out = buf.getvalue()
        assert all(len(ln) <= width for ln in text_out.splitlines()), width
        assert "gpt-5-mini" in text_out and "█" in text_out
    buf = io.StringIO()
    print_stats(stats_json(gen_store), "cost", Console(file=buf, width=80, color_system=None))
    assert "Last 30 days" in buf.getvalue() and "Top models" in buf.getvalue()


# -- the cache ----------------------------------------------------------------

def test_warm_stats_opens_no_session_file(
    gen_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = tmp_path / "s"
    shutil.copytree(gen_store, store)
    old = 1_700_000_000 * 10**9  # beyond the racy window
    for p in store.iterdir():
        os.utime(p, ns=(old, old))
    first = stats_json(store, "--by", "model")
    stats_json(store, "--by", "model")  # the listing snapshot is now saved too
    tools = stats_json(store, "--by", "tool")  # the first one fills the tool rows' cache
    import builtins

    from sessionctl.storage import fsio

    real_open = builtins.open

    def no_sessions(path: Any, *a: Any, **k: Any) -> Any:
        if str(path).endswith(".jsonl"):
            raise AssertionError(f"read {path}")
        return real_open(path, *a, **k)

    def no_regular(path: Any, *a: Any, **k: Any) -> Any:
        raise AssertionError(f"read {path}")

    monkeypatch.setattr(builtins, "open", no_sessions)
    monkeypatch.setattr(fsio, "open_regular", no_regular)
    assert stats_json(store, "--by", "model") == first
    assert stats_json(store, "--by", "day")["totals"] == first["totals"]
    assert stats_json(store, "--by", "tool") == tools


def test_after_an_append_only_that_file_is_read(
    gen_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = tmp_path / "s"
    shutil.copytree(gen_store, store)
    old = 1_700_000_000 * 10**9
    for p in store.iterdir():
        os.utime(p, ns=(old, old))
    before = stats_json(store, "--by", "session")
    stats_json(store, "--by", "session")
    stats_json(store, "--by", "tool")  # the tool rows' cache, filled by its first report
    target = store / f"{S_DAEMON}.jsonl"
    with open(target, "ab") as f:
        f.write(json.dumps(usage(S_DAEMON, "2026-11-16T00:00:00Z", "deepseek-chat", "deepseek",
                                 1, 1, 0, 0)).encode() + b"\n")
    os.utime(target, ns=(old + 10**9, old + 10**9))
    from sessionctl.storage import fsio

    opened: list[str] = []
    real = fsio.open_regular

    def spy(path: Any, *a: Any, **k: Any) -> Any:
        opened.append(os.path.basename(str(path)))
        return real(path, *a, **k)

    monkeypatch.setattr(fsio, "open_regular", spy)
    after = stats_json(store, "--by", "session")
    assert set(opened) == {target.name}
    rows = {r["key"]: r for r in after["rows"]}
    # the daemon session now has a usage record: only that counts
    assert rows[S_DAEMON]["total_tokens"] == 2
    assert before["totals"]["total_tokens"] != after["totals"]["total_tokens"]
    # The tool rows are a cache of their own, brought up to date by the
    # next --by tool (that file again, and only that one).
    opened.clear()
    tools = stats_json(store, "--by", "tool")
    assert set(opened) == {target.name}
    monkeypatch.setenv("SESSIONCTL_CACHE_DIR", str(tmp_path / "fresh"))
    assert stats_json(store, "--by", "tool") == tools


def test_a_lost_cache_file_is_rebuilt(gen_store: Path, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Either usage cache file (the tool rows' or the rest's) may be gone:
    the report is the same, and the next one is warm again."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("SESSIONCTL_CACHE_DIR", str(cache))
    store = tmp_path / "s"
    shutil.copytree(gen_store, store)
    old = 1_700_000_000 * 10**9
    for p in store.iterdir():
        os.utime(p, ns=(old, old))
    want = {by: stats_json(store, "--by", by) for by in ("tool", "model")}
    for part in ("usage-tools-day-*", "usage-day-*"):
        [lost] = cache.glob(part)
        lost.unlink()
        assert {by: stats_json(store, "--by", by) for by in want} == want
        assert list(cache.glob(part))


def test_a_zero_token_usage_record_still_rules_out_metrics_and_meta() -> None:
    lines = [json.dumps(r).encode() for r in (
        meta("x", WS_A, "v", "m", "2026-01-01T00:00:00Z", {"input_tokens": 9}),
        usage("x", "2026-01-01T00:00:00Z", "m", "v", 0, 0, 0, 0, 0),
        metric_llm("x", "2026-01-01T00:00:00Z", "m", "v", 5, 5, 0, 0),
    )]
    u = fold_usage(lines)
    assert u.source == "usage" and sum(c[4] for c in u.tokens.values()) == 0
    u = fold_usage(lines[:1] + lines[2:])
    assert u.source == "metric" and sum(c[4] for c in u.tokens.values()) == 10
    u = fold_usage(lines[:1])
    assert u.source == "meta" and sum(c[4] for c in u.tokens.values()) == 9


def test_message_times_are_counted_per_unit_exactly() -> None:
    from sessionctl.core.usage import _count_times, _minute

    times: list[object] = [
        "2026-11-30T23:50:10Z", "2026-11-30T23:50:59.5Z", "2026-11-30T23:51:00Z",
        "2026-11-30T23:50:xxZ", None, ZERO, "2026-12-01T00:10:00+05:30", "bad",
        "2026-11-30T23:50:10Z\n2026-11-30T23:50:10Z", "2026-02-30T00:00:00Z",
    ]
    want: dict[int | None, int] = {}
    for t in times:
        m = _minute(t)
        want[m] = want.get(m, 0) + 1
    assert _count_times(times, 16) == want
    assert _count_times(list(reversed(times)), 16) == want
    day = _count_times(times, 10, 1440)
    want_day: dict[int | None, int] = {}
    for k, n in want.items():
        d = None if k is None else k // 1440
        want_day[d] = want_day.get(d, 0) + n
    assert day == want_day
    assert _count_times(list(reversed(times)), 10, 1440) == want_day
    # All strings of the usual form (checked at once), with a bad date, year 1
    # and an hour that is no hour among them.
    usual = ["2026-11-30T23:50:10Z", "2026-11-30T23:50:59.5Z", "2026-12-01T00:00:00.1Z",
             "2026-02-30T10:00:00Z", "2026-02-30T10:00:01Z", "0001-01-01T05:00:00Z", ZERO]
    for extra in ([], ["2026-11-30T25:00:00Z"]):
        for plen, unit in ((16, 1), (10, 1440), (16, 60)):
            expect: dict[int | None, int] = {}
            for t in usual + extra:
                m = _minute(t)
                k = None if m is None else m // unit
                expect[k] = expect.get(k, 0) + 1
            assert _count_times([*usual, *extra], plen, unit) == expect, (extra, plen)


def test_fold_roundtrip_and_rules() -> None:
    from sessionctl.cache import usage as cache_usage
    from sessionctl.core import usage as core_usage

    assert (cache_usage.MINUTE_NS, cache_usage.DAY_MINUTES) == (
        core_usage.MINUTE_NS, core_usage.DAY_MINUTES)
    assert call_total(10, 5, 3, 2, 0) == 20
    assert call_total(10, 5, 3, 2, 100) == 105
    assert billable_input(1000, 400, 1000) == 600  # OpenAI: cached inside input
    assert billable_input(1000, 400, 1400) == 1000  # Anthropic: input excludes the cache
    assert billable_input(1000, 0, 1000) == 1000
    lines = [json.dumps(r).encode() for r in (
        meta("x", WS_A, "v", "m", "2026-01-01T00:00:00Z", {"input_tokens": 9}),
        usage("x", "2026-01-01T00:00:00Z", "m", "v", 1, 2, 3, 4, 0),
    )]
    u = fold_usage(lines)
    assert u.source == "usage"
    assert FileUsage.from_json(json.loads(json.dumps(u.to_json()))) == u


# -- prices -------------------------------------------------------------------

def test_shipped_table_entries_have_source_and_date() -> None:
    table = shipped_table()
    assert table
    for name, p in table.items():
        assert p is not None and p.source.startswith("https://") and p.date, name
    for model in ("claude-sonnet-4-5", "claude-sonnet-4", "claude-opus-4-1", "gpt-5-mini",
                  "gpt-5.1", "deepseek-reasoner", "glm-4.6", "glm-4.5", "glm-5"):
        assert model in table


def test_price_lookup_dated_and_local() -> None:
    t = PriceTable({k: v for k, v in shipped_table().items() if v is not None})
    assert t.get("claude-sonnet-4-5-20250929") is t.get("claude-sonnet-4-5")
    assert t.get("claude-sonnet-4-5:latest") is None
    assert t.get("llama3:8b") is None


def test_price_file_overrides_and_adds(gen_store: Path, tmp_path: Path) -> None:
    f = tmp_path / "p.json"
    f.write_text(json.dumps({"models": {
        "qwen3-coder:30b": {"input": 1000000, "output": 0},
        "gpt-5-mini": {"input": 0, "output": 0, "cache_read": 0, "cache_write": 0},
        "claude-opus-4-1": None,
    }}))
    data = stats_json(gen_store, "--by", "model", "--prices", f)
    rows = {r["key"]: r for r in data["rows"]}
    assert rows["qwen3-coder:30b"]["cost_usd"] == pytest.approx(11.0)
    assert rows["gpt-5-mini"]["cost_usd"] == 0
    assert rows["claude-opus-4-1"]["cost_usd"] is None
    assert "claude-opus-4-1" in data["unpriced_models"]
    assert "qwen3-coder:30b" not in data["unpriced_models"]


def test_user_config_prices_then_flag(
    gen_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    cfg = tmp_path / "cfg"
    cfg.mkdir()
    (cfg / "prices.json").write_text(json.dumps(
        {"models": {"qwen3-coder:30b": {"input": 1000000, "output": 0}}}))
    monkeypatch.setenv("SESSIONCTL_CONFIG_DIR", str(cfg))
    rows = {r["key"]: r for r in stats_json(gen_store, "--by", "model")["rows"]}
    assert rows["qwen3-coder:30b"]["cost_usd"] == pytest.approx(11.0)
    f = tmp_path / "p.json"
    f.write_text(json.dumps({"models": {"qwen3-coder:30b": {"input": 2000000, "output": 0}}}))
    rows = {r["key"]: r for r in stats_json(gen_store, "--by", "model", "--prices", f)["rows"]}
    assert rows["qwen3-coder:30b"]["cost_usd"] == pytest.approx(22.0)


@pytest.mark.parametrize("content", [
    "{not json", "[]", '{"models": []}', '{"models": {"m": {"input": -1, "output": 1}}}',
    '{"models": {"m": {"input": "1", "output": 1}}}', '{"models": {"m": {"output": 1}}}',
    '{"models": {"m": 3}}',
])
def test_malformed_price_file_exits_2_one_line(
    gen_store: Path, tmp_path: Path, content: str,
) -> None:
    f = tmp_path / "p.json"
    f.write_text(content)
    res = run("--dir", gen_store, "stats", "--prices", f, code=2)
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("sessionctl: malformed price file"), lines
    with pytest.raises(UsageError):
        parse_table(json.loads(content) if content != "{not json" else None, "x")


def test_unpriced_models_are_named_on_stderr(gen_store: Path) -> None:
    res = run("--dir", gen_store, "stats", "--by", "model", check=False)
    assert "qwen3-coder:30b" in res.stderr and res.returncode == 0


def test_bad_by_and_metric_exit_2(gen_store: Path) -> None:
    run("--dir", gen_store, "stats", "--by", "year", code=2)
    run("--dir", gen_store, "stats", "--metric", "joy", code=2)
    run("--dir", gen_store, "du", "--by", "model", code=2)


# -- du -----------------------------------------------------------------------

def test_du_counts_sessions_trash_and_cache(gen_store: Path, tmp_path: Path) -> None:
    store = tmp_path / "s"
    shutil.copytree(gen_store, store)
    (store / ".trash").mkdir()
    (store / ".trash" / "x.jsonl").write_bytes(b"y" * 1234)
    data = json.loads(invoke("--dir", store, "du", "--json").stdout)
    sizes = {p.name[:-6]: p.stat().st_size for p in store.glob("*.jsonl")}
    assert data["sessions_bytes"] == sum(sizes.values())
    assert data["trash_bytes"] == 1234
    assert data["cache_bytes"] >= 0
    by_ws = {r["key"]: r["bytes"] for r in data["rows"]}
    assert by_ws[WS_C] == sizes[S_OLD] + sizes[S_BIG]
    top = json.loads(invoke("--dir", store, "du", "--by", "session", "-n", "1", "--json").stdout)
    assert [r["key"] for r in top["rows"]] == [S_BIG]
    piped = run("--dir", store, "du").stdout.splitlines()
    assert piped[0] == f"sessions\t{sum(sizes.values())}" and piped[1] == "trash\t1234"


def test_read_commands_write_nothing_into_the_store(gen_store: Path, tmp_path: Path) -> None:
    store = tmp_path / "s"
    shutil.copytree(gen_store, store)
    before = sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in store.iterdir())
    stats_json(store)
    invoke("--dir", store, "du", "--json")
    after = sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in store.iterdir())
    assert before == after


# -- properties ---------------------------------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_json = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**12) | st.floats(allow_nan=False)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None)
@given(st.one_of(_json, st.fixed_dictionaries({"models": st.dictionaries(
    st.text(max_size=12), st.one_of(st.none(), _json, st.fixed_dictionaries(
        {"input": _json, "output": _json}, optional={"cache_read": _json})), max_size=4)})))
def test_price_parser_accepts_or_refuses_in_one_way(data: Any) -> None:
    try:
        table = parse_table(data, "f")
    except UsageError as err:
        assert str(err).startswith("malformed price file f: ") and "\n" not in str(err)
        return
    for p in table.values():
        assert p is None or min(p.input, p.output, p.cache_read, p.cache_write) >= 0


_counts = st.fixed_dictionaries({}, optional={
    k: st.one_of(st.integers(-5, 10**9), st.none(), st.text(max_size=3), st.floats())
    for k in ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens",
              "prompt_tokens_total")})
_times = st.one_of(st.none(), st.just(ZERO), st.text(max_size=25), st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1),
    timezones=st.just(timezone.utc)).map(lambda d: d.isoformat().replace("+00:00", "Z")))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["usage", "metric", "meta", "message"]), _counts,
                          _times, st.one_of(st.none(), st.text(max_size=6))), max_size=8))
def test_fold_never_fails_and_coarsening_keeps_the_sums(
    recs: list[tuple[str, dict[str, Any], Any, Any]],
) -> None:
    from sessionctl.core.folds import read_records
    from sessionctl.core.usage import UsageFold

    lines = []
    for n, (kind, counts, ts, model) in enumerate(recs):
        r = env("x", kind)
        if kind == "usage":
            r["usage_entry"] = {"timestamp": ts, "model": model, "usage": counts}
        elif kind == "metric":
            r["metric_event"] = {"timestamp": ts, "type": "llm", "model": model, **counts}
        elif kind == "message":
            r["timestamp"] = ts
            r["message"] = {"id": f"m{n}", "role": "assistant",
                            "content": [{"type": "tool_use", "tool_name": model}]}
        else:
            r.update(token_usage=counts, updated_at=ts, model=model)
        lines.append(json.dumps(r).encode())
    u = fold_usage(lines)
    for unit in (1440, 60):  # a fold told its unit gives what coarsening gives
        fold = UsageFold(unit)
        read_records(lines, fold)
        assert fold.result() == u.coarsen(unit), unit
    for c in u.tokens.values():
        assert all(x >= 0 for x in c)
        assert c[4] >= c[1]  # a total holds the output
    day = u.coarsen(1440)
    for i in range(6):
        assert sum(c[i] for c in day.tokens.values()) == sum(c[i] for c in u.tokens.values())
    assert FileUsage.from_json(json.loads(json.dumps(day.to_json()))) == day


def test_du_on_a_terminal_shows_human_sizes(gen_store: Path) -> None:
    from rich.console import Console

    from sessionctl.render.stats import human_bytes, print_du

    assert human_bytes(0) == "0 B" and human_bytes(1536) == "1.5 KiB"
    assert human_bytes(5 * 1024**3) == "5.0 GiB"
    data = json.loads(invoke("--dir", gen_store, "du", "--by", "session", "--json").stdout)
    for width in (80, 40):
        buf = io.StringIO()
        print_du(data, Console(file=buf, width=width, color_system=None))
        out = buf.getvalue()
        assert all(len(ln) <= width for ln in out.splitlines()), width
        assert "MiB" in out and "KiB" in out
    piped = run("--dir", gen_store, "du", "--by", "session", "-n", "2").stdout.splitlines()
    assert piped[3].startswith(f"session:{S_BIG}\t")
    assert len(piped) == 5


def test_a_first_report_read_by_worker_processes_equals_one_read_here(
    gen_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from sessionctl.api import JSONLStore
    from sessionctl.cache.usage import usage_report
    from sessionctl.storage import bulk

    monkeypatch.setattr(bulk, "_MIN_FILES", 1)
    monkeypatch.setattr(bulk, "_MIN_BYTES", 1)
    reports = []
    for n, parallel in enumerate((True, False)):
        store = JSONLStore(gen_store, create=False, cache=tmp_path / f"cache{n}",
                           parallel=parallel)
        reports.append(usage_report(store, load_prices(), by="session",
                                    include_hidden=True).to_dict())
        assert (tmp_path / f"cache{n}").is_dir()
    assert reports[0] == reports[1]
    assert bulk.worth_parallel(10, 10) >= 2 or (os.cpu_count() or 1) < 2


def test_tag_and_pinned_select_sessions(gen_store: Path, tmp_path: Path) -> None:
    """--tag and --pinned select sessions as --workspace does (SPEC 8.4):
    tagging and pinning exactly the sessions of one workspace gives that
    workspace's totals."""
    import shutil

    store = tmp_path / "store"
    shutil.copytree(gen_store, store)
    rows = json.loads(invoke("--dir", store, "list", "--json", "--all",
                             "--workspace", WS_C).stdout)
    ids = [r["id"] for r in rows]
    assert ids
    for sid in ids:
        invoke("--dir", store, "tag", sid, "Client-C", "billing")
    invoke("--dir", store, "pin", *ids)
    want = expected("model", ws=WS_C)
    check_rows(stats_json(store, "--by", "model", "--tag", "client-c"), want)
    check_rows(stats_json(store, "--by", "model", "--tag", "client-c", "--tag", "billing"),
               want)
    check_rows(stats_json(store, "--by", "model", "--pinned"), want)
    assert stats_json(store, "--by", "model", "--tag", "nosuch")["rows"] == []


def test_tool_rows_are_built_by_the_first_by_tool_only(
    gen_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A first report without --by tool skips the tool rows (walking every
    message's blocks for them is a third of its time); the first --by tool
    builds them, the same as from scratch."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("SESSIONCTL_CACHE_DIR", str(cache))
    store = tmp_path / "s"
    shutil.copytree(gen_store, store)
    old = 1_700_000_000 * 10**9  # beyond the racy window: cached
    for p in store.iterdir():
        os.utime(p, ns=(old, old))
    stats_json(store, "--by", "model")
    assert list(cache.glob("usage-day-*")) and not list(cache.glob("usage-tools-*"))
    tools = stats_json(store, "--by", "tool")
    assert list(cache.glob("usage-tools-day-*"))
    monkeypatch.setenv("SESSIONCTL_CACHE_DIR", str(tmp_path / "fresh"))
    assert stats_json(store, "--by", "tool") == tools


def test_unpriced_models_do_not_depend_on_the_view(tmp_path: Path) -> None:
    """A model is named unpriced for tokens it spent without a price, the
    same in every view; a model that spent none costs 0 in every row."""
    store = tmp_path / "s"
    store.mkdir(mode=0o700)
    ts = "2026-12-01T00:00:01Z"
    a, b = "20261201-000000-00000000000000ab", "20261201-000000-00000000000000ac"
    _write(store / f"{a}.jsonl", [meta(a, "/w", "x", "mystery-model", ts),
                                  msg(a, 1, "user", ts, text("hi"))])
    _write(store / f"{b}.jsonl", [meta(b, "/w", "y", "other-model", ts),
                                  msg(b, 1, "user", ts, text("hi")),
                                  usage(b, ts, "other-model", "y", 10, 5, 0, 0)])
    for view in ([], *(["--by", by] for by in ("day", "week", "month", "model", "vendor",
                                               "workspace", "session"))):
        data = stats_json(store, *view)
        assert data["unpriced_models"] == ["other-model"], view
        for r in data["rows"]:
            assert (r["cost_usd"] is None) == ("other-model" in r.get("unpriced_models", [])), (
                view, r)


def test_an_older_reader_ignores_the_flat_usage_cache(
    gen_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """sessionctl before the flat rows read usage-day-*.json with the header
    {version 1, store, unit}; it must not take today's rows (it would count
    zeros), so today's file carries another version."""
    from sessionctl.storage.summaries import FileKeyedCache

    cache = tmp_path / "cache"
    monkeypatch.setenv("SESSIONCTL_CACHE_DIR", str(cache))
    store = tmp_path / "s"
    shutil.copytree(gen_store, store)
    old = 1_700_000_000 * 10**9
    for p in store.iterdir():
        os.utime(p, ns=(old, old))
    stats_json(store)
    [path] = cache.glob("usage-day-*")
    older: FileKeyedCache[Any] = FileKeyedCache(
        path, {"store": str(store.resolve()), "unit": 1440},
        encode=lambda v: v, decode=lambda v: v)
    assert not older.load()


def test_a_bad_tool_block_time_does_not_move_a_good_one(tmp_path: Path) -> None:
    """Tool blocks of one day are counted together only when their times are
    valid: a block at hour 24 (counted at the session's time, two days on)
    must not carry a valid block of the same date out of a one-day window."""
    store = tmp_path / "s"
    store.mkdir(mode=0o700)
    sid = "20261118-000000-00000000000000ad"
    block = [{"type": "tool_use", "tool_name": "bash", "tool_id": "t", "input": {}}]
    _write(store / f"{sid}.jsonl", [
        meta(sid, "/w", "x", "m", "2026-11-20T12:00:00Z"),
        msg(sid, 1, "user", "2026-11-18T09:00:00Z", text("go")),
        msg(sid, 2, "assistant", "2026-11-18T24:08:00Z", block),
        msg(sid, 3, "assistant", "2026-11-18T10:00:00Z", block),
    ])
    day = stats_json(store, "--by", "tool", "--since", "2026-11-18", "--until", "2026-11-19")
    assert {r["key"]: r["calls"] for r in day["rows"]} == {"bash": 1}
    minute = stats_json(store, "--by", "tool", "--since", "2026-11-18T00:00:30Z",
                        "--until", "2026-11-19")
    assert {r["key"]: r["calls"] for r in minute["rows"]} == {"bash": 1}
    assert {r["key"]: r["calls"] for r in stats_json(store, "--by", "tool")["rows"]} == {
        "bash": 2}
