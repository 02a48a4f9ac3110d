#!/usr/bin/env python3
"""Benchmark sessionctl at scale through its public command line ("Fast at scale").

Generates a store with ``generate.py`` (unless ``--store`` names one), then
times each command as the median of ``--runs`` runs after ``--warmup``
run(s), next to baselines measured in the same session, and checks the
targets. Every process is timed with ``time.perf_counter`` around its whole
life and its peak RSS comes from ``os.wait4`` on its pid (per process, unlike
``RUSAGE_CHILDREN``), both taken in a small helper process (see Spawner).
MB means 10^6 bytes throughout.

Only the CLI and, for appends, the public library API are used. A store given
with ``--store`` is never modified: commands run on private copies (session
files hard-linked, everything else copied; ``cleanup`` gets full copies).

    python benchmarks/run.py --quick
    python benchmarks/run.py --workdir /tmp/sessionctl-bench --json results.json
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent
GENERATE = HERE / "generate.py"
DAY_NS = 86_400 * 1_000_000_000

# The append benchmark: 300 appends through the public API, timed inside the
# process so that interpreter start-up and imports do not dilute the figure.
APPEND_PROGRAM = """\
import json, sys, time
from sessionctl import JSONLStore, Message, new_session
store = JSONLStore(sys.argv[1])
n = int(sys.argv[2])
session = new_session("bench", "default", "bench-model")
text = "benchmark append: " + "the quick brown fox jumps over the lazy dog " * 4
t0 = time.perf_counter()
for i in range(n):
    store.append_message_to_disk(session, Message.text_message("user", f"{i} {text}"))
elapsed = time.perf_counter() - t0
print(json.dumps({"appends": n, "seconds": elapsed, "per_append_ms": elapsed * 1000 / n}))
"""
# What a person sees on a terminal (issue #16): the command runs under a
# pseudo-terminal (40 x 120) whose output is read as fast as it comes.
# "first": until the pager's prompt (the first screen is up), then "q";
# "all": until the end of the output. Prints the seconds and the exit status.
PTY_PROGRAM = """\
import fcntl, json, os, pty, select, struct, sys, termios, time
mode, argv = sys.argv[1], sys.argv[2:]
t0 = time.perf_counter()
pid, fd = pty.fork()
if pid == 0:
    os.execvp(argv[0], argv)
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
seen, first, tail = 0, None, b""
while True:
    if first is None and mode == "first" and (b":\\x1b[K" in tail or b"(END)" in tail):
        first = time.perf_counter() - t0
        os.write(fd, b"q")
    r, _, _ = select.select([fd], [], [], 0.05)
    if not r:
        if os.waitpid(pid, os.WNOHANG)[0]:
            pid = 0
            break
        if first is not None:
            os.write(fd, b"q")
        continue
    try:
        chunk = os.read(fd, 1 << 16)
    except OSError:
        break
    if not chunk:
        break
    seen += len(chunk)
    tail = (tail + chunk)[-64:]
total = time.perf_counter() - t0
status = os.waitpid(pid, 0)[1] if pid else 0
print(json.dumps({"first_s": first, "total_s": total, "bytes": seen,
                  "rc": os.waitstatus_to_exitcode(status) if pid else 0}))
"""
# The floor of a cleanup into the trash (SPEC §8.1): the same renames into
# .trash/ and the same lock-file creates and unlinks, in a bare loop: per
# session <id>.lock is created and unlinked, <id>.jsonl.flock created (if
# missing; never removed, §7) -- no flock, no PID, no checks, no listing.
TRASH_LOOP = """\
import os, sys
store, ids_file = sys.argv[1], sys.argv[2]
ids = open(ids_file).read().split()
trash = os.path.join(store, ".trash")
os.makedirs(trash, mode=0o700, exist_ok=True)
for sid in ids:
    lock = f"{store}/{sid}.lock"
    fd = os.open(lock, os.O_CREAT | os.O_RDWR, 0o600)
    ffd = os.open(f"{store}/{sid}.jsonl.flock", os.O_CREAT | os.O_RDWR, 0o600)
    os.rename(f"{store}/{sid}.jsonl", f"{trash}/{sid}.jsonl")
    os.close(ffd)
    os.unlink(lock)
    os.close(fd)
