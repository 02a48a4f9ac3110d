"""How ``stats`` and ``du`` print: a table with a bar column on a terminal,
TSV with a header when piped, CSV rows, or JSON (SPEC §8.4).

Everything here works on the plain JSON-shaped report (``UsageReport.to_dict``
and ``du``'s dict), so rendering needs nothing of the store.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from .text import clean_line

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

__all__ = ["bar", "human_bytes", "human_count", "stats_csv", "stats_table", "stats_tsv"]

JSON = Any
Write = Callable[[str], object]

TOKEN_COLS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens",
              "total_tokens")
ROW_COLS = ("key", "sessions", "messages", *TOKEN_COLS, "cost_usd")
TOOL_COLS = ("key", "sessions", "calls", "failures", "duration_s")
_BLOCKS = " ▏▎▍▌▋▊▉█"


def human_count(n: int | float | None) -> str:
    """1234 -> ``1.2k``; 2_500_000 -> ``2.5M``."""
    if n is None:
        return "-"
    v = float(n)
    for unit, size in (("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(v) >= size:
            return f"{v / size:.1f}{unit}"
    return f"{int(v)}"


def human_bytes(n: int) -> str:
    """Bytes in powers of 1024 (``1.5 MiB``)."""
    v = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(v) < 1024 or unit == "TiB":
            return f"{int(v)} B" if unit == "B" else f"{v:.1f} {unit}"
        v /= 1024
    raise AssertionError("unreachable")


def money(v: float | None) -> str:
    if v is None:
        return "-"
    return f"${v:,.2f}" if v >= 0.01 or v == 0 else f"${v:.4f}"


def bar(value: float, top: float, width: int) -> str:
    """A horizontal bar of ``width`` cells at most, in eighths of a cell."""
    if top <= 0 or value <= 0 or width <= 0:
        return ""
    eighths = max(1, round(value / top * width * 8))
    full, part = divmod(eighths, 8)
    return "█" * full + (_BLOCKS[part] if part else "")


def metric_of(row: dict[str, JSON], metric: str) -> float:
    if metric == "cost":
        return float(row.get("cost_usd") or 0.0)
    if metric == "sessions":
        return float(row.get("sessions") or 0)
    if metric == "messages":
        return float(row.get("messages") or 0)
    if metric == "calls":
        return float(row.get("calls") or 0)
    return float(row.get("total_tokens") or 0)


def _cell(col: str, v: JSON) -> str:
    if col == "cost_usd":
        return money(v)
    if col == "duration_s":
        return "-" if v is None else f"{v:,.1f}s"
    if col == "key":
        return clean_line(str(v)) or "(none)"
    return human_count(v)


_HEAD = {"key": "", "sessions": "sessions", "messages": "msgs", "input_tokens": "input",
         "output_tokens": "output", "cache_read_tokens": "cache r", "cache_write_tokens": "cache w",
         "total_tokens": "tokens", "cost_usd": "cost", "calls": "calls", "failures": "fails",
         "duration_s": "time"}


def _columns(by: str | None, width: int) -> list[str]:
    """The columns that fit ``width`` cells: all of them from ~110, the
    essentials at 80, key and total at 40."""
    if by == "tool":
        return list(TOOL_COLS) if width >= 60 else ["key", "calls", "failures"]
    if width >= 110:
        return list(ROW_COLS)
    if width >= 70:
        return ["key", "sessions", "messages", "total_tokens", "cost_usd"]
    if width >= 50:
        return ["key", "total_tokens", "cost_usd"]
    return ["key", "total_tokens"]


def stats_table(
    rows: Sequence[dict[str, JSON]], by: str | None, metric: str, width: int,
    title: str | None = None,
) -> RenderableType:
    """A rich table of ``rows`` with a bar column for ``metric``."""
    from rich import box
    from rich.table import Table

    m = "calls" if by == "tool" else metric
    cols = _columns(by, width)
    key_w = max([len(_cell("key", r.get("key"))) for r in rows] + [4])
    key_w = min(key_w, max(10, width // 3))
    used = key_w + sum(9 for c in cols if c != "key") + 2 * len(cols)
    bar_w = max(0, min(30, width - used - 2))
    table = Table(box=box.SIMPLE_HEAD, title=title, title_justify="left", pad_edge=False,
                  show_edge=False)
    for c in cols:
        if c == "key":
            table.add_column(_HEAD.get(by or "", by or ""), no_wrap=True, max_width=key_w,
                             overflow="ellipsis")
        else:
            table.add_column(_HEAD[c], justify="right", no_wrap=True)
    if bar_w >= 4:
        shown = {"tokens": "total_tokens", "cost": "cost_usd"}.get(m, m) in cols
        table.add_column("" if shown else m, no_wrap=True, style="cyan")
    top = max([metric_of(r, m) for r in rows] + [0.0])
    for r in rows:
        cells = [_key_cell(by, r.get("key"), key_w) if c == "key" else _cell(c, r.get(c))
                 for c in cols]
        if bar_w >= 4:
            cells.append(bar(metric_of(r, m), top, bar_w))
        table.add_row(*cells)
    return table


def ellipsize(text: str, width: int) -> str:
    """``text`` cut to ``width`` cells, ending in an ellipsis when cut."""
    from rich.cells import cell_len, set_cell_size

    if cell_len(text) <= width:
        return text
    return set_cell_size(text, max(0, width - 1)) + "…"


def _key_cell(by: str | None, key: JSON, width: int) -> str:
    text = _cell("key", key)
    if by == "workspace":
        from .tables import ellipsize_left

        return ellipsize_left(text, width)
    return ellipsize(text, width)


def _tsv_cols(by: str | None) -> tuple[str, ...]:
    return TOOL_COLS if by == "tool" else ROW_COLS


def _plain(v: JSON) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.6f}".rstrip("0").rstrip(".") if v else "0"
    return clean_line(str(v))


def stats_tsv(report: dict[str, JSON], write: Write) -> None:
    """Piped output: a header, then one tab-separated line per row. Without
    ``--by`` the views come one after another, named in a first column."""
    by = report["by"]
    if by is not None:
        cols = _tsv_cols(by)
        write("\t".join((by, *cols[1:])) + "\n")
        for r in report["rows"]:
            write("\t".join(_plain(r.get(c)) for c in cols) + "\n")
        return
    write("\t".join(("view", "key", *ROW_COLS[1:])) + "\n")
    for view, rows in _views(report):
        for r in rows:
            write("\t".join((view, *(_plain(r.get(c)) for c in ROW_COLS))) + "\n")


def _views(report: dict[str, JSON]) -> list[tuple[str, list[dict[str, JSON]]]]:
    totals = dict(report["totals"], key="all")
    return [("total", [totals]), ("day", report.get("days", [])),
            ("model", report.get("models", [])), ("workspace", report.get("workspaces", []))]


def stats_csv(report: dict[str, JSON], write: Write) -> None:
    """``--csv``: the rows (with ``--by``) or every view, with a header."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    by = report["by"]
    if by is not None:
        cols = _tsv_cols(by)
        w.writerow(cols)
        for r in report["rows"]:
            w.writerow(["" if r.get(c) is None else r.get(c) for c in cols])
    else:
        w.writerow(("view", *ROW_COLS))
        for view, rows in _views(report):
            for r in rows:
                w.writerow([view, *("" if r.get(c) is None else r.get(c) for c in ROW_COLS)])
    write(buf.getvalue())


