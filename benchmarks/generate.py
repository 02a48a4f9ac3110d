#!/usr/bin/env python3
"""Write a reproducible ggcode v1.3.216-format session store for benchmarks.

Standalone on purpose (stdlib + orjson, never ``import sessionctl``): the data
a benchmark measures must not depend on the code it measures.

The store looks like one a busy agent leaves behind: ``--sessions`` session
files of ~40 messages (~28 KB) each, written as v1.3.216 writes them
(``msg_``+UUID v4 message ids, record-level timestamps, zero times and
``token_usage`` on every record, a ``meta`` record at the end of every turn,
some ``usage``/``metric`` records, some new-format checkpoints), a few 0-byte
files, the agent's ``.jsonl.flock`` side files, one big session of
``--big-mb`` MB, and an ``index.json`` in Go's ``MarshalIndent`` layout (a
few entries stale, as v1.3.2xx leaves them). Updated times spread over the
180 days before ``--now``; each file's mtime is its updated time. The summary
names a ``cleanup --before`` cutoff that removes ~43% of the sessions.

The same ``--seed``, ``--now`` and sizes give byte-identical files. ``--now``
defaults to today's 00:00 UTC, so runs on the same day agree; pin it for
reproducibility across days. Session ids use UTC (the agent uses local time)
so the output does not depend on the machine's time zone.

    python benchmarks/generate.py --out /tmp/sessionctl-bench/store
    python benchmarks/generate.py --sessions 1000 --big-mb 10 --json
"""

from __future__ import annotations

import argparse
import bisect
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import orjson

NS = 1_000_000_000
DAY_NS = 86_400 * NS
MB = 1_000_000
ZERO_TIME = "0001-01-01T00:00:00Z"
REPO_ROOT = Path(__file__).resolve().parent.parent


def _words(text: str) -> list[str]:
    return text.split()


# ---------------------------------------------------------------------------
# Vocabulary. Pools are built once from these, with their own seeded RNG, and
# messages are assembled from the pools: joining ready-made sentences and code
# lines is what makes 10,000 sessions take seconds, not minutes.
# ---------------------------------------------------------------------------

PROFILES: list[tuple[str, str, str, int]] = [
    # vendor, endpoint, model, weight
    ("anthropic", "default", "claude-sonnet-4-5", 30),
    ("anthropic", "default", "claude-opus-4-1", 8),
    ("openai", "default", "gpt-5", 15),
    ("openai", "azure-eastus", "gpt-5-mini", 6),
    ("zai", "coding-plan", "glm-4.6", 12),
    ("deepseek", "default", "deepseek-reasoner", 10),
    ("qwen", "dashscope", "qwen3-coder:30b", 6),
    ("openrouter", "https://openrouter.ai/api/v1", "moonshotai/kimi-k2", 5),
]

PROJECTS = _words(
    "ggcode webapp infra api-gateway billing mobile-relay data-pipeline auth-service "
    "search-indexer cli-tools docs-site payments scheduler notifier ml-experiments "
    "frontend backend monorepo terraform-modules k8s-manifests etl analytics chat-bot "
    "image-resizer rate-limiter feature-flags log-shipper metrics-exporter"
)
WORKSPACE_ROOTS = ("/home/dev/src", "/home/dev/work", "/Users/alice/code", "/srv/projects")

WORDS = _words(
    "the a an this that these those we you it they our your its their is are was were be "
    "been has have had will would should could can may might must do does did not no yes "
    "and or but if then else when while because so since after before until unless also "
    "only just still already again now here there where which what who how why all any "
    "each every some most more less many few other same different new old first last next "
    "previous current default empty full small large fast slow simple complex safe unsafe "
    "function method handler request response server client cache index file files "
    "directory path config setting option flag value values key keys map list slice array "
    "string bytes buffer stream reader writer parser lexer token tokens error errors panic "
    "exception test tests suite case fixture mock stub build release deploy pipeline job "
    "queue worker thread goroutine lock mutex channel timeout retry backoff context "
    "deadline session sessions message messages record records line lines field fields "
    "schema table column row query migration database transaction commit rollback branch "
    "merge rebase diff patch review change changes refactor rename move extract inline "
    "split join update add remove delete create read write open close flush sync rename "
    "return returns call calls check checks validate handle handles log logs metric "
    "metrics trace span latency memory allocation leak benchmark profile hot path loop "
    "iteration batch chunk page limit offset cursor sort order filter group count sum "
    "endpoint route middleware auth token header cookie payload body status code json "
    "yaml toml env variable argument parameter input output result results wrapper "
    "helper utility module package import export interface struct class type types "
    "generic pointer reference nil null none zero default fallback guard invariant "
    "contract behaviour regression bug fix issue workaround edge corner torn partial"
)

IDENTS = _words(
    "ListUsers parseConfig loadSession SaveIndex appendRecord flushBuffer newClient "
    "handleRequest validateToken retryWithBackoff openStore readLines writeAtomic "
    "compactHistory buildPrompt renderMarkdown fetchPage computeDiff applyPatch "
    "resolvePath normalizeWorkspace sessionID msgCount updatedAt createdAt userText "
    "maxTokens contextWindow toolCall toolResult streamEvents tunnelID rateLimiter "
    "featureFlag cacheKey shardIndex workerPool jobQueue httpClient dbConn txn ctx cfg "
    "opts logger metrics tracer span err res req resp buf line lines rec records idx "
    "entries items total offset limit cursor page"
)

EXTS: list[tuple[str, str]] = [
    (".go", "go"),
    (".py", "python"),
    (".ts", "typescript"),
    (".rs", "rust"),
    (".js", "javascript"),
    (".sh", "bash"),
    (".yaml", "yaml"),
    (".sql", "sql"),
]
DIRS = _words(
    "internal/session internal/store internal/api cmd/server pkg/util src/components "
    "src/lib api handlers models services scripts deploy migrations tests docs config "
    "internal/parser internal/agent internal/tunnel web/static tools"
)

