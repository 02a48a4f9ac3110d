"""``--help`` (with examples) for the tool and each command, ``--version``,
and what bad invocations print (SPEC §3: help with examples; usage errors
exit 2 with one ``sessionctl: ...`` line)."""

from __future__ import annotations

import re

import pytest
from cli_helpers import ANSI, invoke, run

from sessionctl import __version__

COMMANDS = ["list", "show", "export-md", "delete", "cleanup", "resume", "trash", "restore",
            "log", "rename", "tag", "untag", "pin", "unpin", "search", "stats", "du"]

#: Every option SPEC §3/§5/§7 names, per command.
OPTIONS = {
    "list": ["--workspace", "--here", "--model", "--vendor", "--since", "--until", "--limit",
             "-n", "--all", "--json", "--jsonl", "--ids", "--verbose", "--tag", "--pinned"],
    "show": ["--json", "--context", "--full", "--no-pager", "--from"],
    "export-md": ["--output", "-o", "--all", "--hidden", "--output-dir", "--context"],
    "delete": ["--dry-run", "--verbose", "--purge", "--force"],
    "cleanup": ["--older-than", "--before", "--dry-run", "--empty", "--json", "--verbose",
                "--purge", "--trash-retention"],
    "resume": ["--command", "--print", "--context", "--force", "SESSIONCTL_RESUME_COMMAND"],
    "trash": ["--json"],
    "restore": ["--verbose"],
    "log": ["--since", "--action", "--id", "-n", "--json", "--jsonl"],
    "rename": ["--verbose"],
    "tag": ["--verbose"],
    "untag": ["--verbose"],
    "pin": ["--verbose"],
    "unpin": ["--verbose"],
    "search": ["--workspace", "--here", "--model", "--vendor", "--since", "--until", "--tag",
               "--pinned", "--all", "--role", "--trash", "--limit", "-n", "--json", "--jsonl",
               "--reindex"],
    "stats": ["--by", "--metric", "--workspace", "--here", "--model", "--vendor", "--since",
              "--tag", "--pinned",
              "--until", "--all", "--json", "--csv", "--prices", "--verbose"],
    "du": ["--by", "--limit", "-n", "--json"],
}


def test_root_help_lists_commands_and_examples() -> None:
    out = invoke("--help").stdout
    assert out.startswith("Usage: sessionctl ")
    assert "Example" in out
    assert "sessionctl list --here" in out and "cleanup --older-than 30d" in out
    for cmd in COMMANDS:
        assert re.search(rf"^\s+{cmd}\s", out, re.M), cmd
    for opt in ("--dir", "--version", "--help", "SESSIONCTL_DIR"):
        assert opt in out
    assert invoke("-h").stdout == out


@pytest.mark.parametrize("cmd", COMMANDS)
def test_each_command_help_has_an_example_and_its_options(cmd: str) -> None:
    r = invoke(cmd, "--help")
    assert r.stderr == ""
    out = r.stdout
    assert out.startswith(f"Usage: sessionctl {cmd} ")
    assert "Example" in out
    assert f"sessionctl {cmd}" in out.split("Example", 1)[1]
    for opt in OPTIONS[cmd]:
        assert opt in out, (cmd, opt)
    assert not ANSI.search(out)
    assert invoke(cmd, "-h").stdout == out


def test_help_needs_no_store(tmp_path: object) -> None:
    invoke("--dir", "/nonexistent/store", "list", "--help")


def test_version() -> None:
    assert invoke("--version").stdout == f"sessionctl {__version__}\n"
    # eager: works before a command and without a store
    assert invoke("--dir", "/nonexistent", "--version").stdout == f"sessionctl {__version__}\n"


def test_no_arguments_prints_usage_exit_2() -> None:
    r = invoke(code=2, check=False)
    assert r.stdout == ""
    assert r.stderr.startswith("Usage: sessionctl ")
    assert "Commands:" in r.stderr and "sessionctl: " not in r.stderr


@pytest.mark.parametrize(("args", "message"), [
    (["nosuchcommand"], "No such command"),
    (["lsit"], "No such command 'lsit'. Did you mean 'list'?"),
    (["--bogus"], "No such option"),
    (["list", "--bogus"], "No such option"),
    (["show"], "Missing argument"),
    (["delete"], "Missing argument"),
    (["show", "a", "b"], "unexpected extra argument"),
    (["cleanup", "--older-than"], "requires an argument"),
    (["list", "--limit", "x"], "'x'"),
])
def test_usage_errors_exit_2_with_a_hint(args: list[str], message: str) -> None:
    r = invoke(*args, code=2)
    assert r.stdout == ""
    first, *rest = r.stderr.splitlines()
    assert first.startswith("sessionctl: ") and message.lower() in first.lower()
    assert rest and rest[-1].startswith("Try 'sessionctl")
    assert rest[-1].endswith("--help' for help.")


def test_subprocess_calls_itself_sessionctl() -> None:
    # `python -m sessionctl`, not "python -m sessionctl", in usage lines
    r = run(code=2, check=False)
    assert r.stderr.startswith("Usage: sessionctl ")


def test_a_run_builds_only_its_own_command() -> None:
    """Commands are built when looked up (start-up pays for one); help and
    lookups still see every command, in the order defined."""
    import typer

    from sessionctl.cli.app import app

    group = typer.main.get_command(app)
    assert isinstance(group, typer.core.TyperGroup)
    assert list(group.commands) == COMMANDS
    assert group.commands.built() == []  # type: ignore[attr-defined]
    with group.make_context("sessionctl", ["list"]) as ctx:
        name, cmd, _ = group.resolve_command(ctx, ["list"])
    assert name == "list" and isinstance(cmd, typer.core.TyperCommand)
    assert group.commands.built() == ["list"]  # type: ignore[attr-defined]
    assert group.get_command(ctx, "nosuch") is None


def test_a_run_imports_only_its_own_command_module() -> None:
    """In a real process, ``list`` imports no other command's module."""
    code = ("import sys\nfrom sessionctl._entry import main\n"
            "import atexit\n"
            "atexit.register(lambda: print(sorted(m for m in sys.modules "
            "if m.startswith('sessionctl.cli.commands.'))))\n"
            "sys.argv = ['sessionctl', '--dir', sys.argv[1], 'list', '--ids']\nmain()\n")
    import subprocess
    import sys
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        r = subprocess.run([sys.executable, "-c", code, d], capture_output=True, text=True,
                           check=True)
    assert r.stdout.strip() == "['sessionctl.cli.commands.list_']"