"""
#: The same loop with what SPEC §8.1's move protocol adds per session: the
#: flocks, the lock file's identity check and PID, the re-check of the file
#: and of a free name in the trash. Not a target's baseline: it shows how
#: much of cleanup's time the protocol's system calls alone take.
TRASH_PROTOCOL_LOOP = """\
import fcntl, os, sys
store, ids_file = sys.argv[1], sys.argv[2]
ids = open(ids_file).read().split()
trash = os.path.join(store, ".trash")
os.makedirs(trash, mode=0o700, exist_ok=True)
pid = str(os.getpid()).encode()
for sid in ids:
    lock = f"{store}/{sid}.lock"
    fd = os.open(lock, os.O_CREAT | os.O_RDWR, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    os.fstat(fd), os.stat(lock)
    os.pwrite(fd, pid, 0)
    ffd = os.open(f"{store}/{sid}.jsonl.flock", os.O_CREAT | os.O_RDWR, 0o600)
    fcntl.flock(ffd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    os.lstat(f"{store}/{sid}.jsonl"), os.path.lexists(f"{trash}/{sid}.jsonl")
    os.rename(f"{store}/{sid}.jsonl", f"{trash}/{sid}.jsonl")
    fcntl.flock(ffd, fcntl.LOCK_UN)
    os.close(ffd)
    os.unlink(lock)
    fcntl.flock(fd, fcntl.LOCK_UN)
    os.close(fd)
"""
BASELINE_INDEX = (
    "import sys, typer, rich, orjson, platformdirs\n"
    "orjson.loads(open(sys.argv[1] + '/index.json', 'rb').read())\n"
)
BASELINE_PARSE = (
    "import sys, orjson\n"
    "with open(sys.argv[1], 'rb') as f:\n"
    "    for line in f:\n"
    "        orjson.loads(line)\n"
)
BASELINE_PARSE_ALL = (
    "import os, sys, orjson\n"
    "d = sys.argv[1]\n"
    "for name in os.listdir(d):\n"
    "    if name.endswith('.jsonl'):\n"
    "        with open(os.path.join(d, name), 'rb') as f:\n"
    "            for line in f:\n"
    "                try:\n"
    "                    orjson.loads(line)\n"
    "                except orjson.JSONDecodeError:\n"
    "                    pass\n"
)
#: Search benchmarks: a two-word query, and a word no session contains.
SEARCH_QUERY = ("mutex", "deadline")
ABSENT_WORD = "zqxjvkwabsent"


class BenchError(Exception):
    """A measured command failed or printed something unexpected."""


# ---------------------------------------------------------------------------
# Running one process
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Invocation:
    cmd: list[str]
    env: dict[str, str]
    capture: bool = False  # keep stdout (else it goes to /dev/null)


@dataclass(frozen=True)
class Sample:
    wall_s: float
    maxrss_bytes: int
    returncode: int
    stdout: bytes
    stderr: bytes
    timed_out: bool = False


# Peak RSS comes from wait4() in a small helper process, not in this one:
# Linux counts the RSS a child had before exec() (a copy of its parent's) in
# its ru_maxrss, so a child of this runner, which holds parsed `list` output,
# would report at least about the runner's own size. The helper stays small
# (it runs with -I -S and never reads the children's output); what a no-op
# child (`true`) reports through it is printed as the floor of the figures.
# Timing is done in the helper as well, around spawn and wait4.
SPAWNER_PROGRAM = """\
import json, os, subprocess, sys, threading, time
scale = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: KiB on Linux
for line in sys.stdin:
    req = json.loads(line)
    try:
        with open(req["stdout"] or os.devnull, "wb") as out, open(req["stderr"], "wb") as err:
            t0 = time.perf_counter()
            p = subprocess.Popen(req["cmd"], stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                 env=req["env"], cwd=req["cwd"])
            killed = []
            timer = threading.Timer(req["timeout"], lambda: (killed.append(1), p.kill()))
            timer.start()
            try:
                _pid, status, usage = os.wait4(p.pid, 0)
            except BaseException:
                p.kill()
                p.wait()
                raise
            finally:
                timer.cancel()
            wall = time.perf_counter() - t0
            p.returncode = rc = os.waitstatus_to_exitcode(status)
        resp = {"wall_s": wall, "maxrss": usage.ru_maxrss * scale, "rc": rc,
                "timed_out": bool(killed)}
    except OSError as exc:
        resp = {"error": str(exc)}
    sys.stdout.write(json.dumps(resp) + "\\n")
    sys.stdout.flush()
"""


class Spawner:
    """Runs commands through the helper above; one request at a time."""

    def __init__(self, python: str, scratch: Path, timeout: float) -> None:
        self.scratch = scratch
        self.timeout = timeout
        self.floor_bytes = 0
        self.proc = subprocess.Popen(
            [python, "-I", "-S", "-c", SPAWNER_PROGRAM],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def run(self, inv: Invocation, cwd: Path) -> Sample:
        """Run ``inv`` to completion: wall time and the child's own peak RSS."""
        out_path = self.scratch / "stdout"
        err_path = self.scratch / "stderr"
        req = {
            "cmd": inv.cmd,
            "env": inv.env,
            "cwd": str(cwd),
            "stdout": str(out_path) if inv.capture else None,
            "stderr": str(err_path),
            "timeout": self.timeout,
        }
        assert self.proc.stdin is not None and self.proc.stdout is not None
        try:
            self.proc.stdin.write(json.dumps(req) + "\n")
            self.proc.stdin.flush()
            line = self.proc.stdout.readline()
        except OSError as exc:
            raise BenchError(f"the spawner helper died: {exc}") from None
        if not line:
            raise BenchError("the spawner helper died")
        resp = json.loads(line)
        if "error" in resp:
            raise OSError(f"cannot run `{shlex.join(inv.cmd)}`: {resp['error']}")
        stdout = out_path.read_bytes() if inv.capture else b""
        return Sample(
            resp["wall_s"],
            int(resp["maxrss"]),
            int(resp["rc"]),
            stdout,
            err_path.read_bytes(),
            bool(resp["timed_out"]),
        )

    def measure_floor(self, env: dict[str, str], cwd: Path) -> None:
        """The peak RSS a child that does nothing reports (0 if `true` is missing)."""
        true = shutil.which("true")
        with contextlib.suppress(BenchError, OSError):  # only informative
            if true is not None:
                self.floor_bytes = self.run(Invocation([true], env), cwd).maxrss_bytes

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.wait()


def describe_failure(inv: Invocation, s: Sample) -> str:
    lines = s.stderr.decode(errors="replace").strip().splitlines()
    tail = " | ".join(lines[-3:]) if lines else "(no stderr)"
    return f"`{shlex.join(inv.cmd)}` exited {s.returncode}: {tail}"


# ---------------------------------------------------------------------------
# Benchmarks and results
# ---------------------------------------------------------------------------


@dataclass
class Bench:
    key: str
    label: str
    # Called before every run, outside the timing: resets state, returns the command.
    prepare: Callable[[], Invocation]
    # The run's figure (seconds, or ms per append) and an optional note; raises BenchError.
    value: Callable[[Sample], tuple[float, str | None]] | None = None
    unit: str = "s"
    needs_cli: bool = True


@dataclass
class Result:
    key: str
    label: str
    unit: str
    command: str = ""
    values: list[float] = field(default_factory=list)
    walls: list[float] = field(default_factory=list)
    rss_mb: list[float] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    error: str | None = None
    timed_out: bool = False
    baseline: str | None = None
    # With a paired baseline: its figure in the run just before each of ours.
    pair_values: list[float] = field(default_factory=list)
    ratio: float | None = None
    target: str = ""
    status: str = ""

    @property
    def median(self) -> float | None:
        return statistics.median(self.values) if self.values else None

    @property
    def peak_mb(self) -> float | None:
        return max(self.rss_mb) if self.rss_mb else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "unit": self.unit,
            "command": self.command,
            "median": self.median,
            "min": min(self.values) if self.values else None,
            "max": max(self.values) if self.values else None,
            "values": self.values,
            "wall_s": self.walls,
            "rss_mb": self.rss_mb,
            "peak_rss_mb": self.peak_mb,
            "baseline": self.baseline,
            "baseline_paired_values": self.pair_values,
            "ratio": self.ratio,
            "target": self.target,
            "status": self.status,
            "notes": self.notes,
            "error": self.error,
            "timed_out": self.timed_out,
        }


def wall_value(s: Sample) -> tuple[float, str | None]:
    return s.wall_s, None


def measure(
    b: Bench, runs: int, warmup: int, cwd: Path, spawner: Spawner, pair: Bench | None = None
) -> Result:
    """Runs of ``b``; with ``pair`` (its baseline), one run of the baseline
    right before each of ``b``'s, so that each ratio compares runs made
    seconds apart (the machine's speed drifts over a benchmark's minutes)."""
    res = Result(b.key, b.label, b.unit)
    value = b.value or wall_value
    try:
        for i in range(warmup + runs):
            if pair is not None:
                pinv = pair.prepare()
                ps = spawner.run(pinv, cwd)
                if ps.timed_out or ps.returncode != 0:
                    raise BenchError(f"baseline {pair.key}: " + describe_failure(pinv, ps))
                pv, _ = (pair.value or wall_value)(ps)
                if i >= warmup:
                    res.pair_values.append(pv)
            inv = b.prepare()
            res.command = shlex.join(inv.cmd)
            s = spawner.run(inv, cwd)
            if s.timed_out:
                # One run over the limit says enough; the others would too.
                res.timed_out = True
                raise BenchError(
                    f"run {i + 1} killed after {spawner.timeout:g} s (--timeout): "
                    f"`{shlex.join(inv.cmd)}`"
                )
            if s.returncode != 0:
                raise BenchError(describe_failure(inv, s))
            v, note = value(s)
            if i < warmup:
                continue
            res.values.append(v)
            res.walls.append(s.wall_s)
            res.rss_mb.append(s.maxrss_bytes / 1e6)
            if note and note not in res.notes:
                res.notes.append(note)
    except (BenchError, OSError) as exc:
        res.error = str(exc)
        res.status = "ERROR"
    return res


@dataclass(frozen=True)
class Target:
    key: str
    baseline: str | None  # None: ``limit`` is absolute (in the result's unit)
    limit: float
    rss_limit_mb: float | None = None

    def describe(self) -> str:
        text = f"< {self.limit:g} s" if self.baseline is None else f"<= {self.limit:g}x"
        if self.rss_limit_mb is not None:
            text += f", RSS < {self.rss_limit_mb:g} MB"
        return text


TARGETS = (
    Target("list_warm", "base_index", 2.0),
    Target("list_cold", None, 5.0),
    Target("list_rewarm", "base_index", 2.0),
    Target("stats_warm", "list_warm", 1.5),
    Target("stats_append", "list_warm", 1.5),
    Target("stats_cold", "list_cold", 1.2),
    Target("show_json", "base_parse", 3.0),
    Target("export_md", "base_parse", 2.0, rss_limit_mb=100.0),
    Target("cleanup", "list_warm", 10.0),
    Target("append_full", "append_empty", 1.5),
    Target("help", "base_typer", 2.5),
    Target("show_tty_first", None, 0.5),
    Target("show_tty", "export_md", 3.0),
    Target("list_tty", "list_piped", 2.0),
    Target("cleanup_trash", "base_trash_loop", 2.0),
    Target("trash_json", "list_warm", 1.5),
    Target("list_labels", "list_warm", 1.05),
    Target("search_warm", "list_warm", 1.5),
    Target("search_append", "list_warm", 2.0),
    Target("search_absent", "base_grep", 1.0),
    Target("search_build", None, 60.0),
)


def judge(results: dict[str, Result]) -> None:
    for t in TARGETS:
        r = results.get(t.key)
        if r is None:
            continue
        r.target = t.describe()
        r.baseline = t.baseline
        if r.timed_out:
            r.status = "FAIL"  # slower than --timeout: no target here is that loose
            continue
        if r.error or r.median is None:
            r.status = "ERROR"
            continue
        ok = True
        if t.baseline is None:
            ok = r.median < t.limit
        else:
            base = results.get(t.baseline)
            if base is None or base.median is None or base.error:
                r.status = "ERROR"
                r.notes.append(f"no baseline {t.baseline}")
                continue
            if r.pair_values:
                # The median of the paired ratios (see measure).
                r.ratio = statistics.median(
                    v / p for v, p in zip(r.values, r.pair_values, strict=True))
            else:
                r.ratio = r.median / base.median
            ok = r.ratio <= t.limit
        if t.rss_limit_mb is not None:
            peak = r.peak_mb or 0.0
            ok = ok and peak < t.rss_limit_mb
        r.status = "PASS" if ok else "FAIL"


# ---------------------------------------------------------------------------
# Stores
# ---------------------------------------------------------------------------


def clone_store(src: Path, dst: Path, *, link: bool) -> None:
    """A private copy of a store; with ``link``, ``*.jsonl`` files are hard links.

    Linking is safe for the commands measured on such copies: none of them
    writes an existing session file (list and show only read; appends create
    a new session). Everything else (index.json, locks) is a real copy,
    because index.json is rewritten and lock files are written in place.
    """
    if dst.exists():
        shutil.rmtree(dst)

    def copy(s: str, d: str) -> object:
        if link and s.endswith(".jsonl"):
            try:
                os.link(s, d)
                return d
            except OSError:
                pass  # another file system: copy instead
        return shutil.copy2(s, d)

    shutil.copytree(src, dst, copy_function=copy)
    # A read-only source (a fixture) must still give a writable private copy.
    dst.chmod(0o700)
    for p in dst.iterdir():
        if not p.name.endswith(".jsonl") or not link:
            p.chmod(p.stat().st_mode | 0o600)


def largest_session(store: Path) -> str:
    files = [p for p in store.glob("*.jsonl") if p.is_file()]
    if not files:
        raise SystemExit(f"run.py: no *.jsonl files in {store}")
    return max(files, key=lambda p: p.stat().st_size).name[: -len(".jsonl")]


def cutoff_from_mtimes(store: Path, fraction: float) -> str:
    """The UTC midnight before which ``fraction`` of the sessions were last touched."""
    times = sorted(p.stat().st_mtime_ns for p in store.glob("*.jsonl"))
    if not times:
        raise SystemExit(f"run.py: no *.jsonl files in {store}")
    k = min(len(times) - 1, int(fraction * len(times)))
    day = times[k] - times[k] % DAY_NS
    return datetime.fromtimestamp(day / 1e9, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def today_utc() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT00:00:00Z")


def ensure_generated(
    python: str, workdir: Path, sessions: int, big_mb: float, seed: int, now: str, quiet: bool
) -> tuple[Path, dict[str, Any]]:
    """The generated store in ``workdir``, reused when its summary matches."""
    store = workdir / "store"
    summary_path = workdir / "store.json"
    if summary_path.exists() and store.is_dir():
        try:
            old = json.loads(summary_path.read_text())
        except ValueError:
            old = {}
        wanted = {
            "sessions": sessions,
            "seed": seed,
            "now_requested": now,
            "big_mb_requested": big_mb,
        }
        if all(old.get(k) == v for k, v in wanted.items()):
            print(f"reusing the generated store {store}", file=sys.stderr)
            return store, old
    cmd = [
        python,
        str(GENERATE),
        "--out",
        str(store),
        "--force",
        "--json",
        "--sessions",
        str(sessions),
        "--big-mb",
        str(big_mb),
        "--seed",
        str(seed),
        "--now",
        now,
    ]
    print(
        f"generating {sessions:,} sessions + a {big_mb:g} MB session in {store} ...",
        file=sys.stderr,
        flush=True,
    )
    proc = subprocess.run(
        cmd, stdout=subprocess.PIPE, stderr=None if not quiet else subprocess.DEVNULL, check=False
    )
    if proc.returncode != 0:
        raise SystemExit(f"run.py: generate.py failed (exit {proc.returncode})")
    summary: dict[str, Any] = json.loads(proc.stdout)
    summary["big_mb_requested"] = big_mb
    summary["now_requested"] = now
    summary_path.write_text(json.dumps(summary, indent=2) + "\n")
    print(
        f"  {summary['session_files']:,} session files, {summary['total_bytes'] / 1e6:,.1f} MB "
        f"in {summary['elapsed_s']:.1f} s",
        file=sys.stderr,
    )
    return store, summary


# ---------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------


def fmt_value(v: float | None, unit: str) -> str:
    if v is None:
        return "-"
    if unit == "ms":
        return f"{v:.3f} ms"
    return f"{v * 1000:.0f} ms" if v < 1 else f"{v:.2f} s"


SHORT = {
    "base_typer": "(c)",
    "base_index": "(a)",
    "base_parse": "(b)",
    "list_warm": "list warm",
    "list_cold": "list cold",
    "append_empty": "empty store",
}


def print_table(results: list[Result], out: Any = sys.stdout) -> None:
    head = ("benchmark", "median", "min", "max", "peak RSS", "vs", "ratio", "target", "result")
    rows: list[tuple[str, ...]] = []
    for r in results:
        rows.append(
            (
                r.label,
                fmt_value(r.median, r.unit),
                fmt_value(min(r.values) if r.values else None, r.unit),
                fmt_value(max(r.values) if r.values else None, r.unit),
                f"{r.peak_mb:.1f} MB" if r.peak_mb is not None else "-",
                SHORT.get(r.baseline or "", r.baseline or ""),
                f"{r.ratio:.2f}x" if r.ratio is not None else "",
                r.target,
                r.status,
            )
        )
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(head)]
    right = {1, 2, 3, 4, 6}

    def line(cells: Sequence[str]) -> str:
        padded = (
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )
        return "  ".join(padded).rstrip()

    print(line(head), file=out)
    print(line(["-" * w for w in widths]), file=out)
    for row in rows:
        print(line(row), file=out)
    for r in results:
        for note in r.notes:
            print(f"  {r.key}: {note}", file=out)
        if r.error:
            print(f"  {r.key}: ERROR {r.error}", file=out)


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="Benchmark sessionctl's CLI on a large store against same-run baselines.",
        epilog="examples:\n  python benchmarks/run.py --quick\n"
        "  python benchmarks/run.py --workdir /tmp/sessionctl-bench --json results.json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--store", type=Path, help="benchmark this existing store (never modified)")
    p.add_argument("--sessions", type=int, help="sessions to generate (default 10000)")
    p.add_argument("--big-mb", type=float, help="big session size in MB (default 95)")
    p.add_argument("--seed", type=int, default=1, help="generator seed (default 1)")
    p.add_argument("--now", help="generator reference time (default today 00:00 UTC)")
    p.add_argument(
        "--quick", action="store_true", help="smoke run: 1,000 sessions and a 10 MB big session"
    )
    p.add_argument("--runs", type=int, default=5, help="measured runs per benchmark (default 5)")
    p.add_argument("--warmup", type=int, default=1, help="warm-up runs (default 1)")
    p.add_argument(
        "--timeout",
        type=float,
        default=300.0,
        help="kill a run after this many seconds and fail its benchmark (default 300)",
    )
    p.add_argument("--appends", type=int, default=300, help="appends per run (default 300)")
    p.add_argument(
        "--sessionctl",
        help="the command to benchmark, shell-split (default: PYTHON -m sessionctl)",
    )
    p.add_argument(
        "--python",
        default=sys.executable,
        help="interpreter for baselines, appends and the generator (default: this one)",
    )
    p.add_argument(
        "--no-repo-path",
        action="store_true",
        help="do not put this checkout first on PYTHONPATH (use the installed one)",
    )
    p.add_argument(
        "--workdir",
        type=Path,
        help="where the store and copies go (default: a temporary directory, removed "
        "at the end; a given one keeps its generated store for reuse)",
    )
    p.add_argument("--keep", action="store_true", help="keep the temporary directory")
    p.add_argument("--big-id", help="the big session's id (default: the largest file)")
    p.add_argument(
        "--cutoff",
        help="cleanup --before value (default: from the generator, else "
        "the date before which 43%% of the files were last modified)",
    )
    p.add_argument("--only", help="comma-separated benchmark keys (baselines are added)")
    p.add_argument(
        "--unpaired",
        action="store_true",
        help="ratios of medians, without running each baseline next to each run",
    )
    p.add_argument("--json", type=Path, dest="json_out", help="write the results to this file")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    return p.parse_args(argv)


