"""Where a session's tokens went: one more fold over its records (SPEC §8.4).

:class:`UsageFold` takes the records of one session file, one method per
record type, and :meth:`UsageFold.result` gives a :class:`FileUsage`: a
small, JSON-serialisable aggregate that the usage cache keeps per file.

The accounting rules, to the letter of SPEC §8.4:

- A session's tokens are its ``usage`` records' ``usage_entry.usage`` (one
  per model call), each under its own ``model``/``vendor`` and
  ``timestamp`` (else the session's). A session with no ``usage`` record
  sums its ``metric`` records of type ``llm``; one with neither counts its
  last ``meta``'s ``token_usage`` (a running total) once, at that meta's
  ``updated_at``, under its model. A meta total is never added to per-call
  records, and message-level ``token_usage`` (always zero) is ignored.
- Per call, total = ``prompt_tokens_total`` + output when
  ``prompt_tokens_total`` > 0, else input + cache read + cache write +
  output; totals are summed after that.
- Tools: calls, failures and time from ``metric`` records of type ``tool``;
  a session without them counts its ``tool_use`` blocks (and the
  ``tool_result`` blocks marked ``is_error`` as failures; no time).

Times are kept to the UTC minute, or a coarser unit when the fold is told
one (``None``: "at the session's
``updated_at``", resolved by whoever knows it, as is a missing model or
vendor: ``None`` means "the session's"). Bucketing by minute keeps the
aggregate small while any whole-minute ``--since``/``--until`` (dates,
``HH:MM`` times, in any real time zone) selects exactly.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, cast

from .folds import Fold, read_records
from .records import Readable
from .times import RFC3339, parse_ns

__all__ = ["FileUsage", "UsageFold", "billable_input", "call_total", "fold_usage"]

JSON = Any
MINUTE_NS = 60 * 10**9
DAY_MINUTES = 1440

#: Token counters of one bucket, in this order.
#: in, out, cache read, cache write, total, billable input (see billable_input).
N_TOKENS = 6


def _int(v: object) -> int:
    """A token count as written (a JSON integer); anything else counts 0."""
    if type(v) is int:  # nearly always
        return v if v > 0 else 0
    if isinstance(v, bool):
        return 0
    if isinstance(v, int):
        return v if v > 0 else 0
    if isinstance(v, float) and v > 0 and v == v and v != float("inf"):
        return int(v)
    return 0


def call_total(inp: int, out: int, cr: int, cw: int, ptt: int) -> int:
    """SPEC §8.4's total of one call."""
    return ptt + out if ptt > 0 else inp + cr + cw + out


def billable_input(inp: int, cr: int, ptt: int) -> int:
    """The input tokens billed at the input price (the agent's
    ``DisplayInputTokens``): providers that count cached tokens inside
    ``input_tokens`` (OpenAI, Gemini: ``prompt_tokens_total`` == input) have
    the cache reads taken out, so no token is priced twice; Anthropic's
    ``input_tokens`` already excludes them."""
    if cr <= 0 or ptt <= 0:
        return inp
    normalized = ptt - cr
    if normalized < 0:
        return inp
    return min(normalized, inp)


_HOURS: dict[tuple[str | None, ...], int | None] = {}


def _minute(value: object) -> int | None:
    """The UTC minute of an RFC 3339 time (``None``: unset or bad). The
    records of a session share a few hours: each hour (date, hour, zone) is
    converted once per process, its minutes added to it."""
    if not isinstance(value, str):
        return None
    m = RFC3339.fullmatch(value)
    if m is None:
        return None
    y, mo, d, h, mi, _s, _frac, _z, sign, oh, om = m.groups()
    minute = int(mi)
    if y == "0001" or minute > 59:  # next to Go's zero time, or not a time
        ns = parse_ns(value)
        return None if ns is None else ns // MINUTE_NS
    key = (y, mo, d, h, sign, oh, om)
    if key in _HOURS:
        base = _HOURS[key]
    else:
        ns = parse_ns(value)
        base = None if ns is None else ns // MINUTE_NS - minute
        if len(_HOURS) < 100_000:
            _HOURS[key] = base
    return None if base is None else base + minute


