"""Shell completion scripts in completions/: in step with the CLI, and
completing real session ids through each shell's own mechanism.

The scripts are static: commands and options are listed in them, session
ids come from ``sessionctl [--dir D] list --ids --all`` at completion time.

* Drift: each script's command/option tables (read from the script text,
  no shell needed) must equal what the click tree of ``sessionctl.cli.app``
  has: commands, options per command, which options take a value, which
  commands take session ids (and how many).
* Behaviour: bash (always present) is driven through ``complete -p
  sessionctl`` with COMP_WORDS/COMP_CWORD set; fish with ``complete -C``;
  zsh through a pseudo-terminal (real ZLE completion, ``compadd`` wrapped to
  report matches). zsh and fish tests skip when the shell is missing.
* Without any shell: the command the scripts run for ids, and click's own
  completion protocol (the CLI's ``autocompletion=`` hook).
"""

from __future__ import annotations

import os
import pty
import re
import select
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import typer

from sessionctl import JSONLStore, Message, new_session
from sessionctl.cli.app import app
from sessionctl.core.ids import hex_part

ROOT = Path(__file__).resolve().parents[1]
COMPLETIONS = ROOT / "completions"
BASH = COMPLETIONS / "sessionctl.bash"
ZSH = COMPLETIONS / "_sessionctl"
FISH = COMPLETIONS / "sessionctl.fish"
SEP = "__SEP__"

# -- what the CLI has -------------------------------------------------------------


@dataclass
class Cmd:
    options: set[str] = field(default_factory=set)  # every option name, short and long
    value_options: set[str] = field(default_factory=set)  # the ones that take a value
    ids: str | None = None  # "1", "many" or None: session-id arguments
    help_options: set[str] = field(default_factory=set)


def _cli_model() -> tuple[Cmd, dict[str, Cmd]]:
    """The root's options and each command's, from the click tree."""
    group = typer.main.get_command(app)

    def describe(cmd: typer.core.TyperCommand | typer.core.TyperGroup, ctx: typer.Context) -> Cmd:
        out = Cmd()
        for p in cmd.get_params(ctx):
            names = [*p.opts, *p.secondary_opts]
            if p.param_type_name == "option":
                out.options.update(names)
                if not (getattr(p, "is_flag", False) or getattr(p, "count", False)):
                    out.value_options.update(names)
                if p.name == "help":
                    out.help_options.update(names)
            elif p.param_type_name == "argument" and p._custom_shell_complete is not None:
                out.ids = "many" if p.nargs == -1 else str(p.nargs)
        return out

    with group.make_context("sessionctl", [], resilient_parsing=True) as ctx:
        root = describe(group, ctx)
        commands = {}
        for name, cmd in group.commands.items():  # type: ignore[attr-defined]
            with cmd.make_context(name, [], parent=ctx, resilient_parsing=True) as sub:
                commands[name] = describe(cmd, sub)
    return root, commands


ROOT_CMD, COMMANDS = _cli_model()
ID_COMMANDS = sorted(n for n, c in COMMANDS.items() if c.ids)


def test_model_sanity() -> None:
    """The introspection sees what the SPEC promises (guards the drift tests
    against passing vacuously)."""
    assert {"list", "show", "export-md", "delete", "cleanup", "resume"} <= set(COMMANDS)
    assert {"--dir", "--version", "--help", "-h"} <= ROOT_CMD.options
    assert "--dir" in ROOT_CMD.value_options
    assert COMMANDS["show"].ids == "1" and COMMANDS["delete"].ids == "many"
    assert {"-o", "--output"} <= COMMANDS["export-md"].value_options


# -- drift: the scripts' tables equal the CLI (no shell needed) -------------------


def _words(text: str) -> set[str]:
    return set(text.split())


def _bash_case(text: str, function: str) -> dict[str, str]:
    """``case`` arms of a bash function: {pattern: body}."""
    m = re.search(rf"^{function}\(\) \{{\n(.*?)^\}}", text, re.S | re.M)
    assert m, f"{function} not found in {BASH.name}"
    arms: dict[str, str] = {}
    for pats, body in re.findall(r"^\s+([^\n()]+)\)\s*(.*?);;", m.group(1), re.S | re.M):
        for pat in pats.split("|"):
            arms[pat.strip().strip("'")] = body
    return arms


