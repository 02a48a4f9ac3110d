"""Per-file usage aggregates, cached; and the usage report over a store.

The aggregates (:class:`~sessionctl.core.usage.FileUsage`) live in
sessionctl's cache directory, beside the listing's summary cache and keyed
the same way: a file's (size, mtime_ns, inode). They are sibling files
(``usage-day-<store tag>.json``: per UTC day; ``usage-1m-<store tag>.json``:
per minute, built only for bounds off midnight; the tool rows apart in
``usage-tools-day-...`` and ``usage-tools-1m-...``, built and loaded only
by ``--by tool``) rather than a column of the summaries file, so ``list`` never
loads or rewrites them and ``stats`` never loads the summaries when the
listing snapshot is current. So a warm ``stats`` opens no session file
(the listing snapshot and this cache answer everything), and after an
append only that file is read again.

A cold ``stats`` reads each file once: the listing's summary and the usage
are folded in the same pass (on every core for a big store), the summaries
go into the listing's cache, and the listing then reads nothing.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.prices import ModelPrice, PriceTable
from ..core.session import SessionInfo
from ..storage import bulk
from ..storage.listing import scan_dir
from ..storage.store import FileStore
from ..storage.summaries import FileKey, FileKeyedCache, SummaryCache, store_tag

if TYPE_CHECKING:
    from ..core.folds import Summary

__all__ = ["BYS", "METRICS", "UsageCache", "UsageReport", "file_usages", "usage_report"]

# As in core.usage, which (with the record reader) is imported only when a
# file must be read: a warm report needs neither.
MINUTE_NS = 60 * 10**9
DAY_MINUTES = 1440

JSON = Any
BYS = ("day", "week", "month", "model", "vendor", "workspace", "session", "tool")
METRICS = ("tokens", "cost", "sessions", "messages")
TOKEN_FIELDS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens",
                "total_tokens")


class UsageCache(FileKeyedCache[JSON]):
    """Per-file usage (:func:`.usage_read.cache_value`, times in units of
    ``unit`` minutes) by file version, one file per store and unit in the
    cache directory: UTC days for most reports, minutes for a ``--since`` or
    ``--until`` that is not a UTC midnight. The tool rows (most of a file's
    rows, built and read only by ``--by tool``) are a cache of their own
    (``tools``), so that no other report loads or computes them."""

    FORMAT = 4  # see usage_read.cache_value
    #: 2 since the flat rows: an older sessionctl sharing the cache directory
    #: checks only its own header (version, store, unit), and read version 1's
    #: name with the new rows as zeros. It now ignores (and replaces) the file.
    VERSION = 2

    def __init__(self, cache_dir: Path | None, store_dir: Path, unit: int = DAY_MINUTES, *,
                 tools: bool = False) -> None:
        store = str(store_dir)
        self.unit = unit
        name = ("tools-" if tools else "") + ("day" if unit == DAY_MINUTES else f"{unit}m")
        path = None if cache_dir is None else cache_dir / f"usage-{name}-{store_tag(store)}.json"
        super().__init__(path, {"store": store, "unit": unit, "tools": tools,
                                "format": self.FORMAT}, encode=_as_is, decode=_as_is)
        self.load()  # now: whether it was there decides how a report warms up


def _as_is(value: JSON) -> JSON:
    """Usage aggregates are JSON already."""
    return value


# -- reading files ---------------------------------------------------------------

def _read_many(
    directory: Path, files: dict[str, FileKey], workers: int, unit: int, tools: bool,
) -> dict[str, tuple[JSON, Summary] | str | None]:
    import concurrent.futures
    import heapq
    import multiprocessing

    # Chunks of about equal bytes, biggest files first: 16 per worker, so
    # that when the big session's chunk is done the other worker is not
    # left with a long one (4 per worker left one idle for ~0.2 s).
    n_chunks = workers * 16
    chunks: list[list[str]] = [[] for _ in range(n_chunks)]
    loads = [(0, i) for i in range(n_chunks)]  # a heap: the lightest chunk first
    for sid, key in sorted(files.items(), key=lambda f: -f[1].size):
        load, i = loads[0]
        chunks[i].append(sid)
        heapq.heapreplace(loads, (load + key.size + 4096, i))
    from ..core.folds import Summary
    from .usage_read import read_chunk

    results: dict[str, tuple[JSON, Summary] | str | None] = {}
    ctx = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(workers, mp_context=ctx) as pool:
        jobs = [pool.submit(read_chunk, str(directory), c, unit, tools) for c in chunks if c]
        for job in jobs:
            for sid, usage, summary, error in job.result():
                results[sid] = ((usage, Summary.from_json(summary))
                                if usage is not None else error)
    return results


Scan = tuple[dict[str, FileKey], list[tuple[str, str]]]


def _cold_fill(
    store: FileStore, cache: UsageCache, tools: UsageCache | None,
) -> tuple[SummaryCache, Scan]:
    """No usage cache (or, for ``--by tool``, no tools cache) yet for this
    store: read every file once for the listing's summary, the usage and
    (with ``tools``) the tool rows, on every core for a big store, so the
    listing that follows reads nothing: it gets the summary cache filled
    here (not yet written), and the scan of the files it read."""
    from .usage_read import fold_file

    scan = scan_dir(store.dir)
    files = scan[0]
    summaries = store.lister.summary_cache()
    todo = {sid: k for sid, k in files.items()
            if cache.get(sid, k) is None or (tools is not None and tools.get(sid, k) is None)}
    if not todo:
        return summaries, scan
    workers = bulk.worth_parallel(len(todo), sum(k.size for k in todo.values())) if (
        store.lister.parallel) else 0
    if workers:
        with contextlib.suppress(OSError, RuntimeError, ImportError):
            for sid, got in _read_many(store.dir, todo, workers, cache.unit,
                                       tools is not None).items():
                if isinstance(got, tuple):
                    _put(sid, todo[sid], got[0], cache, tools)
                    summaries.put(sid, todo[sid], got[1])
    for sid, key in todo.items():
        if cache.get(sid, key) is not None and (tools is None or tools.get(sid, key) is not None):
            continue
        try:
            value, summary = fold_file(store.dir / f"{sid}.jsonl", cache.unit, True,
                                       tools is not None)
        except OSError:
            continue  # the listing reports it
        assert summary is not None
        _put(sid, key, value, cache, tools)
        summaries.put(sid, key, summary)
    summaries.retain(files)
    return summaries, scan


def _put(sid: str, key: FileKey, value: JSON, cache: UsageCache, tools: UsageCache | None,
         ) -> None:
    """A file's :func:`.usage_read.cache_value` into the usage cache (its
    tokens and messages) and the tools cache (its tool rows)."""
    cache.put(sid, key, value[:2])
    if tools is not None:
        tools.put(sid, key, value[2])


def file_usages(
    store: FileStore, files: dict[str, FileKey], cache: UsageCache,
    tools: UsageCache | None = None,
) -> tuple[dict[str, JSON], dict[str, JSON], list[tuple[str, str]]]:
    """The usage (tokens and messages) of each of ``files``, and its tool
    rows if ``tools`` is given: from the caches when current, else read
    (and cached). Unreadable files come back as (id, reason)."""
    out, misses = cache.current(files)
    tool_rows: dict[str, JSON] = {}
    if tools is not None:
        tool_rows, tool_misses = tools.current(files)
        misses = list(dict.fromkeys([*misses, *tool_misses]))
    skipped: list[tuple[str, str]] = []
    if misses:
        from .usage_read import fold_file  # the record reader: not for a warm report
    for sid in misses:
        try:
            value, _ = fold_file(store.dir / f"{sid}.jsonl", cache.unit, False, tools is not None)
        except FileNotFoundError:
            continue
        except OSError as err:
            skipped.append((sid, f"cannot read session {sid}: {err.strerror or err}"))
            continue
        _put(sid, files[sid], value, cache, tools)
        out[sid], tool_rows[sid] = value[:2], value[2]
    for c in (cache, tools):
        if c is not None:
            c.retain(files)
            c.flush()
    return out, tool_rows, skipped


# -- the report -----------------------------------------------------------------

@dataclass(slots=True)
class Row:
    """One line of a report (tokens: in, out, cache read, cache write, total).
    ``sessions`` counts distinct sessions: a report adds up one session's
    records before the next one's, so a session is new to a row when it is
    not the one the row counted last (``last``)."""

    key: str
    sessions: int = 0
    messages: int = 0
    tokens: list[int] = field(default_factory=lambda: [0] * 5)
    cost: float = 0.0
    priced: bool = False  # some tokens had a price
    unpriced: set[str] = field(default_factory=set)
    calls: int = 0
    failures: int = 0
    tool_ns: int | None = None
    last: str = ""  # the id of the session counted last

    @property
    def cost_usd(self) -> float | None:
        if self.unpriced and not self.priced:
            return None
        return round(self.cost, 6)

    def to_dict(self, by: str | None) -> dict[str, JSON]:
        if by == "tool":
            return {
                "key": self.key, "sessions": self.sessions, "calls": self.calls,
                "failures": self.failures,
                "duration_s": None if self.tool_ns is None else round(self.tool_ns / 1e9, 3),
            }
        d: dict[str, JSON] = {"key": self.key, "sessions": self.sessions,
                              "messages": self.messages}
        d.update(zip(TOKEN_FIELDS, self.tokens, strict=True))
        d["cost_usd"] = self.cost_usd
        if self.unpriced:
            d["unpriced_models"] = sorted(self.unpriced)
        return d


@dataclass
class UsageReport:
    """What ``stats`` shows: rows for ``by`` (sorted), the totals of the whole
    selection, and, without ``by``, the views of the overview."""

    by: str | None
    since_ns: int | None
    until_ns: int | None
    rows: list[Row]
    totals: Row
    unpriced_models: list[str]
    first_ns: int | None = None
    last_ns: int | None = None
    days: list[Row] = field(default_factory=list)
    models: list[Row] = field(default_factory=list)
    workspaces: list[Row] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, JSON]:
        def iso(ns: int | None) -> str | None:
            if ns is None:
                return None
            return datetime.fromtimestamp(ns // 10**9, timezone.utc).strftime(
                "%Y-%m-%dT%H:%M:%SZ")

        d: dict[str, JSON] = {
            "from": iso(self.since_ns if self.since_ns is not None else self.first_ns),
            "to": iso(self.until_ns if self.until_ns is not None else self.last_ns),
            "by": self.by,
            "rows": [r.to_dict(self.by) for r in self.rows],
            "totals": _totals_dict(self.totals, self.by),
            "unpriced_models": self.unpriced_models,
        }
        if self.by is None:
            d["days"] = [r.to_dict("day") for r in self.days]
            d["models"] = [r.to_dict("model") for r in self.models]
            d["workspaces"] = [r.to_dict("workspace") for r in self.workspaces]
        return d


def _totals_dict(t: Row, by: str | None) -> dict[str, JSON]:
    d = t.to_dict(None)
    d.pop("key")
    if by == "tool":
        d.update(calls=t.calls, failures=t.failures,
                 duration_s=None if t.tool_ns is None else round(t.tool_ns / 1e9, 3))
    return d


_EPOCH_DAY = datetime(1970, 1, 1, tzinfo=timezone.utc)


class _DayKeys:
    """Keys of UTC days, ISO weeks and months by day number (memoised: a
    report looks up the same few hundred days hundreds of thousands of times)."""

    def __init__(self) -> None:
        self._memo: dict[tuple[str, int], str] = {}

    def key(self, kind: str, day: int) -> str:
        k = (kind, day)
        got = self._memo.get(k)
        if got is None:
            from datetime import timedelta

            d = _EPOCH_DAY + timedelta(days=day)
            if kind == "day":
                got = d.strftime("%Y-%m-%d")
            elif kind == "week":
                y, w, _ = d.isocalendar()
                got = f"{y}-W{w:02d}"
            else:
                got = d.strftime("%Y-%m")
            self._memo[k] = got
        return got


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def usage_report(
    store: FileStore,
    prices: PriceTable,
    *,
    by: str | None = None,
    metric: str = "tokens",
    since_ns: int | None = None,
    until_ns: int | None = None,
    model: str | None = None,
    vendor: str | None = None,
    select: Callable[[SessionInfo], bool] | None = None,
    include_hidden: bool = False,
    now_ns: int | None = None,
) -> UsageReport:
    """Usage over ``store``: ``since``/``until``/``model``/``vendor`` select
    usage by each record's own time (to the minute) and model; ``select``
    and ``include_hidden`` select sessions. Keys of days, ISO weeks and
    months are UTC.

    Reads the per-day aggregates, or the per-minute ones when a bound is not
    a UTC midnight (a date in a time zone other than UTC, or a time of day).
    """
    day_ns = DAY_MINUTES * MINUTE_NS
    exact_days = all(b is None or b % day_ns == 0 for b in (since_ns, until_ns))
    unit = DAY_MINUTES if exact_days else 1
    unit_ns = unit * MINUTE_NS
    cdir, real = store.lister.cache_dir, store.lister.real
    cache = UsageCache(cdir, real, unit)
    # The tool rows only for --by tool, filled by the first such report:
    # walking every message's blocks for them is a third of a first report.
    tools = UsageCache(cdir, real, unit, tools=True) if by == "tool" else None
    summaries, scan = None, None
    if cdir is not None and not (cache.loaded and (tools is None or tools.loaded)):
        summaries, scan = _cold_fill(store, cache, tools)
    listing = store.lister.listing(include_hidden=True, summaries=summaries, scanned=scan)
    if summaries is not None:
        summaries.flush()  # unless the listing did (it had a snapshot to answer from)
    usages, tool_rows, skipped = file_usages(store, listing.keys, cache, tools)
    skipped = sorted([*listing.skipped, *skipped])
    # A record in time unit t counts when since <= t*unit_ns < until: exact
    # for bounds on unit boundaries, which is what chose the unit.
    lo = None if since_ns is None else _ceil_div(since_ns, unit_ns)
    hi = None if until_ns is None else _ceil_div(until_ns, unit_ns)
    per_day = DAY_MINUTES // unit  # units per day

    rows: dict[str, Row] = {}
    totals = Row("total")
    unpriced: set[str] = set()
    first: int | None = None
    last: int | None = None
    now_day = (now_ns if now_ns is not None else time.time_ns()) // day_ns
    overview = by is None
    days: dict[int, Row] = {}  # by day number
    models: dict[str, Row] = {}
    workspaces: dict[str, Row] = {}
    keys = _DayKeys()
    day_floor = now_day - 29
    time_kind = by if by in ("day", "week", "month") else None
    by_rows = by is not None and by != "tool"
    price_of: dict[str, ModelPrice | None] = {}

    def new(table: dict[str, Row], key: str) -> Row:
        r = table[key] = Row(key)
        return r

    def new_day(day: int) -> Row:
        r = days[day] = Row(keys.key("day", day))
        return r

    # The hot loop of a warm report (10,000 sessions): one pass over each
    # session's rows, adding each to the rows it counts in (the totals, and
    # the row of ``by``, or the day, model and workspace of the overview).
    targets: tuple[Row, ...]
    for info in listing.sessions:
        if (info.hidden and not include_hidden) or (select is not None and not select(info)):
            continue
        sid = info.id
        raw = usages.get(sid)
        if raw is None:
            continue
        try:
            tok_rows, msg_rows = _grouped(raw[0], 9), _grouped(raw[1], 2)
        except (KeyError, TypeError, IndexError):
            continue
        upd = info.updated[0] // unit_ns
        session_model, session_vendor = info.model, info.vendor
        ws = info.workspace
        ws_row = (workspaces.get(ws) or new(workspaces, ws)) if overview else totals
        for t, mm, vv, inp, out, cr, cw, total, billable in tok_rows:
            if t is None:
                t = upd
            if (lo is not None and t < lo) or (hi is not None and t >= hi):
                continue
            if mm is None:
                mm = session_model
            if vv is None:
                vv = session_vendor
            if (model is not None and mm != model) or (vendor is not None and vv != vendor):
                continue
            if first is None or t < first:
                first = t
            if last is None or t > last:
                last = t
            if mm in price_of:
                p = price_of[mm]
            else:
                p = price_of[mm] = prices.get(mm)
            has_tokens = inp or out or cr or cw
            cost = None if p is None else p.cost(billable, out, cr, cw)
            if p is None and has_tokens:
                unpriced.add(mm or "(unknown)")
            if overview:
                day = t // per_day
                model_row = models.get(mm) or new(models, mm)
                targets = ((totals, days.get(day) or new_day(day), model_row, ws_row)
                           if day >= day_floor else (totals, model_row, ws_row))
            elif by_rows:
                key = _key(by or "", time_kind, keys, t // per_day, mm, vv, info)
                targets = (totals, rows.get(key) or new(rows, key))
            else:
                targets = (totals,)
            for r in targets:
                if r.last != sid:
                    r.last = sid
                    r.sessions += 1
                toks = r.tokens
                toks[0] += inp
                toks[1] += out
                toks[2] += cr
                toks[3] += cw
                toks[4] += total
                if cost is not None:
                    r.cost += cost
                    r.priced = True
                elif has_tokens:
                    r.unpriced.add(mm or "(unknown)")
        if (model is None or session_model == model) and (
                vendor is None or session_vendor == vendor):
            model_row = (models.get(session_model) or new(models, session_model)) if (
                overview) else totals
            for t, n in msg_rows:
                if t is None:
                    t = upd
                if (lo is not None and t < lo) or (hi is not None and t >= hi):
                    continue
                if first is None or t < first:
                    first = t
                if last is None or t > last:
                    last = t
                if overview:
                    day = t // per_day
                    targets = ((totals, days.get(day) or new_day(day), model_row, ws_row)
                               if day >= day_floor else (totals, model_row, ws_row))
                elif by_rows:
                    key = _key(by or "", time_kind, keys, t // per_day, session_model,
                               session_vendor, info)
                    targets = (totals, rows.get(key) or new(rows, key))
                else:
                    targets = (totals,)
                for r in targets:
                    if r.last != sid:
                        r.last = sid
                        r.sessions += 1
                    r.messages += n
        if by == "tool" and model is None and vendor is None:
            for t, name, calls, fails, ns in tool_rows.get(sid, ()):
                if t is None:
                    t = upd
                if (lo is not None and t < lo) or (hi is not None and t >= hi):
                    continue
                for r in (rows.get(name) or new(rows, name), totals):
                    if r.last != sid:
                        r.last = sid
                        r.sessions += 1
                    r.calls += calls or 0
                    r.failures += fails or 0
                    if ns is not None:
                        r.tool_ns = (r.tool_ns or 0) + ns

    report = UsageReport(
        by, since_ns, until_ns, _sorted(list(rows.values()), by, metric), totals,
        sorted(unpriced), None if first is None else first * unit_ns,
        None if last is None else (last + 1) * unit_ns - 1, skipped=skipped,
    )
    if overview:
        report.days = [days.get(d) or Row(keys.key("day", d))
                       for d in range(day_floor, now_day + 1)]
        report.models = _sorted([r for r in models.values() if r.sessions], "model", metric)
        report.workspaces = _sorted([r for r in workspaces.values() if r.sessions], "workspace",
                                    metric)
    return report


def _grouped(flat: list[Any], n: int) -> Iterable[Sequence[Any]]:
    """The rows of ``n`` values of a flat list: the list itself when it is
    one row (most files: one model, one day), else the "grouper" recipe of
    itertools' documentation (one iterator zipped with itself)."""
    if len(flat) == n:
        return (flat,)
    return zip(*[iter(flat)] * n, strict=False)  # a damaged last row is left out


def _key(by: str, time_kind: str | None, keys: _DayKeys, day: int, m: str, v: str,
         info: SessionInfo) -> str:
    if time_kind is not None:
        return keys.key(time_kind, day)
    if by == "model":
        return m
    if by == "vendor":
        return v
    if by == "workspace":
        return info.workspace
    return info.id  # session


def metric_value(r: Row, metric: str) -> float:
    if metric == "cost":
        c = r.cost_usd
        return 0.0 if c is None else c
    if metric == "sessions":
        return float(r.sessions)
    if metric == "messages":
        return float(r.messages)
    if metric == "calls":
        return float(r.calls)
    return float(r.tokens[4])


def _sorted(rows: list[Row], by: str | None, metric: str) -> list[Row]:
    if by in ("day", "week", "month"):
        return sorted(rows, key=lambda r: r.key)
    m = "calls" if by == "tool" else metric
    return sorted(rows, key=lambda r: (-metric_value(r, m), r.key))