PROMPT_STARTS = (
    "Fix the failing test in {path}",
    "Add pagination to the {ident} endpoint",
    "Refactor {ident} so it no longer panics on empty input",
    "Why does {ident} return stale results after a restart?",
    "Write unit tests for {path}",
    "Migrate {path} to the new config format",
    "Investigate the memory leak in {ident}",
    "Rename {ident} to something clearer and update the callers",
    "Explain how {path} handles retries",
    "Speed up {ident}: it takes 3 s on large inputs",
    "Add a --dry-run flag to the {ident} command",
    "The CI job fails with a timeout in {path}, can you look?",
    "Review my change to {path} and suggest improvements",
    "Make {ident} safe to call from several goroutines",
    "Port {path} from callbacks to async/await",
    "Document the {ident} API in the README",
    "Remove the dead code around {ident}",
    "Update the dependencies and fix what breaks",
    "Add structured logging to {path}",
    "Can you set up a GitHub Actions workflow for this repo?",
)
FOLLOW_UPS = (
    "Looks good, now run the whole test suite",
    "Can you also handle the case where {ident} is nil?",
    "That broke {path}, please revert the last edit",
    "Ok. Add a regression test for it",
    "What about the error message? It should say which file failed",
    "Use {ident} instead, it already exists",
    "Commit this with a short message",
    "Now do the same for {path}",
    "Why did you change {ident}?",
    "Great, continue",
    "Please keep the public API unchanged",
    "Run the linter and fix the warnings",
    "Is this safe if two processes write at once?",
    "Show me the diff before applying it",
    "Let's also update the changelog",
)
INTL_PROMPTS = (
    "Corrige le test qui échoue dans {path}, s'il te plaît",
    "Bitte überarbeite {ident} — die Fehlermeldungen sind für Nutzer unverständlich",
    "{ident} のテストを追加してください",
    "请帮我优化 {path} 的性能",
    "¿Puedes explicar cómo funciona {ident}?",
    "Почему {ident} возвращает пустой список?",
    "Ship it 🚀 — but first check {path} ✅",
)
ASSISTANT_OPENERS = (
    "Let me look at {path} first.",
    "I'll check how {ident} is called.",
    "Reading the relevant files.",
    "Running the tests to see the current state.",
    "Searching for usages of {ident}.",
    "Now I'll apply the change to {path}.",
    "The failure comes from {ident}; checking its callers.",
    "Let me verify that with the test suite.",
)

TOOLS = ("read_file", "run_command", "search", "edit_file", "list_dir", "write_file")
TOOL_WEIGHTS = (34, 26, 14, 14, 6, 6)

# ---------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------


def format_ns(ns: int) -> str:
    """RFC 3339 in UTC with trailing zeros trimmed, as Go's RFC3339Nano."""
    secs, frac = divmod(ns, NS)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs))
    if frac:
        return f"{stamp}.{frac:09d}".rstrip("0") + "Z"
    return stamp + "Z"


def session_id(created_ns: int, rng: random.Random) -> str:
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(created_ns // NS))
    return f"{stamp}-{rng.getrandbits(64):016x}"


def uuid4(rng: random.Random) -> str:
    n = rng.getrandbits(128)
    n = (n & ~(0xF000 << 64)) | (0x4000 << 64)  # version 4
    n = (n & ~(0xC000 << 48)) | (0x8000 << 48)  # RFC 4122 variant
    h = f"{n:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def truncate_title(text: str, limit: int = 60) -> str:
    """The agent's title rule: at most ``limit`` characters, else 57 + ``...``."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[: limit - 3] + "..."


def go_html_escape(data: bytes) -> bytes:
    """Go's encoding/json escapes these by default (index.json is written so)."""
    return (
        data.replace(b"&", b"\\u0026")
        .replace(b"<", b"\\u003c")
        .replace(b">", b"\\u003e")
        .replace("\u2028".encode(), b"\\u2028")
        .replace("\u2029".encode(), b"\\u2029")
    )


def write_all(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)


def write_file(path: Path, data: bytes, mtime_ns: int) -> None:
    write_all(path, data)
    os.utime(path, ns=(mtime_ns, mtime_ns))


def parse_now(text: str | None) -> int:
    """``--now`` as epoch ns; default today's 00:00 UTC; no zone means UTC."""
    if text is None:
        today = datetime.now(timezone.utc).date()
        dt = datetime(today.year, today.month, today.day, tzinfo=timezone.utc)
    else:
        dt = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=timezone.utc)
    return int(dt.timestamp()) * NS + dt.microsecond * 1000


# ---------------------------------------------------------------------------
# Pools
# ---------------------------------------------------------------------------