#: A UTC time that is valid if its date is (``...Z``, hours 00-23, minutes
#: 00-59; seconds are any two digits, as parse_ns reads them), its group the
#: prefix naming its unit: the date (days), or the date and minute.
_UTC_UNIT = {
    10: re.compile(r"^(\d{4}-\d\d-\d\d)T(?:[01]\d|2[0-3]):[0-5]\d:\d\d(?:\.\d{1,9})?Z$", re.M),
    16: re.compile(r"^(\d{4}-\d\d-\d\dT(?:[01]\d|2[0-3]):[0-5]\d):\d\d(?:\.\d{1,9})?Z$", re.M),
}


def _count_times(times: list[object], plen: int, unit: int = 1) -> dict[int | None, int]:
    """How many of ``times`` fall in each unit of ``unit`` minutes (``None``:
    no valid time), for a unit that ``plen`` characters of a time name (10:
    the date, for days; 16: the date and minute, for minutes or hours).

    Times of the usual form (UTC, ``...Z``) are checked all at once (one
    regex search of them joined), counted by the prefix that names their
    unit, and one time per prefix is converted: the prefix alone decides
    whether they are valid (a bad date, or year 1 next to Go's zero time,
    sends them back to one by one). Any other time is converted on its own.
    """
    form = _UTC_UNIT.get(plen)
    if form is None:
        return dict(Counter(_in_unit(_minute(t), unit) for t in times))
    # The hot path of a first stats: a file's message times at C speed.
    try:
        joined = "\n".join(cast("list[str]", times))
    except TypeError:  # not all strings
        joined = ""
    if joined and joined.count("\n") == len(times) - 1:  # and none spans a line
        prefixes = form.findall(joined)
        if len(prefixes) == len(times):
            return _count_prefixes(Counter(prefixes), times, plen, form, unit)
    out: dict[int | None, int] = {}
    good: list[str] = []
    for t in times:
        m = form.fullmatch(t) if type(t) is str else None
        if m is not None:
            good.append(m.group(1))
        else:
            k = _in_unit(_minute(t), unit)
            out[k] = out.get(k, 0) + 1
    for k, n in _count_prefixes(Counter(good), times, plen, form, unit).items():
        out[k] = out.get(k, 0) + n
    return out


def _count_prefixes(
    counts: Counter[str], times: list[object], plen: int, form: re.Pattern[str], unit: int,
) -> dict[int | None, int]:
    """``counts`` of well-formed times by prefix, as counts by unit."""
    out: dict[int | None, int] = {}
    tail = "T00:00:00Z" if plen == 10 else ":00Z"
    for prefix, n in counts.items():
        minute = None if prefix.startswith("0001") else _minute(prefix + tail)
        if minute is None:  # not a valid date (or year 1): one by one
            for t in times:
                if type(t) is str and t[:plen] == prefix and form.fullmatch(t):
                    k = _in_unit(_minute(t), unit)
                    out[k] = out.get(k, 0) + 1
            continue
        k = minute // unit
        out[k] = out.get(k, 0) + n
    return out


def _in_unit(minute: int | None, unit: int) -> int | None:
    return None if minute is None else minute // unit


def _str(v: object) -> str | None:
    return v if isinstance(v, str) and v else None