def print_stats(report: dict[str, JSON], metric: str, console: Console) -> None:
    """The terminal view: the rows of ``--by``, or the overview (totals, the
    last 30 days as a bar chart, the top models and workspaces)."""
    width = console.width
    by = report["by"]
    if by is not None:
        if report["rows"]:
            console.print(stats_table(report["rows"], by, metric, width))
        console.print(_totals_line(report, by))
        return
    console.print(_totals_line(report, None))
    console.print(stats_table(report.get("days", []), "day", metric, width,
                              title="Last 30 days (UTC)"))
    for name, key in (("Top models", "models"), ("Top workspaces", "workspaces")):
        rows = report.get(key, [])[:5]
        if rows:
            console.print(stats_table(rows, key[:-1], metric, width, title=name))


def _totals_line(report: dict[str, JSON], by: str | None) -> str:
    t = report["totals"]
    parts = [f"{t['sessions']:,} sessions", f"{t['messages']:,} messages",
             f"{t['total_tokens']:,} tokens (in {human_count(t['input_tokens'])}, "
             f"out {human_count(t['output_tokens'])}, "
             f"cache r {human_count(t['cache_read_tokens'])}, "
             f"cache w {human_count(t['cache_write_tokens'])})",
             f"cost {money(t['cost_usd'])}"]
    if by == "tool":
        parts.append(f"{t.get('calls', 0):,} tool calls, {t.get('failures', 0):,} failed")
    span = ""
    if report.get("from") or report.get("to"):
        span = f" [{(report.get('from') or '')[:10]} .. {(report.get('to') or '')[:10]}]"
    return "Total" + span + ": " + ", ".join(parts)


def du_tsv(report: dict[str, JSON], write: Write) -> None:
    """``du`` piped: ``what<TAB>bytes`` lines, then the rows."""
    write(f"sessions\t{report['sessions_bytes']}\n")
    write(f"trash\t{report['trash_bytes']}\n")
    write(f"cache\t{report['cache_bytes']}\n")
    for r in report["rows"]:
        write(f"{report['by']}:{clean_line(r['key'])}\t{r['bytes']}\n")


def print_du(report: dict[str, JSON], console: Console) -> None:
    from rich import box
    from rich.table import Table

    console.print(
        f"sessions {human_bytes(report['sessions_bytes'])} in {report['files']:,} files, "
        f"trash {human_bytes(report['trash_bytes'])}, "
        f"cache {human_bytes(report['cache_bytes'])}")
    rows = report["rows"]
    if not rows:
        return
    width = console.width
    key_w = max(10, min(max(len(r["key"]) for r in rows), width - 30))
    bar_w = max(0, min(30, width - key_w - 14))
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    table.add_column(report["by"], no_wrap=True, max_width=key_w, overflow="ellipsis")
    table.add_column("size", justify="right", no_wrap=True)
    if bar_w >= 4:
        table.add_column("", no_wrap=True, style="cyan")
    top = max(r["bytes"] for r in rows)
    from .tables import ellipsize_left

    for r in rows:
        key = clean_line(r["key"]) or "(none)"
        key = ellipsize_left(key, key_w) if report["by"] == "workspace" else key
        cells = [key, human_bytes(r["bytes"])]
        if bar_w >= 4:
            cells.append(bar(r["bytes"], top, bar_w))
        table.add_row(*cells)
    console.print(table)