def _bash_tables() -> tuple[Cmd, dict[str, Cmd], set[str]]:
    text = BASH.read_text()
    commands = _words(re.search(r"^_sessionctl_commands='([^']*)'", text, re.M).group(1))
    root = Cmd(options=_words(re.search(r"^_sessionctl_global_opts='([^']*)'", text, re.M)[1]))
    opts = _bash_case(text, "_sessionctl_opts")
    values = _bash_case(text, "_sessionctl_value_opts")
    ids = _bash_case(text, "_sessionctl_id_args")
    root.value_options = _words(values.get("", "").replace("echo", "").replace("'", ""))
    out = {}
    for name in commands:
        out[name] = Cmd(
            options=_words(opts.get(name, "").replace("echo", "").replace("'", "")),
            value_options=_words(values.get(name, "").replace("echo", "").replace("'", "")),
            ids=ids[name].replace("echo", "").strip() if name in ids else None,
        )
    return root, out, commands


def _zsh_specs(block: str, arrays: dict[str, str]) -> Cmd:
    """Options of one ``_arguments`` call: ``--x[...]`` is a flag, ``--x=[``
    or ``-x+`` takes a value; ``{-a,--all}`` brace pairs; ``$name`` arrays."""
    for name, body in arrays.items():
        block = block.replace(f"${name}", body)
    block = re.sub(r"'\([^)]*\)", "'", block)  # exclusion lists: not declarations
    out = Cmd()
    for name, value in re.findall(r"(?<=[{,'])(--?[A-Za-z][\w-]*)([=+]?)(?=[\[,}])", block):
        out.options.add(name)
        if value:
            out.value_options.add(name)
    if re.search(r"'1:[^']*:_sessionctl_ids'", block):
        out.ids = "1"
    elif re.search(r"'\*:[^']*:_sessionctl_ids'", block):
        out.ids = "many"
    return out


def _zsh_tables() -> tuple[Cmd, dict[str, Cmd], set[str]]:
    text = ZSH.read_text()
    arrays = dict(re.findall(r"local -a (\w+)=\((.*?)\)$", text, re.M))
    top = text[text.index("_arguments -C"):text.index("case $state in")]
    root = _zsh_specs(top, arrays)
    cmd_list = re.search(r"local -a commands=\((.*?)\)", text, re.S).group(1)
    commands = set(re.findall(r"'([\w-]+):", cmd_list))
    sub = text[text.index("case $words[1] in"):]
    out = {}
    for name, block in re.findall(r"^ {8}([\w-]+)\)\n(.*?)^ {10};;", sub, re.S | re.M):
        out[name] = _zsh_specs(block, arrays)
    return root, out, commands


def _fish_tables() -> tuple[Cmd, dict[str, Cmd], set[str]]:
    text = FISH.read_text()
    root, out, commands = Cmd(), {}, set()
    everywhere = Cmd()
    for line in text.splitlines():
        if not line.startswith("complete -c sessionctl -") or line.endswith(" -e"):
            continue
        words = shlex.split(line)
        cond = words[words.index("-n") + 1] if "-n" in words else None
        names = [f"--{words[i + 1]}" for i, w in enumerate(words) if w == "-l"]
        names += [f"-{words[i + 1]}" for i, w in enumerate(words) if w == "-s"]
        takes_value = "-x" in words or "-r" in words
        if cond is None:
            targets = [everywhere]
        elif cond == "__sessionctl_needs_command":
            if not names and "-a" in words:
                commands.add(words[words.index("-a") + 1])
            targets = [root]
        elif cond.startswith("__sessionctl_using "):
            targets = [out.setdefault(c, Cmd()) for c in cond.split()[1:]]
        else:
            continue
        for t in targets:
            t.options.update(names)
            if takes_value:
                t.value_options.update(names)
    for c in [root, *out.values()]:
        c.options |= everywhere.options
        c.value_options |= everywhere.value_options
    # which commands take ids: the switch in __sessionctl_wants_id
    fn = re.search(r"^function __sessionctl_wants_id\n(.*?)^end", text, re.S | re.M).group(1)
    for pats, body in re.findall(r"case ([\w -]+)\n(.*?)(?=\n\s+case |\n\s+end)", fn, re.S):
        kind = "many" if body.strip().startswith("return 0") else "1"
        for name in pats.split():
            out.setdefault(name, Cmd()).ids = kind
    # the value-option table the parser uses must agree with the declarations
    vfn = re.search(r"^function __sessionctl_value_opts\n(.*?)^end", text, re.S | re.M).group(1)
    table = dict(re.findall(r"case (\S+)\n\s+echo ([^\n]*)", vfn))
    assert _words(table.pop("''")) == root.value_options, "__sessionctl_value_opts ''"
    for name, c in out.items():
        assert _words(table.get(name, "")) == c.value_options, f"__sessionctl_value_opts {name}"
    return root, out, commands