class Pools:
    """Ready-made text: sentences, code files, markdown docs, command outputs."""

    def __init__(self, seed: int) -> None:
        rng = random.Random(seed ^ 0x5EED_B001)
        self.paths = [
            f"{rng.choice(DIRS)}/{rng.choice(IDENTS).lower()}{ext}"
            for ext, _ in EXTS
            for _ in range(40)
        ]
        self.md_paths = [f"{d}/README.md" for d in DIRS] + ["README.md", "CHANGELOG.md"]
        self.sentences = [self._sentence(rng) for _ in range(4000)]
        self.code_files = [self._code_file(rng) for _ in range(240)]
        self.md_docs = [self._md_doc(rng) for _ in range(60)]
        self.outputs = [self._command_output(rng) for _ in range(300)]
        self.commands = [
            "go test ./...",
            "go vet ./...",
            "go build ./cmd/server",
            "pytest -q",
            "pytest tests/test_store.py -x",
            "npm test",
            "npm run lint",
            "cargo test",
            "git status",
            "git diff --stat",
            "git log --oneline -n 20",
            "make check",
            "ls -la",
            "cat README.md",
            "grep -rn TODO .",
            "docker compose ps",
            "kubectl get pods -n staging",
            "ruff check .",
            "mypy --strict src",
        ]
        self.thinking = [
            " ".join(rng.choices(self.sentences, k=rng.randint(1, 3))) for _ in range(300)
        ]

    def fill(self, template: str, rng: random.Random) -> str:
        return template.format(path=rng.choice(self.paths), ident=rng.choice(IDENTS))

    def _sentence(self, rng: random.Random) -> str:
        n = rng.randint(4, 14)
        words = rng.choices(WORDS, k=n)
        if rng.random() < 0.45:
            pos = rng.randrange(n)
            words[pos] = f"`{rng.choice(IDENTS)}`"
        if rng.random() < 0.2:
            words.append(f"in `{rng.choice(self.paths)}`")
        text = " ".join(words)
        return text[0].upper() + text[1:] + rng.choice(".....?:!")

    def _code_line(self, rng: random.Random, lang: str, depth: int) -> str:
        a, b, c = rng.choice(IDENTS), rng.choice(IDENTS), rng.choice(IDENTS)
        ind = "\t" * depth if lang == "go" else "    " * depth
        forms: tuple[str, ...]
        if lang == "go":
            forms = (
                f"{a}, err := {b}({c})",
                "if err != nil {",
                f'\treturn nil, fmt.Errorf("{a}: %w", err)',
                "}",
                f"for i, {a} := range {b} {{",
                f"{a} = append({a}, {c})",
                f"func ({a[0].lower()} *{a}) {b}(ctx context.Context) error {{",
                f"defer {a}.Close()",
                f"// {rng.choice(self.sentences)}",
                f'{a}.logger.Info("{b}", "count", len({c}))',
            )
        elif lang == "python":
            forms = (
                f"{a} = {b}({c})",
                f"if not {a}:",
                f'    raise ValueError(f"{b}: {{{c}!r}}")',
                f"for {a} in {b}:",
                f"def {a.lower()}(self, {b.lower()}: str) -> int:",
                f"return {a}.{b.lower()}()",
                f"# {rng.choice(self.sentences)}",
                f"with open({a}, 'rb') as fh:",
                f"self.{a.lower()}[{b!r}] = {c}",
            )
        else:
            forms = (
                f"const {a} = await {b}({c});",
                f"if (!{a}) {{ throw new Error('{b} failed'); }}",
                f"export function {a}({b}: string): number {{",
                f"  return {a}.{b}({c});",
                "}",
                f"// {rng.choice(self.sentences)}",
                f"{a}.forEach(({b}) => {c}.push({b}));",
                f"let {a}: {b}[] = [];",
            )
        return ind + rng.choice(forms)

    def _code_file(self, rng: random.Random) -> tuple[str, list[str]]:
        lang = rng.choice(("go", "go", "python", "python", "typescript"))
        lines = [f"package {rng.choice(IDENTS).lower()}" if lang == "go" else "import os"]
        depth = 0
        for _ in range(rng.randint(40, 400)):
            if rng.random() < 0.08:
                lines.append("")
                depth = rng.randint(0, 1)
                continue
            lines.append(self._code_line(rng, lang, depth))
            depth = max(0, min(3, depth + rng.choice((-1, 0, 0, 1))))
        return lang, lines

    def _md_doc(self, rng: random.Random) -> list[str]:
        """A markdown document with ``` fences: tool output that must not break export."""
        lines = [f"# {truncate_title(rng.choice(self.sentences), 40)}", ""]
        for _ in range(rng.randint(2, 8)):
            lines.append(" ".join(rng.choices(self.sentences, k=rng.randint(1, 4))))
            lines.append("")
            if rng.random() < 0.7:
                fence = "````" if rng.random() < 0.15 else "```"
                lang = rng.choice(("bash", "go", "python", "json", ""))
                lines.append(fence + lang)
                if fence == "````":
                    lines.append("```nested")
                    lines.append("echo inner fence")
                    lines.append("```")
                for _ in range(rng.randint(1, 8)):
                    lines.append(self._code_line(rng, "go" if lang == "go" else "python", 0))
                lines.append(fence)
                lines.append("")
            if rng.random() < 0.3:
                lines.append(f"- use `{rng.choice(IDENTS)}` with ```inline``` backticks")
        return lines

    def _command_output(self, rng: random.Random) -> list[str]:
        kind = rng.randrange(5)
        if kind == 0:  # go test
            out = []
            for _ in range(rng.randint(3, 60)):
                pkg = rng.choice(DIRS)
                ok = rng.random() < 0.85
                out.append(
                    f"{'ok  ' if ok else 'FAIL'}\texample.com/app/{pkg}\t{rng.random() * 3:.3f}s"
                )
                if not ok:
                    out.append(f"--- FAIL: Test{rng.choice(IDENTS)} (0.{rng.randint(0, 99):02d}s)")
                    out.append(
                        f"    {rng.choice(self.paths)}:{rng.randint(1, 400)}: "
                        + rng.choice(self.sentences)
                    )
            return out
        if kind == 1:  # pytest
            out = [
                f"{rng.choice(self.paths)} " + "." * rng.randint(1, 60)
                for _ in range(rng.randint(2, 30))
            ]
            out.append(f"==== {rng.randint(5, 900)} passed in {rng.random() * 20:.2f}s ====")
            return out
        if kind == 2:  # grep
            return [
                f"{rng.choice(self.paths)}:{rng.randint(1, 999)}:{self._code_line(rng, 'go', 1)}"
                for _ in range(rng.randint(2, 50))
            ]
        if kind == 3:  # ls
            return [
                f"-rw-r--r--  1 dev dev {rng.randint(0, 99999):6d} Nov {rng.randint(1, 28):2d} "
                f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d} "
                f"{rng.choice(IDENTS).lower()}{rng.choice(EXTS)[0]}"
                for _ in range(rng.randint(3, 40))
            ]
        # git diff
        out = [f"diff --git a/{(p := rng.choice(self.paths))} b/{p}", f"--- a/{p}", f"+++ b/{p}"]
        for _ in range(rng.randint(1, 6)):
            out.append(f"@@ -{rng.randint(1, 300)},7 +{rng.randint(1, 300)},9 @@")
            for _ in range(rng.randint(3, 14)):
                out.append(rng.choice(" +-") + self._code_line(rng, "go", 1))
        return out