BENCH_KEYS = (
    "base_typer",
    "base_index",
    "base_parse",
    "help",
    "list_warm",
    "list_cold",
    "list_rewarm",
    "stats_warm",
    "stats_append",
    "stats_cold",
    "show_json",
    "export_md",
    "show_tty_first",
    "show_tty",
    "list_piped",
    "list_tty",
    "cleanup",
    "cleanup_cold",
    "append_empty",
    "append_full",
    "base_trash_loop",
    "base_trash_protocol",
    "cleanup_trash",
    "trash_json",
    "list_labels",
    "base_grep",
    "base_parse_all",
    "search_warm",
    "search_append",
    "search_absent",
    "search_build",
)


def selected_keys(only: str | None) -> set[str]:
    if not only:
        return set(BENCH_KEYS)
    keys = {k.strip() for k in only.split(",") if k.strip()}
    unknown = keys - set(BENCH_KEYS)
    if unknown:
        raise SystemExit(f"run.py: unknown benchmark(s) {sorted(unknown)}; known: {BENCH_KEYS}")
    while True:  # a target needs its baseline, and that one its own
        needed = {t.baseline for t in TARGETS if t.key in keys and t.baseline}
        if "list_rewarm" in keys:
            needed.add("list_cold")  # the re-warm runs on what the cold runs rebuilt
        if needed <= keys:
            return keys
        keys |= needed