TABLES = {"bash": _bash_tables, "zsh": _zsh_tables, "fish": _fish_tables}


@pytest.mark.parametrize("shell", sorted(TABLES))
def test_script_tables_match_cli(shell: str) -> None:
    root, commands, names = TABLES[shell]()
    assert names == set(COMMANDS), "commands"
    assert set(commands) == set(COMMANDS), "commands with a section"
    assert root.options == ROOT_CMD.options, "global options"
    assert root.value_options == ROOT_CMD.value_options, "global options taking a value"
    for name, cli in COMMANDS.items():
        got = commands[name]
        assert got.options == cli.options, f"options of {name}"
        assert got.value_options == cli.value_options, f"options of {name} taking a value"
        assert got.ids == cli.ids, f"session-id arguments of {name}"


def test_scripts_are_committed_files() -> None:
    for path in (BASH, ZSH, FISH, COMPLETIONS / "README.md"):
        assert path.is_file(), path
    assert ZSH.read_text().startswith("#compdef sessionctl\n")


# -- stores and an environment for the shells --------------------------------------


@dataclass
class World:
    env: dict[str, str]  # SESSIONCTL_DIR unset: the default store is home_store
    home_store: Path  # $HOME/.ggcode/sessions
    home_ids: list[str]
    other: Path
    other_ids: list[str]
    cwd: Path  # empty: file/directory completion finds nothing here


def _make_store(path: Path, n: int) -> list[str]:
    store = JSONLStore(path)
    ids = []
    for i in range(n):
        s = new_session("vendor", "/work/ws", "model")
        store.append_message(s, Message.text_message("user", f"hello {i}"))
        ids.append(s.id)
    return sorted(ids)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    base = tmp_path_factory.mktemp("completion")
    home = base / "home"
    home_store = home / ".ggcode" / "sessions"
    other = base / "other store"  # a space, to check quoting
    with pytest.MonkeyPatch.context() as mp:  # never the user's cache or home
        mp.setenv("SESSIONCTL_CACHE_DIR", str(base / "cache"))
        mp.setenv("HOME", str(home))
        home_ids = _make_store(home_store, 3)
        other_ids = _make_store(other, 2)
    bindir = base / "bin"
    bindir.mkdir()
    wrapper = bindir / "sessionctl"
    wrapper.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m sessionctl "$@"\n')
    wrapper.chmod(0o755)
    cwd = base / "cwd"
    cwd.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SESSIONCTL", "_SESSIONCTL"))}
    env.update(
        PATH=f"{bindir}{os.pathsep}{env.get('PATH', os.defpath)}",
        HOME=str(home),
        SESSIONCTL_CACHE_DIR=str(base / "cache"),
        XDG_CONFIG_HOME=str(base / "config"),
        XDG_DATA_HOME=str(base / "data"),
        TERM="xterm",
    )
    yield World(env, home_store, home_ids, other, other_ids, cwd)


def expected(ids: list[str], prefix: str) -> set[str]:
    """What the CLI's id completion offers: ids with the prefix, and for a
    non-empty prefix the hex parts with it."""
    out = {s for s in ids if s.startswith(prefix)}
    if prefix:
        out |= {h for s in ids if (h := hex_part(s)) and h.startswith(prefix)}
    return out