# ---------------------------------------------------------------------------
# One session
# ---------------------------------------------------------------------------

ZERO_USAGE = {
    "input_tokens": 0,
    "output_tokens": 0,
    "cache_read_tokens": 0,
    "cache_write_tokens": 0,
}


@dataclass
class SessionSpec:
    sid: str
    created_ns: int
    updated_ns: int  # target for small sessions; the result for the big one
    vendor: str
    endpoint: str
    model: str
    workspace: str
    permission_mode: str | None
    meta_first: bool


@dataclass
class SessionResult:
    sid: str
    created_ns: int
    updated_ns: int
    title: str
    preview: str
    msg_count: int
    records: int
    checkpoints: int
    nbytes: int
    workspace: str
    vendor: str
    endpoint: str
    model: str
    # (msg_count, updated_ns, preview) when the previous turn ended: a stale entry
    previous: tuple[int, int, str] | None = None


# An event is a message or a marker; timestamps are given at serialisation so
# that a small session can be spread exactly between its created and updated
# times, and the big one can be streamed.
Event = tuple[str, Any]


@dataclass
class Builder:
    """Makes a session's turns: prompt, tool rounds, answer, meta, some usage."""

    rng: random.Random
    pools: Pools
    spec: SessionSpec
    turn_index: int = 0
    msg_count: int = 0
    last_msg_id: str = ""
    tokens: dict[str, int] = field(default_factory=lambda: dict(ZERO_USAGE))
    tool_seq: int = 0

    def message(self, role: str, content: list[dict[str, Any]], prompt: str = "") -> Event:
        mid = "msg_" + uuid4(self.rng)
        self.last_msg_id = mid
        self.msg_count += 1
        return ("m", ({"id": mid, "role": role, "content": content}, prompt))

    def prompt_text(self) -> str:
        rng, pools = self.rng, self.pools
        r = rng.random()
        if self.turn_index == 0:
            base = pools.fill(rng.choice(INTL_PROMPTS if r < 0.05 else PROMPT_STARTS), rng)
        else:
            base = pools.fill(rng.choice(FOLLOW_UPS), rng)
        if r < 0.35:
            base += ". " + " ".join(rng.choices(pools.sentences, k=rng.randint(1, 4)))
        if r > 0.93:  # a pasted snippet
            lang, lines = rng.choice(pools.code_files)
            a = rng.randrange(len(lines))
            base += f"\n\n```{lang}\n" + "\n".join(lines[a : a + rng.randint(3, 25)]) + "\n```"
        return base

    def tool_call(self) -> tuple[dict[str, Any], dict[str, Any]]:
        rng, pools = self.rng, self.pools
        name = rng.choices(TOOLS, TOOL_WEIGHTS)[0]
        self.tool_seq += 1
        if self.spec.vendor == "anthropic":
            tool_id = f"toolu_01{rng.getrandbits(96):024x}"
        else:
            tool_id = f"call_{rng.getrandbits(96):024x}"
        is_error = False
        # Output sizes are log-normal: mostly short, now and then a whole file.
        n = max(1, min(400, int(rng.lognormvariate(0.45, 1.0))))
        if name == "read_file":
            if rng.random() < 0.14:
                path = rng.choice(pools.md_paths)
                lines = rng.choice(pools.md_docs)
            else:
                path = rng.choice(pools.paths)
                lines = rng.choice(pools.code_files)[1]
            a = rng.randrange(max(1, len(lines) - n))
            inp: dict[str, Any] = {"path": path}
            if rng.random() < 0.4:
                inp["range"] = {"start": a + 1, "end": a + n}
            output = "\n".join(lines[a : a + n])
        elif name == "run_command":
            cmd = rng.choice(pools.commands)
            inp = {"cmd": cmd}
            if rng.random() < 0.3:
                inp["timeout_s"] = rng.choice((60, 120, 600))
            if cmd == "cat README.md":
                lines = rng.choice(pools.md_docs)
            else:
                lines = rng.choice(pools.outputs)
            output = "\n".join(lines[:n])
            if rng.random() < 0.08:
                is_error = True
                output += f"\nexit status {rng.choice((1, 2, 124))}"
        elif name == "search":
            inp = {"pattern": rng.choice(IDENTS), "path": rng.choice(DIRS)}
            lines = rng.choice(pools.outputs)
            output = "\n".join(lines[: max(1, n // 2)])
        elif name == "edit_file":
            _lang, lines = rng.choice(pools.code_files)
            a = rng.randrange(len(lines))
            old = "\n".join(lines[a : a + rng.randint(1, 2)])
            new = "\n".join([*lines[a : a + rng.randint(1, 2)], rng.choice(lines)])
            inp = {"path": rng.choice(pools.paths), "old_string": old, "new_string": new}
            output = f"Applied 1 edit to {inp['path']} ({new.count(chr(10)) + 1} lines)"
            if rng.random() < 0.05:
                is_error = True
                output = f"old_string not found in {inp['path']}"
        elif name == "list_dir":
            inp = {"path": rng.choice(DIRS)}
            output = "\n".join(rng.choice(pools.outputs)[:n])
        else:  # write_file
            _lang, lines = rng.choice(pools.code_files)
            a = rng.randrange(len(lines))
            inp = {
                "path": rng.choice(pools.paths),
                "content": "\n".join(lines[a : a + max(1, n // 3)]),
            }
            output = f"Wrote {len(inp['content'])} bytes"
        use = {"type": "tool_use", "tool_name": name, "tool_id": tool_id, "input": inp}
        result: dict[str, Any] = {
            "type": "tool_result",
            "tool_name": name,
            "tool_id": tool_id,
            "output": output,
        }
        if is_error:
            result["is_error"] = True
        return use, result

    def answer_text(self) -> str:
        rng, pools = self.rng, self.pools
        parts = [" ".join(rng.choices(pools.sentences, k=rng.randint(1, 3)))]
        if rng.random() < 0.15:
            parts.append(
                "\n".join(f"- {s}" for s in rng.choices(pools.sentences, k=rng.randint(2, 4)))
            )
        if rng.random() < 0.1:
            lang, lines = rng.choice(pools.code_files)
            a = rng.randrange(len(lines))
            parts.append(f"```{lang}\n" + "\n".join(lines[a : a + rng.randint(2, 14)]) + "\n```")
        return "\n\n".join(parts)

    def turn(self) -> list[Event]:
        rng, pools, spec = self.rng, self.pools, self.spec
        events: list[Event] = []
        prompt = self.prompt_text()
        events.append(self.message("user", [{"type": "text", "text": prompt}], prompt))
        rounds = rng.choices((0, 1, 2, 3, 4, 5, 6), (8, 14, 18, 18, 16, 14, 12))[0]
        for _ in range(rounds):
            content: list[dict[str, Any]] = []
            if rng.random() < 0.15:
                if spec.vendor == "deepseek":
                    content.append(
                        {
                            "type": "text",
                            "text": "",
                            "reasoning_content": rng.choice(pools.thinking),
                        }
                    )
                else:
                    content.append(
                        {
                            "type": "thinking",
                            "reasoning_content": rng.choice(pools.thinking),
                            "thinking_signature": f"Eq{rng.getrandbits(120):030x}",
                        }
                    )
            if rng.random() < 0.55:
                content.append(
                    {"type": "text", "text": pools.fill(rng.choice(ASSISTANT_OPENERS), rng)}
                )
            calls = [self.tool_call() for _ in range(1 if rng.random() < 0.85 else 2)]
            content.extend(use for use, _ in calls)
            events.append(self.message("assistant", content))
            events.append(self.message("user", [res for _, res in calls]))
        events.append(self.message("assistant", [{"type": "text", "text": self.answer_text()}]))
        self.turn_index += 1
        inp = rng.randint(2_000, 60_000)
        out = rng.randint(50, 4_000)
        usage = {
            "input_tokens": inp,
            "output_tokens": out,
            "cache_read_tokens": inp // 2,
            "cache_write_tokens": inp // 10,
            "prompt_tokens_total": inp + inp // 2,
        }
        for k in ZERO_USAGE:
            self.tokens[k] += usage[k]
        self.tokens["prompt_tokens_total"] = (
            self.tokens.get("prompt_tokens_total", 0) + usage["prompt_tokens_total"]
        )
        events.append(("meta", dict(self.tokens)))
        if rng.random() < 0.3:
            events.append(("usage", usage))
            events.append(("metric", usage))
        return events

    def checkpoint(self) -> list[Event]:
        """A v1.3.216 checkpoint: a system summary message, then the record."""
        last = self.last_msg_id
        summary = "[Previous conversation summary]\n" + " ".join(
            self.rng.choices(self.pools.sentences, k=self.rng.randint(4, 12))
        )
        ev = self.message("system", [{"type": "text", "text": summary}])
        return [ev, ("ckpt", (ev[1][0]["id"], last, self.rng.randint(2_000, 80_000)))]


class Serializer:
    """Turns events into v1.3.216 lines, keeping what the index entry needs."""

    def __init__(self, spec: SessionSpec) -> None:
        self.spec = spec
        sid = spec.sid
        self.zero_env = (
            f'"session_id":"{sid}","token_usage":{{"input_tokens":0,"output_tokens":0,'
            f'"cache_read_tokens":0,"cache_write_tokens":0}},"created_at":"{ZERO_TIME}",'
            f'"updated_at":"{ZERO_TIME}"'
        ).encode()
        self.msg_prefix = b'{"type":"message",' + self.zero_env + b',"message":'
        self.created = format_ns(spec.created_ns)
        self.title = ""
        self.preview = ""
        self.msg_count = 0
        self.records = 0
        self.checkpoints = 0
        self.last_ts = spec.created_ns
        self.prompt_ts = spec.created_ns
        self.turn = 0
        self.metas: list[tuple[int, int, str]] = []

    def meta_line(self, tokens: dict[str, int] | None, updated_ns: int) -> bytes:
        s = self.spec
        rec: dict[str, Any] = {"type": "meta", "session_id": s.sid, "title": self.title}
        if self.preview:
            rec["preview"] = self.preview
        rec.update(
            workspace=s.workspace,
            vendor=s.vendor,
            endpoint=s.endpoint,
            model=s.model,
            token_usage=tokens or ZERO_USAGE,
            created_at=self.created,
            updated_at=format_ns(updated_ns),
            timestamp=ZERO_TIME,
        )
        if s.permission_mode:
            rec["permission_mode"] = s.permission_mode
        return orjson.dumps(rec) + b"\n"

    def lines(self, events: list[Event], next_ts: Callable[[], int]) -> list[bytes]:
        out: list[bytes] = []
        s = self.spec
        for kind, payload in events:
            self.records += 1
            if kind == "m":
                msg, prompt = payload
                ts = next_ts()
                self.last_ts = ts
                self.msg_count += 1
                if prompt:
                    self.prompt_ts = ts
                    self.preview = truncate_title(prompt)
                    if not self.title:
                        self.title = self.preview
                out.append(
                    self.msg_prefix
                    + orjson.dumps(msg)
                    + b',"timestamp":"'
                    + format_ns(ts).encode()
                    + b'"}\n'
                )
            elif kind == "meta":
                # v1.3.216 stamps the meta with the time of the turn's prompt.
                out.append(self.meta_line(payload, max(s.created_ns, self.prompt_ts - 2_000)))
                self.turn += 1
                self.metas.append((self.msg_count, self.last_ts, self.preview))
            elif kind == "usage":
                entry = {
                    "timestamp": format_ns(self.last_ts + 31_000),
                    "turn_index": self.turn,
                    "model": s.model,
                    "vendor": s.vendor,
                    "endpoint": s.endpoint,
                    "source": "agent",
                    "usage": payload,
                }
                out.append(
                    b'{"type":"usage",'
                    + self.zero_env
                    + b',"timestamp":"'
                    + ZERO_TIME.encode()
                    + b'","usage_entry":'
                    + orjson.dumps(entry)
                    + b"}\n"
                )
            elif kind == "metric":
                u = payload
                ev = {
                    "timestamp": format_ns(self.last_ts + 463_000),
                    "turn_index": self.turn,
                    "type": "llm",
                    "ttft": 420_000_000 + u["output_tokens"] * 1000,
                    "duration": 1_000_000_000 + u["output_tokens"] * 9_000_000,
                    "input_tokens": u["input_tokens"],
                    "output_tokens": u["output_tokens"],
                    "cache_read_tokens": u["cache_read_tokens"],
                    "model": s.model,
                    "vendor": s.vendor,
                    "endpoint": s.endpoint,
                }
                out.append(
                    b'{"type":"metric",'
                    + self.zero_env
                    + b',"timestamp":"'
                    + ZERO_TIME.encode()
                    + b'","metric_event":'
                    + orjson.dumps(ev)
                    + b"}\n"
                )
            elif kind == "ckpt":
                summary_id, last_id, tokens = payload
                self.checkpoints += 1
                out.append(
                    b'{"type":"checkpoint",'
                    + self.zero_env
                    + b',"timestamp":"'
                    + ZERO_TIME.encode()
                    + b'",'
                    + orjson.dumps(
                        {
                            "checkpoint_summary_msg_id": summary_id,
                            "checkpoint_last_msg_id": last_id,
                            "checkpoint_tokens": tokens,
                        }
                    )[1:]
                    + b"\n"
                )
            else:
                raise AssertionError(kind)
        return out

    def result(self, nbytes: int) -> SessionResult:
        s = self.spec
        return SessionResult(
            sid=s.sid,
            created_ns=s.created_ns,
            updated_ns=self.last_ts,
            title=self.title,
            preview=self.preview,
            msg_count=self.msg_count,
            records=self.records,
            checkpoints=self.checkpoints,
            nbytes=nbytes,
            workspace=s.workspace,
            vendor=s.vendor,
            endpoint=s.endpoint,
            model=s.model,
            previous=self.metas[-2] if len(self.metas) >= 2 else None,
        )


def spread_times(rng: random.Random, start: int, end: int, count: int) -> list[int]:
    """``count`` increasing times after ``start``, the last exactly ``end``."""
    step = max(1, (end - start) // (count + 1))
    times = [start + (i + 1) * step + rng.randrange(max(1, step // 3)) for i in range(count)]
    if times:
        times[-1] = end
    return times


def write_small_session(
    out: Path, spec: SessionSpec, seed: int, pools: Pools, target_msgs: int, ckpt: bool
) -> SessionResult:
    rng = random.Random(seed)
    b = Builder(rng, pools, spec)
    events: list[Event] = []
    ckpt_at = target_msgs // 2 if ckpt else -1
    while b.msg_count < target_msgs:
        events.extend(b.turn())
        if ckpt_at >= 0 and b.msg_count >= ckpt_at and b.msg_count < target_msgs:
            events.extend(b.checkpoint())
            ckpt_at = -1
    ser = Serializer(spec)
    head: list[bytes] = []
    if spec.meta_first:  # as EnsureMeta writes it, before the first prompt
        head.append(ser.meta_line(None, spec.created_ns))
        ser.records += 1
    times = iter(spread_times(rng, spec.created_ns, spec.updated_ns, b.msg_count))
    data = b"".join(head + ser.lines(events, times.__next__))
    path = out / f"{spec.sid}.jsonl"
    write_file(path, data, spec.updated_ns)
    return ser.result(len(data))


def write_big_session(
    out: Path, spec: SessionSpec, seed: int, pools: Pools, target_bytes: int, est_msg_bytes: float
) -> SessionResult:
    """The same turns as a small session, streamed until ``target_bytes``."""
    rng = random.Random(seed)
    b = Builder(rng, pools, spec)
    ser = Serializer(spec)
    est_msgs = max(1.0, target_bytes / est_msg_bytes)
    # Keep the last message before spec.updated_ns even if the estimate is low.
    step = max(1, int((spec.updated_ns - spec.created_ns) / est_msgs * 0.85))
    clock = [spec.created_ns]

    def next_ts() -> int:
        clock[0] += step + rng.randrange(max(1, step // 3))
        return clock[0]

    path = out / f"{spec.sid}.jsonl"
    written = 0
    chunk: list[bytes] = []
    chunk_bytes = 0
    next_ckpt = rng.randint(300, 600)
    with open(path, "wb", buffering=0) as f:
        os.chmod(path, 0o600)
        if spec.meta_first:
            chunk.append(ser.meta_line(None, spec.created_ns))
            chunk_bytes += len(chunk[-1])
            ser.records += 1
        while written + chunk_bytes < target_bytes:
            events = b.turn()
            if b.turn_index >= next_ckpt:
                events.extend(b.checkpoint())
                next_ckpt += rng.randint(300, 600)
            lines = ser.lines(events, next_ts)
            chunk.extend(lines)
            chunk_bytes += sum(map(len, lines))
            if chunk_bytes >= 8 * MB:
                f.write(b"".join(chunk))
                written += chunk_bytes
                chunk, chunk_bytes = [], 0
        f.write(b"".join(chunk))
        written += chunk_bytes
    os.utime(path, ns=(ser.last_ts, ser.last_ts))
    return ser.result(written)


# ---------------------------------------------------------------------------
# The store
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    out: Path
    sessions: int
    big_mb: float
    seed: int
    now_ns: int
    cleanup_fraction: float
    empty_fraction: float
    stale_fraction: float
    checkpoint_fraction: float
    flock_files: bool


def day_floor(ns: int) -> int:
    return ns - ns % DAY_NS


def choose_cutoff(updated: list[int], fraction: float) -> int:
    """A UTC midnight before which ``fraction`` of ``updated`` lies, as near as can be."""
    if not updated:
        return 0
    times = sorted(updated)
    want = fraction * len(times)
    k = min(len(times) - 1, max(0, round(want)))
    best = day_floor(times[k])
    for cand in (best - DAY_NS, best, best + DAY_NS):
        if abs(bisect.bisect_left(times, cand) - want) < abs(
            bisect.bisect_left(times, best) - want
        ):
            best = cand
    return best


def index_entry(r: SessionResult, stale: bool) -> dict[str, Any]:
    count, updated, preview = (
        r.previous if stale and r.previous else (r.msg_count, r.updated_ns, r.preview)
    )
    e: dict[str, Any] = {"id": r.sid, "title": r.title}
    if preview:
        e["preview"] = preview
    e["created_at"] = format_ns(r.created_ns)
    e["updated_at"] = format_ns(updated)
    e["msg_count"] = count
    for key in ("workspace", "vendor", "endpoint", "model"):
        value = getattr(r, key)
        if value:
            e[key] = value
    return e


def generate(opts: Options, progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    t0 = time.perf_counter()
    out = opts.out
    out.mkdir(mode=0o700, parents=True, exist_ok=True)
    master = random.Random(opts.seed)
    pools = Pools(opts.seed)

    workspaces = [f"{master.choice(WORKSPACE_ROOTS)}/{p}" for p in PROJECTS]
    profile_weights = [w for *_, w in PROFILES]
    # Ages with a recency bias: people keep more recent sessions around.
    span = 180 * DAY_NS
    specs: list[tuple[SessionSpec, int, int, bool, bool]] = []
    seen: set[str] = set()
    for _ in range(opts.sessions):
        age = int(span * master.random() ** 1.25)
        updated = opts.now_ns - age - master.randrange(NS)
        duration = int(min(8 * 3600, master.lognormvariate(7.3, 1.0)) * NS)
        created = max(opts.now_ns - span - DAY_NS, updated - duration)
        sid = session_id(created, master)
        while sid in seen:
            sid = session_id(created, master)
        seen.add(sid)
        vendor, endpoint, model, _w = master.choices(PROFILES, profile_weights)[0]
        spec = SessionSpec(
            sid=sid,
            created_ns=created,
            updated_ns=updated,
            vendor=vendor,
            endpoint=endpoint,
            model=model,
            workspace=master.choice(workspaces),
            permission_mode=master.choice((None, None, "auto", "bypass", "ask")),
            meta_first=master.random() < 0.3,
        )
        target = max(6, min(110, int(master.gauss(36, 13))))
        empty = master.random() < opts.empty_fraction
        ckpt = master.random() < opts.checkpoint_fraction
        specs.append((spec, master.getrandbits(63), target if not empty else 0, ckpt, empty))
    cutoff = choose_cutoff([s.updated_ns for s, *_ in specs], opts.cleanup_fraction)

    results: list[SessionResult] = []
    empty_count = 0
    for i, (spec, seed, target, ckpt, empty) in enumerate(specs):
        if empty:  # v1.3.2xx's Save leaves a 0-byte file before the first prompt
            path = out / f"{spec.sid}.jsonl"
            write_file(path, b"", spec.updated_ns)
            empty_count += 1
        else:
            results.append(write_small_session(out, spec, seed, pools, target, ckpt))
        if opts.flock_files:
            write_file(out / f"{spec.sid}.jsonl.flock", b"", spec.created_ns)
        if progress and (i + 1) % 1000 == 0:
            progress(f"  {i + 1:,}/{opts.sessions:,} sessions")
    small_bytes = sum(r.nbytes for r in results)
    small_msgs = sum(r.msg_count for r in results)

    big: SessionResult | None = None
    if opts.big_mb > 0:
        created = opts.now_ns - 45 * DAY_NS + master.randrange(DAY_NS)
        vendor, endpoint, model, _w = PROFILES[0]
        spec = SessionSpec(
            sid=session_id(created, master),
            created_ns=created,
            updated_ns=opts.now_ns - 3600 * NS,
            vendor=vendor,
            endpoint=endpoint,
            model=model,
            workspace=workspaces[0],
            permission_mode="auto",
            meta_first=True,
        )
        est = small_bytes / small_msgs if small_msgs else 700.0
        if progress:
            progress(f"  big session {spec.sid} ({opts.big_mb:g} MB)")
        big = write_big_session(
            out, spec, master.getrandbits(63), pools, int(opts.big_mb * MB), est
        )
        if opts.flock_files:
            write_file(out / f"{big.sid}.jsonl.flock", b"", big.created_ns)

    # index.json: v1.3.2xx rewrites it at most every 5 s per session, so some
    # entries lag their files by a turn.
    everything = results + ([big] if big else [])
    everything.sort(key=lambda r: (r.created_ns, r.sid))
    stale = 0
    entries = []
    for r in everything:
        is_stale = (
            r is not big and r.previous is not None and (master.random() < opts.stale_fraction)
        )
        stale += is_stale
        entries.append(index_entry(r, is_stale))
    index_bytes = go_html_escape(orjson.dumps(entries, option=orjson.OPT_INDENT_2))
    # Fixed mtimes everywhere, so the same seed gives the same tree.
    newest = max((r.updated_ns for r in everything), default=opts.now_ns)
    write_file(out / "index.json", index_bytes, newest)
    if opts.flock_files:
        write_file(out / "index.json.flock", b"", newest)
    os.utime(out, ns=(newest, newest))

    all_updated = [s.updated_ns for s, *_ in specs] + ([big.updated_ns] if big else [])
    removes = sum(1 for u in all_updated if u < cutoff)
    total_files = opts.sessions + (1 if big else 0)
    elapsed = time.perf_counter() - t0
    return {
        "out": str(out),
        "seed": opts.seed,
        "now": format_ns(opts.now_ns),
        "sessions": opts.sessions,
        "session_files": total_files,
        "empty_sessions": empty_count,
        "visible_sessions": len(everything),
        "index_entries": len(entries),
        "stale_index_entries": stale,
        "index_bytes": len(index_bytes),
        "session_bytes": small_bytes,
        "avg_session_bytes": round(small_bytes / len(results)) if results else 0,
        "messages": small_msgs,
        "checkpoints": sum(r.checkpoints for r in results),
        "big_id": big.sid if big else None,
        "big_bytes": big.nbytes if big else 0,
        "big_messages": big.msg_count if big else 0,
        "big_updated_at": format_ns(big.updated_ns) if big else None,
        "total_bytes": small_bytes + (big.nbytes if big else 0) + len(index_bytes),
        "cutoff": format_ns(cutoff) if cutoff else None,
        "cutoff_removes": removes,
        "cutoff_fraction": round(removes / total_files, 4) if total_files else 0.0,
        "elapsed_s": round(elapsed, 3),
    }


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------


def default_out(sessions: int, big_mb: float, seed: int) -> Path:
    return (
        Path(tempfile.gettempdir())
        / "sessionctl-bench"
        / f"store-n{sessions}-big{big_mb:g}-seed{seed}"
    )


STORE_PATTERNS = ("*.jsonl", "*.jsonl.flock", "*.lock", "*.tmp", "index.json", "index.json.flock")


def clear_store(out: Path) -> None:
    for pattern in STORE_PATTERNS:
        for p in out.glob(pattern):
            p.unlink()


def is_inside(child: Path, parent: Path) -> bool:
    try:
        child.resolve().relative_to(parent.resolve())
    except ValueError:
        return False
    return True


def human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1000
    raise AssertionError


def print_summary(s: dict[str, Any]) -> None:
    print(f"wrote {s['out']} in {s['elapsed_s']:.1f} s (seed {s['seed']}, now {s['now']})")
    print(
        f"  sessions:    {s['sessions']:,} files ({s['empty_sessions']:,} empty), "
        f"{s['messages']:,} messages, {s['checkpoints']:,} checkpoints, "
        f"{human_bytes(s['session_bytes'])} (avg {human_bytes(s['avg_session_bytes'])})"
    )
    if s["big_id"]:
        print(
            f"  big session: {s['big_id']}  {human_bytes(s['big_bytes'])}, "
            f"{s['big_messages']:,} messages"
        )
    print(
        f"  index.json:  {s['index_entries']:,} entries ({s['stale_index_entries']} stale), "
        f"{human_bytes(s['index_bytes'])}"
    )
    print(f"  total:       {human_bytes(s['total_bytes'])}")
    if s["cutoff"]:
        print(
            f"  cleanup:     --before {s['cutoff']} removes {s['cutoff_removes']:,} of "
            f"{s['session_files']:,} ({s['cutoff_fraction']:.1%})"
        )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="Write a reproducible ggcode v1.3.216-format session store for benchmarks.",
        epilog="example: python benchmarks/generate.py --sessions 1000 --big-mb 10 "
        "--out /tmp/sessionctl-bench/small",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        help="store directory (default: <tmp>/sessionctl-bench/store-n<N>-big<MB>-"
        "seed<S>, replaced if present); never inside the repository",
    )
    p.add_argument("--sessions", type=int, default=10_000, help="sessions (default 10000)")
    p.add_argument(
        "--big-mb",
        type=float,
        default=95.0,
        help="size of the big session in MB (10^6 bytes); 0 to skip (default 95)",
    )
    p.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    p.add_argument(
        "--now",
        default=None,
        help="reference time, ISO 8601, UTC if no zone (default: today 00:00 UTC)",
    )
    p.add_argument(
        "--cleanup-fraction",
        type=float,
        default=0.43,
        help="share of sessions the printed cutoff removes (default 0.43)",
    )
    p.add_argument(
        "--empty-fraction",
        type=float,
        default=0.005,
        help="share of 0-byte session files (default 0.005)",
    )
    p.add_argument(
        "--stale-fraction",
        type=float,
        default=0.02,
        help="share of index entries one turn behind their file (default 0.02)",
    )
    p.add_argument(
        "--checkpoint-fraction",
        type=float,
        default=0.15,
        help="share of sessions with a checkpoint (default 0.15)",
    )
    p.add_argument(
        "--no-flock-files",
        action="store_true",
        help="do not write the agent's empty .jsonl.flock side files",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="replace the store files in an existing non-empty --out",
    )
    p.add_argument("--json", action="store_true", help="print the summary as JSON only")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    a = parse_args(argv)
    if a.sessions < 0 or a.big_mb < 0:
        print("generate.py: --sessions and --big-mb must not be negative", file=sys.stderr)
        return 2
    try:
        now_ns = parse_now(a.now)
    except ValueError:
        print(f"generate.py: invalid --now {a.now!r}", file=sys.stderr)
        return 2
    out: Path = a.out if a.out is not None else default_out(a.sessions, a.big_mb, a.seed)
    if is_inside(out, REPO_ROOT):
        print(f"generate.py: refusing to write inside the repository: {out}", file=sys.stderr)
        return 2
    if out.exists():
        if not out.is_dir():
            print(f"generate.py: not a directory: {out}", file=sys.stderr)
            return 2
        if any(out.iterdir()):
            if a.out is not None and not a.force:
                print(
                    f"generate.py: {out} is not empty (use --force to replace its store files)",
                    file=sys.stderr,
                )
                return 2
            clear_store(out)
    opts = Options(
        out=out,
        sessions=a.sessions,
        big_mb=a.big_mb,
        seed=a.seed,
        now_ns=now_ns,
        cleanup_fraction=a.cleanup_fraction,
        empty_fraction=a.empty_fraction,
        stale_fraction=a.stale_fraction,
        checkpoint_fraction=a.checkpoint_fraction,
        flock_files=not a.no_flock_files,
    )

    def progress(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    summary = generate(opts, None if a.quiet or a.json else progress)
    if a.json:
        sys.stdout.write(orjson.dumps(summary, option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        print_summary(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