def main(argv: Sequence[str] | None = None) -> int:
    a = parse_args(argv)
    if a.runs < 1 or a.warmup < 0 or a.appends < 1 or a.timeout <= 0:
        print(
            "run.py: --runs and --appends must be >= 1, --warmup >= 0, --timeout > 0",
            file=sys.stderr,
        )
        return 2
    sessions = a.sessions if a.sessions is not None else (1_000 if a.quick else 10_000)
    big_mb = a.big_mb if a.big_mb is not None else (10.0 if a.quick else 95.0)
    keys = selected_keys(a.only)

    def log(msg: str) -> None:
        if not a.quiet:
            print(msg, file=sys.stderr, flush=True)

    own_workdir = a.workdir is None
    workdir = Path(tempfile.mkdtemp(prefix="sessionctl-bench-")) if own_workdir else a.workdir
    assert workdir is not None
    workdir = workdir.resolve()
    try:
        workdir.relative_to(REPO_ROOT)
    except ValueError:
        pass
    else:
        print(f"run.py: refusing to write inside the repository: {workdir}", file=sys.stderr)
        return 2
    workdir.mkdir(parents=True, exist_ok=True)
    transient: list[Path] = []
    try:
        scratch = workdir / "spawn"
        scratch.mkdir(exist_ok=True)
        transient.append(scratch)
        spawner = Spawner(sys.executable, scratch, a.timeout)
        try:
            return run_all(a, keys, sessions, big_mb, workdir, transient, log, spawner)
        finally:
            spawner.close()
    finally:
        if a.keep:
            log(f"kept {workdir}")
        elif own_workdir:
            shutil.rmtree(workdir, ignore_errors=True)
        else:  # keep the generated store for the next run
            for p in transient:
                shutil.rmtree(p, ignore_errors=True)