@dataclass
class FileUsage:
    """The usage of one session file.

    ``tokens``: ``(minute, model, vendor) -> [in, out, cache read, cache
    write, total, billable input]``; ``messages``: ``minute -> count``;
    ``tools``: ``(minute, name) -> [calls, failures, time_ns or None]``.
    ``source``: which records the tokens came from (``usage``, ``metric``,
    ``meta`` or ``""``); ``tool_source``: ``metric``, ``blocks`` or ``""``.
    """

    tokens: dict[tuple[int | None, str | None, str | None], list[int]] = field(
        default_factory=dict)
    messages: dict[int | None, int] = field(default_factory=dict)
    tools: dict[tuple[int | None, str], list[int | None]] = field(default_factory=dict)
    source: str = ""
    tool_source: str = ""

    def coarsen(self, factor: int) -> FileUsage:
        """The same usage with times in units of ``factor`` minutes (1440:
        UTC days); ``None`` (the session's time) stays ``None``."""
        out = FileUsage(source=self.source, tool_source=self.tool_source)
        for (m, model, vendor), c in self.tokens.items():
            _add(out.tokens, (None if m is None else m // factor, model, vendor), c)
        for m, n in self.messages.items():
            k = None if m is None else m // factor
            out.messages[k] = out.messages.get(k, 0) + n
        for (m, name), (calls, fails, ns) in self.tools.items():
            _add_tool(out.tools, (None if m is None else m // factor, name), calls or 0,
                      fails or 0, ns)
        return out

    def to_json(self) -> JSON:
        """A compact JSON value (lists, interned model/vendor pairs)."""
        pairs: dict[tuple[str | None, str | None], int] = {}
        toks = []
        for (minute, model, vendor), c in self.tokens.items():
            idx = pairs.setdefault((model, vendor), len(pairs))
            toks.append([minute, idx, *c])
        return {
            "p": [list(p) for p in pairs],
            "t": toks,
            "n": [[m, c] for m, c in self.messages.items()],
            "x": [[m, name, *c] for (m, name), c in self.tools.items()],
            "s": self.source,
            "ts": self.tool_source,
        }

    @classmethod
    def from_json(cls, v: JSON) -> FileUsage:
        """The inverse of :meth:`to_json`; raises on a bad shape (a cache
        entry that cannot be read is read again from its file)."""
        pairs = [(p[0], p[1]) for p in v["p"]]
        tokens: dict[tuple[int | None, str | None, str | None], list[int]] = {}
        for row in v["t"]:
            model, vendor = pairs[row[1]]
            counts = [int(x) for x in row[2:]]
            if len(counts) != N_TOKENS:
                raise ValueError("bad token row")
            tokens[(row[0], model, vendor)] = counts
        messages = {m: int(c) for m, c in v["n"]}
        tools: dict[tuple[int | None, str], list[int | None]] = {}
        for m, name, calls, fails, ns in v["x"]:
            tools[(m, str(name))] = [int(calls), int(fails), None if ns is None else int(ns)]
        return cls(tokens, messages, tools, str(v["s"]), str(v["ts"]))


class UsageFold(Fold):
    """Folds one file's records, in file order, into a :class:`FileUsage`:
    one more :class:`~sessionctl.core.folds.Fold` of the one record reader
    (:meth:`meta`, :meth:`message` for each message kept after
    de-duplication, :meth:`other` for the ``usage`` and ``metric`` records).
    """

    __slots__ = (
        "_block_prefix",
        "_blocks",
        "_llm",
        "_meta_total",
        "_plen",
        "_tool_ids",
        "_tool_metrics",
        "_tools",
        "_ts",
        "_unit",
        "_usage",
    )

    def __init__(self, unit: int = 1, *, tools: bool = True) -> None:
        """``unit``: the minutes :meth:`result` gives times in (1440: UTC
        days); message times are then only converted once per unit.
        ``tools=False`` leaves out the tool rows (no walk of the messages'
        blocks, a third of the fold's time): only ``--by tool`` shows them."""
        self._tools = tools
        T = dict[tuple[int | None, str | None, str | None], list[int]]
        X = dict[tuple[int | None, str], list[int | None]]
        self._usage: T = {}
        self._llm: T = {}
        self._meta_total: dict[str, JSON] | None = None
        # Messages (and tool blocks) by the prefix of their UTC time that
        # names their unit ("2026-11-30" for days, "2026-11-30T23:50" for
        # minutes): [one of their times, count...], converted in result().
        self._unit = unit
        self._plen = 10 if unit == DAY_MINUTES else 16
        self._ts: list[object] = []  # the kept messages' timestamps
        self._block_prefix: dict[tuple[str, str], list[Any]] = {}
        self._tool_metrics: X = {}
        self._blocks: X = {}
        self._tool_ids: dict[str, str] = {}

    # -- records -------------------------------------------------------------
    def meta(self, rec: dict[str, JSON]) -> None:
        """A ``meta`` record: the last one's running total is the fallback."""
        self._meta_total = rec  # only the last one counts: read in result()

    def message(self, index: int, m: dict[str, JSON], rec: dict[str, JSON], line: bytes) -> None:
        """A message record kept by the reader (``m`` is its message). Its
        blocks are walked for tool calls: that costs less than searching the
        line for them."""
        ts = rec.get("timestamp")
        self._ts.append(ts)  # counted per unit in result(), mostly at C speed
        if not self._tools:
            return
        content = m.get("content")
        if not content:
            return
        for b in content:  # a list of objects (the reader kept only such messages)
            kind = b.get("type")
            if kind == "tool_use":
                name = b.get("tool_name") or b.get("name")
                if type(name) is not str:
                    name = "(unnamed)"
                tid = b.get("tool_id")
                if type(tid) is str and tid:
                    self._tool_ids[tid] = name
                self._block(ts, name, 1, 0)
            elif kind == "tool_result" and b.get("is_error") is True:
                tid = b.get("tool_id")
                name = (self._tool_ids.get(tid) if type(tid) is str else None) or _str(
                    b.get("tool_name")) or "(unnamed)"
                self._block(ts, name, 0, 1)

    def _block(self, ts: object, name: str, calls: int, fails: int) -> None:
        # Grouped by the prefix naming the unit only when the whole time is
        # valid (one time then stands for its group, as for message times);
        # any other time is converted on its own, so a bad one (hour 24)
        # never takes a good one's day with it.
        form = _UTC_UNIT.get(self._plen)
        m = form.fullmatch(ts) if form is not None and type(ts) is str else None
        if m is None:
            _add_tool(self._blocks, (_in_unit(_minute(ts), self._unit), name), calls, fails,
                      None)
            return
        prefix = m.group(1)
        seen = self._block_prefix.get((prefix, name))
        if seen is None:
            self._block_prefix[(prefix, name)] = [ts, calls, fails]
        else:
            seen[1] += calls
            seen[2] += fails

    def other(self, rec: dict[str, JSON], line: bytes) -> None:
        """``usage`` and ``metric`` records (others, duplicates included, are
        not usage)."""
        rtype = rec.get("type")
        if rtype == "usage":
            self.usage(rec)
        elif rtype == "metric":
            self.metric(rec)

    def usage(self, rec: dict[str, JSON]) -> None:
        """A ``usage`` record: one model call."""
        e = rec.get("usage_entry")
        if not isinstance(e, dict):
            return
        u = e.get("usage")
        if not isinstance(u, dict):
            return
        # A call that used no tokens is still a usage record: the session
        # has per-call records, so its metrics and meta total do not count.
        counts = _counts(u) or [0] * N_TOKENS
        minute = _minute(e.get("timestamp"))
        if minute is None:
            minute = _minute(rec.get("timestamp"))
        _add(self._usage, (_in_unit(minute, self._unit), _str(e.get("model")),
                           _str(e.get("vendor"))), counts)

    def metric(self, rec: dict[str, JSON]) -> None:
        """A ``metric`` record: an LLM call or a tool run."""
        ev = rec.get("metric_event")
        if not isinstance(ev, dict):
            return
        kind = ev.get("type")
        if kind == "llm" and self._usage:
            return  # a session with usage records never counts its LLM metrics
        if kind == "tool" and not self._tools:
            return
        minute = _minute(ev.get("timestamp"))
        if minute is None:
            minute = _minute(rec.get("timestamp"))
        minute = _in_unit(minute, self._unit)
        if kind == "llm":
            counts = _counts(ev) or [0] * N_TOKENS  # still an LLM call (see usage)
            _add(self._llm, (minute, _str(ev.get("model")), _str(ev.get("vendor"))), counts)
        elif kind == "tool":
            name = _str(ev.get("tool_name")) or "(unnamed)"
            # Go writes tool_success only when true (omitempty).
            failed = ev.get("tool_success") is not True or bool(ev.get("tool_error"))
            d = ev.get("tool_duration")
            ns = d if isinstance(d, int) and not isinstance(d, bool) and d >= 0 else 0
            _add_tool(self._tool_metrics, (minute, name), 1, int(failed), ns)

    # -- result --------------------------------------------------------------
    def result(self) -> FileUsage:
        """The file's usage, times in units of the fold's ``unit``: the same
        as ``UsageFold().result().coarsen(unit)``."""
        unit = self._unit
        out = FileUsage(messages=_count_times(self._ts, self._plen, unit))
        for (_prefix, name), (ts, calls, fails) in self._block_prefix.items():
            _add_tool(self._blocks, (_in_unit(_minute(ts), unit), name), calls, fails, None)
        if self._usage:
            out.tokens, out.source = self._usage, "usage"
        elif self._llm:
            out.tokens, out.source = self._llm, "metric"
        elif self._meta_total is not None:
            rec = self._meta_total
            tu = rec.get("token_usage")
            counts = _counts(tu) if isinstance(tu, dict) else None
            if counts is not None and any(counts[:5]):
                key = (_in_unit(_minute(rec.get("updated_at")), unit), _str(rec.get("model")),
                       _str(rec.get("vendor")))
                out.tokens, out.source = {key: counts}, "meta"
        if self._tool_metrics:
            out.tools, out.tool_source = self._tool_metrics, "metric"
        elif self._blocks:
            out.tools, out.tool_source = self._blocks, "blocks"
        return out


def _counts(u: dict[str, JSON]) -> list[int] | None:
    """[in, out, cache read, cache write, total, billable input] of one call's
    usage; ``None`` when it holds no token at all."""
    inp, out = _int(u.get("input_tokens")), _int(u.get("output_tokens"))
    cr, cw = _int(u.get("cache_read_tokens")), _int(u.get("cache_write_tokens"))
    ptt = _int(u.get("prompt_tokens_total"))
    if not (inp or out or cr or cw or ptt):
        return None
    return [inp, out, cr, cw, call_total(inp, out, cr, cw, ptt), billable_input(inp, cr, ptt)]


def _add(d: dict[Any, list[int]], key: Any, counts: list[int]) -> None:
    have = d.get(key)
    if have is None:
        d[key] = list(counts)
    else:
        for i, c in enumerate(counts):
            have[i] += c


def _add_tool(
    d: dict[tuple[int | None, str], list[int | None]], key: tuple[int | None, str],
    calls: int, fails: int, ns: int | None,
) -> None:
    have = d.get(key)
    if have is None:
        d[key] = [calls, fails, ns]
        return
    have[0] = (have[0] or 0) + calls
    have[1] = (have[1] or 0) + fails
    if ns is not None:
        have[2] = (have[2] or 0) + ns


def fold_usage(lines: Iterable[bytes] | Readable) -> FileUsage:
    """The usage of a file's lines, read by the one record reader (tolerant:
    blank, torn and malformed lines are skipped; a duplicate message id is
    read once; lines of any length are read)."""
    fold = UsageFold()
    read_records(lines, fold)
    return fold.result()