def _hex_prefix(ids: list[str]) -> str:
    """A hex prefix that picks out exactly one of ``ids``."""
    first = hex_part(ids[0])
    assert first
    for n in range(1, len(first) + 1):
        p = first[:n]
        if len(expected(ids, p)) == 1:
            return p
    raise AssertionError(ids)


# -- the cases every shell runs ------------------------------------------------------


@dataclass
class Case:
    line: str  # what is typed; the last word (maybe empty) is being completed
    want: set[str] | None = None  # exactly these candidates
    has: set[str] = field(default_factory=set)  # at least these
    lacks: set[str] = field(default_factory=set)  # none of these
    env: str = "default"  # "default" or "other": what SESSIONCTL_DIR is


def _q(path: Path) -> str:
    return shlex.quote(str(path))


def id_cases(w: World) -> list[Case]:
    home, other, everything = w.home_ids, w.other_ids, {*w.home_ids, *w.other_ids}
    date = home[0][:8]
    hx = _hex_prefix(home)
    ohx = _hex_prefix(other)
    d = _q(w.other)
    cases = [
        # the default store, $SESSIONCTL_DIR, --dir (which beats the variable)
        Case(f"sessionctl show {date}", want=expected(home, date)),
        Case(f"sessionctl show {ohx}", want=expected(other, ohx), env="other"),
        Case(f"sessionctl --dir {d} show {date}", want=expected(other, date)),
        Case(f"sessionctl --dir={d} delete {date}", want=expected(other, date)),
        Case(f"sessionctl --dir {_q(w.home_store)} show {date}", want=expected(home, date),
             env="other"),
        Case(f"sessionctl --dir ~/.ggcode/sessions show {date}", want=expected(home, date),
             env="other"),
        # one id for show/resume, any number for export-md/delete
        Case(f"sessionctl show {home[0]} ", lacks=everything),
        Case(f"sessionctl resume {home[0]} ", lacks=everything),
        Case(f"sessionctl export-md {home[0]} {home[1]} ", has=set(home)),
        # after options, with and without values
        Case(f"sessionctl export-md -o out.md {date}", want=expected(home, date)),
        Case(f"sessionctl resume --command 'x {{id}}' {hx}", want=expected(home, hx)),
        Case(f"sessionctl show --json --full {date}", want=expected(home, date)),
        # nothing to complete: commands without ids, an unknown store
        Case(f"sessionctl list {date}", want=set()),
        Case(f"sessionctl cleanup {date}", want=set()),
        Case(f"sessionctl --dir {_q(w.cwd / 'nowhere')} show {date}", want=set()),
    ]
    for name, cmd in COMMANDS.items():  # which commands take ids, from the CLI
        if cmd.ids:
            cases.append(Case(f"sessionctl {name} {hx}", want=expected(home, hx)))
        else:
            cases.append(Case(f"sessionctl {name} ", lacks=everything))
    return cases


def table_cases(shell: str) -> list[Case]:
    """Commands and each command's options, from the CLI."""
    cases = [
        Case("sessionctl ", want=set(COMMANDS)),
        Case("sessionctl ex", want={"export-md"}),
        Case("sessionctl -", want=ROOT_CMD.options),
    ]
    for name, cmd in COMMANDS.items():
        cases.append(Case(f"sessionctl {name} -", want=cmd.options))
        cases.append(Case(f"sessionctl {name} --",
                          want={o for o in cmd.options if o.startswith("--")}))
    return cases


def value_cases(w: World, shell: str) -> list[Case]:
    """Which options take a value: after one, the next word is its value."""
    everything = {*w.home_ids, *w.other_ids}
    cases = [
        Case("sessionctl --dir ", want=set()),  # the cwd is empty: no directories
        Case(f"sessionctl --dir {_q(w.other)} ", want=set(COMMANDS)),
    ]
    for name, cmd in COMMANDS.items():
        flags = sorted(cmd.options - cmd.value_options - cmd.help_options)
        for opt in sorted(cmd.options - cmd.help_options):
            value = opt in cmd.value_options
            if shell != "fish":
                # the word after OPT is its value (nothing to offer), or options
                cases.append(Case(f"sessionctl {name} {opt} -", want=set())
                             if value else Case(f"sessionctl {name} {opt} -", has={"--help"}))
            elif cmd.ids and (value or opt == flags[0]):
                # fish offers options for "-" even after a value option: use ids
                cases.append(Case(f"sessionctl {name} {opt} ", lacks=everything)
                             if value else Case(f"sessionctl {name} {opt} ", has=set(w.home_ids)))
    return cases