def run_all(
    a: argparse.Namespace,
    keys: set[str],
    sessions: int,
    big_mb: float,
    workdir: Path,
    transient: list[Path],
    log: Callable[[str], None],
    spawner: Spawner,
) -> int:
    python: str = a.python
    summary: dict[str, Any] = {}
    load_start = os.getloadavg()[0]
    if a.store is not None:
        base = a.store.resolve()
        if not base.is_dir():
            print(f"run.py: no such store directory: {base}", file=sys.stderr)
            return 2
    else:
        base, summary = ensure_generated(
            python, workdir, sessions, big_mb, a.seed, a.now or today_utc(), a.quiet
        )
    big_id: str = a.big_id or summary.get("big_id") or largest_session(base)
    cutoff: str = a.cutoff or summary.get("cutoff") or cutoff_from_mtimes(base, 0.43)
    big_path = base / f"{big_id}.jsonl"
    expected_rows = summary.get("visible_sessions")
    expected_removed = summary.get("cutoff_removes")

    def fresh_dir(name: str) -> Path:
        p = workdir / name
        if p.exists():
            shutil.rmtree(p)
        p.mkdir(parents=True)
        transient.append(p)
        return p

    env = dict(os.environ)
    env["NO_COLOR"] = "1"
    env.pop("SESSIONCTL_DIR", None)
    # Bytecode as an installed copy has it: without this, a machine with
    # PYTHONDONTWRITEBYTECODE set would compile sessionctl's sources (but not
    # its dependencies', which pip compiled) on every run. Baselines get the
    # same environment; warm-up runs fill the cache, which lives in the
    # working directory, never in the checkout.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(fresh_dir("pycache"))
    if not a.no_repo_path and (REPO_ROOT / "sessionctl" / "__init__.py").exists():
        env["PYTHONPATH"] = os.pathsep.join(
            [str(REPO_ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
        )
    sc: list[str] = shlex.split(a.sessionctl) if a.sessionctl else [python, "-m", "sessionctl"]

    def env_with(cache: Path) -> dict[str, str]:
        return {**env, "SESSIONCTL_CACHE_DIR": str(cache)}

    caches = fresh_dir("caches")
    work = workdir / "work"
    transient.append(work)
    clone_store(base, work, link=True)

    # Is the CLI runnable at all? One clear message instead of a wall of errors.
    spawner.measure_floor(env, workdir)
    cli_error: str | None = None
    probe = Invocation([*sc, "--help"], env_with(caches / "probe"))
    try:
        s = spawner.run(probe, workdir)
        if s.returncode != 0:
            cli_error = describe_failure(probe, s)
    except OSError as exc:
        cli_error = f"cannot run `{shlex.join(sc)}`: {exc}"
    if cli_error:
        print(f"run.py: the sessionctl CLI is not runnable: {cli_error}", file=sys.stderr)

    warm_cache = caches / "warm"
    cold_state: dict[str, Path] = {}
    cold_runs = [0]

    def list_rows(s: Sample) -> tuple[float, str | None]:
        try:
            rows = json.loads(s.stdout)
        except ValueError as exc:
            raise BenchError(f"list --json printed invalid JSON: {exc}") from None
        if not isinstance(rows, list):
            raise BenchError("list --json did not print an array")
        note = f"{len(rows):,} rows"
        if expected_rows is not None and len(rows) != expected_rows:
            note += f" (CHECK: the generator wrote {expected_rows:,} visible sessions)"
        return s.wall_s, note

    def cleanup_removed(s: Sample) -> tuple[float, str | None]:
        try:
            report = json.loads(s.stdout)
            removed = len(report["removed"])
        except (ValueError, KeyError, TypeError) as exc:
            raise BenchError(f"cleanup --json printed no usable report: {exc!r}") from None
        note = f"removed {removed:,}"
        if expected_removed is not None and removed != expected_removed:
            note += f" (CHECK: expected {expected_removed:,})"
        skipped = report.get("skipped") or []
        if skipped:
            note += f", skipped {len(skipped)}"
        return s.wall_s, note

    def per_append(s: Sample) -> tuple[float, str | None]:
        try:
            ms = float(json.loads(s.stdout)["per_append_ms"])
        except (ValueError, KeyError, TypeError) as exc:
            raise BenchError(f"append program printed no timing: {exc!r}") from None
        return ms, None

    def prep_list_cold() -> Invocation:
        (work / "index.json").unlink(missing_ok=True)
        cold_runs[0] += 1
        cache = caches / f"cold-{cold_runs[0]}"
        cold_state["cache"] = cache
        return Invocation([*sc, "--dir", str(work), "list", "--json"], env_with(cache), True)

    def prep_list_rewarm() -> Invocation:
        cache = cold_state.get("cache", caches / "rewarm")
        return Invocation([*sc, "--dir", str(work), "list", "--json"], env_with(cache), True)

    def stats_report(s: Sample) -> tuple[float, str | None]:
        try:
            report = json.loads(s.stdout)
            total = report["totals"]["total_tokens"]
        except (ValueError, KeyError, TypeError) as exc:
            raise BenchError(f"stats --json printed no usable report: {exc!r}") from None
        return s.wall_s, f"{total:,} tokens"

    stats_cold_runs = [0]

    def prep_stats_cold() -> Invocation:
        (work / "index.json").unlink(missing_ok=True)
        stats_cold_runs[0] += 1
        cache = caches / f"stats-cold-{stats_cold_runs[0]}"
        return Invocation([*sc, "--dir", str(work), "stats", "--json"], env_with(cache), True)

    append_state: dict[str, Any] = {}

    def prep_stats_append() -> Invocation:
        """One session file (a real copy, never the shared hard link) gets
        one more usage record; the cache was warmed on this store before."""
        target = workdir / "stats-append-store"
        cache = caches / "stats-append"
        inv = Invocation([*sc, "--dir", str(target), "stats", "--json"], env_with(cache), True)
        if not append_state:
            transient.append(target)
            clone_store(base, target, link=True)
            victim = sorted(p for p in target.glob("*.jsonl") if p.stat().st_size < 1 << 20)[0]
            data = victim.read_bytes()
            victim.unlink()
            victim.write_bytes(data)  # its own inode now
            append_state["victim"] = victim
            for _ in range(2):  # the listing snapshot and the usage cache
                s = spawner.run(inv, workdir)
                if s.returncode != 0:
                    raise BenchError(describe_failure(inv, s))
        victim = append_state["victim"]
        sid = victim.name[: -len(".jsonl")]
        line = json.dumps({
            "type": "usage", "session_id": sid, "timestamp": "0001-01-01T00:00:00Z",
            "usage_entry": {"timestamp": datetime.now(timezone.utc).strftime(
                "%Y-%m-%dT%H:%M:%SZ"), "turn_index": 1, "model": "bench-model",
                "usage": {"input_tokens": 10, "output_tokens": 1, "cache_read_tokens": 0,
                          "cache_write_tokens": 0}}})
        with open(victim, "a", encoding="utf-8") as f:
            f.write(line + "\n")
        return inv

    cleanup_runs = [0]

    def prep_cleanup_store(*, listed: bool) -> Invocation:
        target = workdir / "cleanup-store"
        if target not in transient:
            transient.append(target)
        # A real copy: a cleanup that frees data is what users run.
        clone_store(base, target, link=False)
        cleanup_runs[0] += 1
        cache = caches / f"cleanup-{cleanup_runs[0]}"  # empty: the copy is a new store
        inv = Invocation(
            [*sc, "--dir", str(target), "cleanup", "--before", cutoff, "--json"],
            env_with(cache),
            True,
        )
        if listed:
            # The usual case, a daily cron job: sessionctl has listed this
            # store before (its cache knows the files), so cleanup does not
            # read 280 MB to learn what a list already knew.
            lister = Invocation([*sc, "--dir", str(target), "list", "--all", "--json"], inv.env)
            s = spawner.run(lister, workdir)
            if s.returncode != 0:
                raise BenchError(describe_failure(lister, s))
        # Synced, so that write-back of the copy does not run during the timing.
        os.sync()
        return inv

    append_runs = [0]

    def prep_append_empty() -> Invocation:
        append_runs[0] += 1
        d = fresh_dir(f"append-empty-{append_runs[0]}")
        return Invocation(
            [python, "-c", APPEND_PROGRAM, str(d), str(a.appends)],
            env_with(caches / "append"),
            True,
        )

    def prep_append_full() -> Invocation:
        target = workdir / "append-store"
        if target not in transient:
            transient.append(target)
        clone_store(base, target, link=True)
        return Invocation(
            [python, "-c", APPEND_PROGRAM, str(target), str(a.appends)],
            env_with(caches / "append"),
            True,
        )

    search_cache = caches / "search"
    search_store = workdir / "search-store"
    transient.append(search_store)
    search_state: dict[str, Any] = {}
    builds = [0]

    def search_hits(s: Sample) -> tuple[float, str | None]:
        try:
            rows = json.loads(s.stdout)
        except ValueError as exc:
            raise BenchError(f"search --json printed invalid JSON: {exc}") from None
        if not isinstance(rows, list):
            raise BenchError("search --json did not print an array")
        return s.wall_s, f"{len(rows)} sessions"

    def prep_search_append() -> Invocation:
        # Its own store (hard links) where one small session is a real copy,
        # so the append never reaches the base store; then one message is
        # appended before each timed search.
        if not search_state:
            clone_store(base, search_store, link=True)
            victim = min(search_store.glob("*.jsonl"), key=lambda p: p.stat().st_size)
            data = victim.read_bytes()
            victim.unlink()
            victim.write_bytes(data)
            search_state["victim"] = victim
            warm = Invocation([*sc, "--dir", str(search_store), "search", "--json",
                               *SEARCH_QUERY], env_with(caches / "search-append"))
            s = spawner.run(warm, workdir)
            if s.returncode != 0:
                raise BenchError(describe_failure(warm, s))
        victim = search_state["victim"]
        sid = victim.name[:-6]
        n = search_state["n"] = search_state.get("n", 0) + 1
        record = {"type": "message", "session_id": sid, "timestamp": "2026-01-01T00:00:00Z",
                  "message": {"role": "user", "id": f"msg_bench_{n}",
                              "content": [{"type": "text", "text": f"appended mutex {n}"}]}}
        with open(victim, "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")
        return Invocation([*sc, "--dir", str(search_store), "search", "--json", *SEARCH_QUERY],
                          env_with(caches / "search-append"), True)

    def build_size(s: Sample) -> tuple[float, str | None]:
        cache = search_state["build_cache"]
        index = sum(p.stat().st_size for p in cache.glob("search-*"))
        store_bytes = sum(p.stat().st_size for p in base.glob("*.jsonl"))
        ratio = index / store_bytes if store_bytes else 0.0
        note = f"index {index / 1e6:.1f} MB = {ratio:.2f}x store {store_bytes / 1e6:.1f} MB"
        if ratio > 1.0:
            note += " (CHECK: over 1x the store)"
        return s.wall_s, note

    def prep_search_build() -> Invocation:
        builds[0] += 1
        cache = caches / f"search-build-{builds[0]}"
        search_state["build_cache"] = cache
        return Invocation([*sc, "--dir", str(work), "search", "--json", *SEARCH_QUERY],
                          env_with(cache), True)

    def fixed(inv: Invocation) -> Callable[[], Invocation]:
        return lambda: inv

    def pty_value(key: str) -> Callable[[Sample], tuple[float, str | None]]:
        def value(s: Sample) -> tuple[float, str | None]:
            try:
                data = json.loads(s.stdout)
                seconds = float(data[key])
            except (ValueError, KeyError, TypeError) as exc:
                raise BenchError(f"the pty program printed no timing: {exc!r}") from None
            if data["rc"] != 0:
                raise BenchError(f"exited {data['rc']} on the terminal")
            size = data["bytes"]
            shown = f"{size / 1e6:.1f} MB" if size >= 1e5 else f"{size / 1e3:.1f} KB"
            return seconds, f"{shown} to the terminal"
        return value

    # On a terminal: colour as a person gets it, less as the pager.
    tty_env = {k: v for k, v in env.items() if k not in ("NO_COLOR", "PAGER", "LESS")}
    tty_env["TERM"] = "xterm-256color"
    tty_runs = [0]

    def prep_tty_first() -> Invocation:
        # A cache that has never seen the big session: the worst case.
        tty_runs[0] += 1
        return Invocation(
            [python, "-c", PTY_PROGRAM, "first", *sc, "--dir", str(work), "show", big_id],
            {**tty_env, "SESSIONCTL_CACHE_DIR": str(caches / f"tty-{tty_runs[0]}")}, True)

    # -- the trash (SPEC §8.1) and labels (§8.2) ----------------------------
    trash_state: dict[str, Any] = {}

    def trash_candidates() -> Path:
        """The ids a cleanup at CUTOFF moves (from a dry run, once)."""
        ids_file = workdir / "trash-candidates.txt"
        if "ids" not in trash_state:
            probe = Invocation([*sc, "--dir", str(work), "cleanup", "--before", cutoff,
                                "--dry-run"], env_with(warm_cache), True)
            s = spawner.run(probe, workdir)
            if s.returncode != 0:
                raise BenchError(describe_failure(probe, s))
            ids_file.write_bytes(s.stdout)
            trash_state["ids"] = len(s.stdout.split())
        return ids_file

    def linked_copy(name: str) -> Path:
        target = workdir / name
        if target not in transient:
            transient.append(target)
        clone_store(base, target, link=True)  # renames never change a file's bytes
        return target

    def trash_loop(script: str, store_name: str) -> Callable[[], Invocation]:
        """A bare trash loop (``script``) over the cleanup's candidates, on
        a fresh hard-linked copy each run."""
        def prep() -> Invocation:
            ids_file = trash_candidates()
            target = linked_copy(store_name)
            os.sync()
            return Invocation([python, "-c", script, str(target), str(ids_file)], env)
        return prep

    prep_trash_loop = trash_loop(TRASH_LOOP, "trash-floor-store")
    prep_trash_protocol = trash_loop(TRASH_PROTOCOL_LOOP, "trash-protocol-store")

    trash_runs = [0]

    def prep_cleanup_trash() -> Invocation:
        target = linked_copy("trash-cleanup-store")
        trash_runs[0] += 1
        cache = caches / f"trash-cleanup-{trash_runs[0]}"
        lister = Invocation([*sc, "--dir", str(target), "list", "--all", "--json"],
                            env_with(cache))
        s = spawner.run(lister, workdir)  # the daily cron case: listed before
        if s.returncode != 0:
            raise BenchError(describe_failure(lister, s))
        os.sync()
        return Invocation([*sc, "--dir", str(target), "cleanup", "--before", cutoff, "--json"],
                          env_with(cache), True)

    def prep_trash_json() -> Invocation:
        target = workdir / "trash-list-store"
        cache = caches / "trash-list"
        if "listed" not in trash_state:
            linked_copy("trash-list-store")
            fill = Invocation([*sc, "--dir", str(target), "cleanup", "--before", cutoff,
                               "--trash-retention", "never"], env_with(cache))
            s = spawner.run(fill, workdir)
            if s.returncode != 0:
                raise BenchError(describe_failure(fill, s))
            trash_state["listed"] = True
        return Invocation([*sc, "--dir", str(target), "trash", "--json"], env_with(cache), True)

    def trash_rows(s: Sample) -> tuple[float, str | None]:
        try:
            rows = json.loads(s.stdout)
        except ValueError as exc:
            raise BenchError(f"trash --json printed invalid JSON: {exc}") from None
        return s.wall_s, f"{len(rows):,} trash entries"

    def prep_list_labels() -> Invocation:
        target = workdir / "labels-store"
        if "labels" not in trash_state:
            linked_copy("labels-store")
            ids = sorted(p.name[:-6] for p in target.glob("*.jsonl"))
            sessions = {sid: {"tags": ["bench", f"t{i % 7}"], **({"pinned": True}
                              if i % 10 == 0 else {})} for i, sid in enumerate(ids) if i % 3 == 0}
            state = target / ".sessionctl"
            state.mkdir(mode=0o700, exist_ok=True)
            (state / "labels.json").write_text(json.dumps({"version": 1, "sessions": sessions}))
            trash_state["labels"] = len(sessions)
        return Invocation([*sc, "--dir", str(target), "list", "--json"],
                          env_with(caches / "labels"), True)

    n_label = f"{sessions:,}" if a.store is None else "store"
    benches = [
        Bench(
            "base_typer",
            "(c) python -c 'import typer'",
            fixed(Invocation([python, "-c", "import typer"], env)),
            needs_cli=False,
        ),
        Bench(
            "base_index",
            "(a) imports + parse index.json",
            fixed(Invocation([python, "-c", BASELINE_INDEX, str(base)], env)),
            needs_cli=False,
        ),
        Bench(
            "base_parse",
            "(b) orjson-parse every line of big",
            fixed(Invocation([python, "-c", BASELINE_PARSE, str(big_path)], env)),
            needs_cli=False,
        ),
        Bench(
            "help",
            "sessionctl --help",
            fixed(Invocation([*sc, "--help"], env_with(caches / "help"))),
        ),
        Bench(
            "list_warm",
            "list --json (warm)",
            fixed(
                Invocation([*sc, "--dir", str(work), "list", "--json"], env_with(warm_cache), True)
            ),
            value=list_rows,
        ),
        Bench("list_cold", "list --json (cold: no index/cache)", prep_list_cold, value=list_rows),
        Bench("list_rewarm", "list --json (warm after rebuild)", prep_list_rewarm, value=list_rows),
        Bench(
            "stats_warm",
            "stats --json (warm)",
            fixed(Invocation([*sc, "--dir", str(work), "stats", "--json"], env_with(warm_cache),
                             True)),
            value=stats_report,
        ),
        Bench("stats_append", "stats --json (after one append)", prep_stats_append,
              value=stats_report),
        Bench("stats_cold", "stats --json (cold: no index/cache)", prep_stats_cold,
              value=stats_report),
        Bench(
            "show_json",
            "show --json BIG",
            fixed(
                Invocation(
                    [*sc, "--dir", str(work), "show", "--json", big_id], env_with(warm_cache)
                )
            ),
        ),
        Bench(
            "export_md",
            "export-md BIG",
            fixed(Invocation([*sc, "--dir", str(work), "export-md", big_id], env_with(warm_cache))),
        ),
        Bench(
            "show_tty_first",
            "show BIG on a terminal: first screen",
            prep_tty_first,
            value=pty_value("first_s"),
        ),
        Bench(
            "show_tty",
            "show BIG --no-pager, whole view on a terminal",
            fixed(Invocation(
                [python, "-c", PTY_PROGRAM, "all", *sc, "--dir", str(work), "show", big_id,
                 "--no-pager"], {**tty_env, "SESSIONCTL_CACHE_DIR": str(warm_cache)}, True)),
            value=pty_value("total_s"),
        ),
        Bench(
            "list_piped",
            "list (piped, warm)",
            fixed(Invocation([*sc, "--dir", str(work), "list"], env_with(warm_cache), True)),
        ),
        Bench(
            "list_tty",
            "list on a terminal (warm)",
            fixed(Invocation(
                [python, "-c", PTY_PROGRAM, "all", *sc, "--dir", str(work), "list"],
                {**tty_env, "SESSIONCTL_CACHE_DIR": str(warm_cache)}, True)),
            value=pty_value("total_s"),
        ),
        Bench(
            "cleanup",
            "cleanup --before CUTOFF --json",
            lambda: prep_cleanup_store(listed=True),
            value=cleanup_removed,
        ),
        Bench(
            "cleanup_cold",
            "cleanup, never listed before",
            lambda: prep_cleanup_store(listed=False),
            value=cleanup_removed,
        ),
        Bench(
            "append_empty",
            f"append x{a.appends} (empty store)",
            prep_append_empty,
            value=per_append,
            unit="ms",
            needs_cli=False,  # the library, not the CLI
        ),
        Bench(
            "append_full",
            f"append x{a.appends} ({n_label} sessions)",
            prep_append_full,
            value=per_append,
            unit="ms",
            needs_cli=False,  # the library, not the CLI
        ),
        Bench(
            "base_trash_loop",
            "(d) bare loop: the renames + lock files",
            prep_trash_loop,
            needs_cli=False,
        ),
        Bench(
            "base_trash_protocol",
            "(d) the same loop with §8.1's locks and checks",
            prep_trash_protocol,
            needs_cli=False,
        ),
        Bench(
            "cleanup_trash",
            "cleanup --before CUTOFF (into the trash)",
            prep_cleanup_trash,
            value=cleanup_removed,
        ),
        Bench("trash_json", "trash --json (the cleanup's entries)", prep_trash_json,
              value=trash_rows),
        Bench("list_labels", "list --json (warm, with labels)", prep_list_labels,
              value=list_rows),
        Bench(
            "base_grep",
            f"(d) grep -r -l -i {ABSENT_WORD} (absent word)",
            fixed(Invocation(["sh", "-c", 'grep -r -l -i "$0" "$1"; test $? -eq 1',
                              ABSENT_WORD, str(work)], env)),
            needs_cli=False,
        ),
        Bench(
            "base_parse_all",
            "(e) orjson-parse every line of the store",
            fixed(Invocation([python, "-c", BASELINE_PARSE_ALL, str(base)], env)),
            needs_cli=False,
        ),
        Bench(
            "search_warm",
            f"search --json {' '.join(SEARCH_QUERY)} (warm)",
            fixed(Invocation([*sc, "--dir", str(work), "search", "--json", *SEARCH_QUERY],
                             env_with(search_cache), True)),
            value=search_hits,
        ),
        Bench(
            "search_append",
            "search after one append",
            prep_search_append,
            value=search_hits,
        ),
        Bench(
            "search_absent",
            "search --json ABSENT (warm)",
            fixed(Invocation([*sc, "--dir", str(work), "search", "--json", ABSENT_WORD],
                             env_with(search_cache), True)),
            value=search_hits,
        ),
        Bench(
            "search_build",
            "search: first index build",
            prep_search_build,
            value=build_size,
        ),
    ]

    results: dict[str, Result] = {}
    by_key = {b.key: b for b in benches}
    for b in benches:
        if b.key not in keys:
            continue
        if b.needs_cli and cli_error:
            results[b.key] = Result(
                b.key, b.label, b.unit, error="CLI not runnable", status="ERROR"
            )
            continue
        log(f"{b.label} ...")
        target = next((t for t in TARGETS if t.key == b.key), None)
        paired = target is not None and target.baseline is not None and not a.unpaired
        pair = by_key.get(target.baseline) if paired and target and target.baseline else None
        r = measure(b, a.runs, a.warmup, workdir, spawner, pair)
        results[b.key] = r
        if r.error:
            log(f"  ERROR {r.error}")
        else:
            log(f"  median {fmt_value(r.median, r.unit)}, peak {r.peak_mb or 0:.1f} MB")
    judge(results)

    ordered = [results[k] for k in BENCH_KEYS if k in results]
    big_size = big_path.stat().st_size if big_path.exists() else 0
    print()
    print(
        f"store: {base} ({sum(1 for _ in base.glob('*.jsonl')):,} session files); "
        f"big: {big_id} ({big_size / 1e6:.1f} MB); cutoff: {cutoff}"
    )
    load_end = os.getloadavg()[0]
    print(
        f"sessionctl: {shlex.join(sc)}; {a.runs} runs after {a.warmup} warm-up; "
        f"1-min load average {load_start:.2f} -> {load_end:.2f} on {os.cpu_count()} CPUs"
    )
    print(
        "peak RSS: each process's own ru_maxrss (wait4); a no-op child (`true`) reports "
        f"{spawner.floor_bytes / 1e6:.1f} MB"
    )
    print(
        "ratio: median over the runs of (run / its baseline's run just before it)"
        if not a.unpaired else "ratio: median / the baseline's median"
    )
    print()
    print_table(ordered)
    failed = [r.key for r in ordered if r.status in ("FAIL", "ERROR")]
    print()
    if cli_error:
        print(f"the sessionctl CLI is not runnable: {cli_error}")
    print("all targets met" if not failed else f"not met: {', '.join(failed)}")

    if a.json_out is not None:
        doc = {
            "store": str(base),
            "generated": summary or None,
            "big_id": big_id,
            "big_bytes": big_size,
            "cutoff": cutoff,
            "sessionctl": sc,
            "python": python,
            "python_version": sys.version.split()[0],
            "load_average": [load_start, load_end],
            "cpus": os.cpu_count(),
            "rss_floor_mb": spawner.floor_bytes / 1e6,
            "platform": sys.platform,
            "runs": a.runs,
            "warmup": a.warmup,
            "appends": a.appends,
            "paired": not a.unpaired,
            "cli_error": cli_error,
            "results": [r.as_dict() for r in ordered],
        }
        a.json_out.write_text(json.dumps(doc, indent=2) + "\n")
        log(f"wrote {a.json_out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