def all_cases(w: World, shell: str) -> list[Case]:
    return [*id_cases(w), *table_cases(shell), *value_cases(w, shell)]


def check(shell: str, cases: list[Case], results: list[set[str]]) -> None:
    assert len(results) == len(cases)
    failures = []
    for case, got in zip(cases, results, strict=True):
        ok = (
            (case.want is None or got == case.want)
            and case.has <= got
            and not (case.lacks & got)
        )
        if not ok:
            failures.append(
                f"{case.line!r} ({case.env}): got {sorted(got)}, want {sorted(case.want or [])}"
                f" has {sorted(case.has)} lacks {sorted(case.lacks)}")
    assert not failures, f"{shell}:\n" + "\n".join(failures)


Completer = Callable[[list[str], dict[str, str], Path], list[set[str]]]


def run_cases(w: World, cases: list[Case], complete: Completer) -> list[set[str]]:
    """Run the cases grouped by environment, in one shell process per group."""
    results: dict[int, set[str]] = {}
    for env_name in ("default", "other"):
        idx = [i for i, c in enumerate(cases) if c.env == env_name]
        if not idx:
            continue
        env = dict(w.env)
        if env_name == "other":
            env["SESSIONCTL_DIR"] = str(w.other)
        got = complete([cases[i].line for i in idx], env, w.cwd)
        results.update(zip(idx, got, strict=True))
    return [results[i] for i in range(len(cases))]


@pytest.fixture(scope="module")
def cases(world: World) -> dict[str, list[Case]]:
    return {shell: all_cases(world, shell) for shell in ("bash", "zsh", "fish")}


# -- bash ---------------------------------------------------------------------------------


def bash_words(line: str) -> list[str]:
    """COMP_WORDS as bash makes them: split at blanks outside quotes, and at
    '=' (in COMP_WORDBREAKS) after an option name."""
    words: list[str] = []
    for m in re.finditer(r"(?:'[^']*'|[^ ])+|(?<= )$", line):
        w = m.group(0)
        om = re.fullmatch(r"(--[\w-]+)=(.*)", w)
        words += [om.group(1), "=", om.group(2)] if om else [w]
    return words


def bash_complete(lines: list[str], env: dict[str, str], cwd: Path) -> list[set[str]]:
    script = [
        f"source {shlex.quote(str(BASH))}",
        "spec=$(complete -p sessionctl) || exit 3",
        'fn=${spec##*-F }; fn=${fn%% *}',
        "__t() {",
        "  COMP_WORDS=(\"$@\"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1))",
        "  COMP_LINE=\"$*\"; COMP_POINT=${#COMP_LINE}; COMPREPLY=()",
        '  "$fn" sessionctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"',
        "  printf '%s\\n' \"${COMPREPLY[@]}\"; echo " + SEP,
        "}",
    ]
    script += ["__t " + " ".join(shlex.quote(w) for w in bash_words(line)) for line in lines]
    proc = subprocess.run(["bash", "--norc", "--noprofile", "-c", "\n".join(script)],
                          env=env, cwd=cwd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return _split(proc.stdout, len(lines))


def _split(out: str, n: int) -> list[set[str]]:
    chunks = out.split(SEP + "\n")
    assert len(chunks) == n + 1 and not chunks[-1].strip(), out
    return [{x.split("\t")[0] for x in chunk.splitlines() if x} for chunk in chunks[:-1]]


def test_bash_words() -> None:
    assert bash_words("sessionctl --dir='/a b' show ") == [
        "sessionctl", "--dir", "=", "'/a b'", "show", ""]


def test_bash(world: World, cases: dict[str, list[Case]]) -> None:
    got = run_cases(world, cases["bash"], bash_complete)
    check("bash", cases["bash"], got)


def test_bash_path_values(world: World, tmp_path: Path) -> None:
    """--dir, --workspace, --output-dir complete directories; -o files."""
    (tmp_path / "subdir").mkdir()
    (tmp_path / "file.md").write_text("")
    lines = ["sessionctl --dir s", "sessionctl --dir=s", "sessionctl list --workspace s",
             "sessionctl export-md --output-dir s", "sessionctl export-md -o f",
             "sessionctl export-md -o s", "sessionctl --dir f"]
    got = bash_complete(lines, world.env, tmp_path)
    assert got == [{"subdir"}, {"subdir"}, {"subdir"}, {"subdir"}, {"file.md"}, {"subdir"}, set()]


# -- fish ---------------------------------------------------------------------------------


def _fish_quote(s: str) -> str:
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"


def fish_complete(lines: list[str], env: dict[str, str], cwd: Path) -> list[set[str]]:
    # Loaded the way fish loads it once installed: from $fish_complete_path.
    script = [f"set -g fish_complete_path {_fish_quote(str(COMPLETIONS))} $fish_complete_path"]
    script += [f"complete -C {_fish_quote(line)}; echo {SEP}" for line in lines]
    proc = subprocess.run(["fish", "--no-config", "-c", "\n".join(script)],
                          env=env, cwd=cwd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return _split(proc.stdout, len(lines))


@pytest.mark.skipif(shutil.which("fish") is None,
                    reason="fish is not installed (apt-get install fish to run this test)")
def test_fish(world: World, cases: dict[str, list[Case]]) -> None:
    got = run_cases(world, cases["fish"], fish_complete)
    check("fish", cases["fish"], got)


# -- zsh ------------------------------------------------------------------------------------

# An interactive zsh without user files: compinit with completions/ on
# $fpath (so _sessionctl is autoloaded, as when installed), and compadd
# wrapped to print every match it adds as <<match>>.
ZSH_SETUP = r"""
PS1='@@> ' RPS1='' PS2=''
setopt no_prompt_sp no_prompt_cr no_beep
unset zle_bracketed_paste
fpath=(%(dir)s $fpath)
autoload -Uz compinit && compinit -u -D
zstyle ':completion:*' menu no
compadd() {
  if [[ " $* " == *\ -[OAD]\ * ]]; then builtin compadd "$@"; return; fi
  local -a __hits
  builtin compadd -O __hits "$@"
  local h; for h in $__hits; do print -r -- "<<$h>>"; done
  builtin compadd "$@"
}
print -r -- __RE''ADY__
"""


class _Pty:
    def __init__(self, argv: list[str], env: dict[str, str], cwd: Path) -> None:
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # pragma: no cover - the child
            try:
                os.chdir(cwd)
                os.execvpe(argv[0], argv, env)
            finally:
                os._exit(127)
        self.buf = b""

    def send(self, text: str) -> None:
        os.write(self.fd, text.encode())

    def expect(self, marker: bytes, timeout: float = 60) -> bytes:
        """Read until ``marker``; return what came before it."""
        end = time.monotonic() + timeout
        while marker not in self.buf:
            left = end - time.monotonic()
            if left <= 0:
                raise AssertionError(f"zsh: no {marker!r} in {self.buf[-2000:]!r}")
            r, _, _ = select.select([self.fd], [], [], left)
            if r:
                try:
                    data = os.read(self.fd, 65536)
                except OSError:
                    data = b""
                if not data:
                    raise AssertionError(f"zsh exited: {self.buf[-2000:]!r}")
                self.buf += data
        before, _, self.buf = self.buf.partition(marker)
        return before

    def close(self) -> None:
        try:
            os.close(self.fd)
        finally:
            os.waitpid(self.pid, 0)


def zsh_complete(lines: list[str], env: dict[str, str], cwd: Path) -> list[set[str]]:
    setup = cwd.parent / "zsh-setup.zsh"
    setup.write_text(ZSH_SETUP % {"dir": shlex.quote(str(COMPLETIONS))})
    z = _Pty(["zsh", "-f", "-i"], env, cwd)
    results = []
    try:
        z.send(f"source {shlex.quote(str(setup))}\n")
        z.expect(b"__READY__")
        for line in lines:
            z.expect(b"@@> ")  # ZLE is reading: keys typed now are not cooked
            # TAB completes; ^U kills the line; then print a marker
            z.send(line + "\t\x15print -r -- __E''ND__\n")
            out = z.expect(b"__END__\r\n")
            results.append({m.decode() for m in re.findall(rb"<<(.*?)>>", out)})
        z.send("exit\n")
    finally:
        z.close()
    return results


@pytest.mark.skipif(shutil.which("zsh") is None,
                    reason="zsh is not installed (apt-get install zsh to run this test)")
def test_zsh(world: World, cases: dict[str, list[Case]]) -> None:
    got = run_cases(world, cases["zsh"], zsh_complete)
    check("zsh", cases["zsh"], got)


# -- without a shell ----------------------------------------------------------------------


def _sessionctl(world: World, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["sessionctl", *args], env={**world.env, **env}, cwd=world.cwd,
                          capture_output=True, text=True, timeout=60)


def test_id_source_command(world: World) -> None:
    """The command every script runs for ids lists the right store's ids:
    the default store, $SESSIONCTL_DIR, and --dir over $SESSIONCTL_DIR."""
    home_store = str(world.home_store)
    runs = [
        (_sessionctl(world, "list", "--ids", "--all"), world.home_ids),
        (_sessionctl(world, "list", "--ids", "--all", SESSIONCTL_DIR=str(world.other)),
         world.other_ids),
        (_sessionctl(world, "--dir", str(world.other), "list", "--ids", "--all"),
         world.other_ids),
        (_sessionctl(world, "--dir", home_store, "list", "--ids", "--all",
                     SESSIONCTL_DIR=str(world.other)), world.home_ids),
    ]
    for proc, ids in runs:
        assert proc.returncode == 0, proc.stderr
        assert sorted(proc.stdout.split()) == ids


# click's completion protocol, as typer's scripts would call it. The CLI is
# built with add_completion=False, which leaves typer's shell classes
# unregistered; registering them here tests the protocol and the CLI's
# autocompletion hook regardless.
PROTOCOL = (
    "import sys; sys.argv[0] = 'sessionctl'\n"
    "if sys.argv[1:] != ['bare']:\n"
    "    from typer._completion_classes import completion_init; completion_init()\n"
    "sys.argv[1:] = []\n"
    "from sessionctl._entry import main; main()\n"
)


def protocol(world: World, line: str, *, bare: bool = False, **env: str) -> set[str]:
    words = bash_words(line)
    proc = subprocess.run(
        [sys.executable, "-c", PROTOCOL, *(["bare"] if bare else [])],
        env={**world.env, **env, "_SESSIONCTL_COMPLETE": "complete_bash",
             "COMP_WORDS": line, "COMP_CWORD": str(len(words) - 1)},
        cwd=world.cwd, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return {x for x in proc.stdout.splitlines() if x}


def test_protocol_commands_options_ids(world: World) -> None:
    home = world.home_ids
    hx = _hex_prefix(home)
    assert protocol(world, "sessionctl ") == set(COMMANDS)
    assert protocol(world, "sessionctl list --") == {o for o in COMMANDS["list"].options
                                                     if o.startswith("--")}
    for name in ID_COMMANDS:
        assert protocol(world, f"sessionctl {name} {hx}") == expected(home, hx), name
    assert protocol(world, f"sessionctl show {home[0][:8]}") == expected(home, home[0][:8])


def test_protocol_respects_dir(world: World) -> None:
    other = world.other_ids
    p = other[0][:8]
    assert protocol(world, f"sessionctl --dir {_q(world.other)} show {p}") == expected(other, p)
    assert protocol(world, f"sessionctl show {p}",
                    SESSIONCTL_DIR=str(world.other)) == expected(other, p)


def test_protocol_active_in_cli(world: World) -> None:
    assert protocol(world, "sessionctl ", bare=True) == set(COMMANDS)
