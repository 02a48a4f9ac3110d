"""Shared helpers of the command-line tests (test_cli*.py, test_resume.py,
test_help.py): sessions written byte for byte, an in-process runner and a
subprocess runner that both refuse tracebacks on stderr."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from typer.testing import CliRunner, Result

import sessionctl
from sessionctl.cli.app import app

try:
    from .builders import write_lines, written_at
    from .helpers_proc import child_env
except ImportError:
    from builders import write_lines, written_at  # type: ignore[no-redef]
    from helpers_proc import child_env  # type: ignore[no-redef]

ANSI = re.compile(r"\x1b\[|\x1b\]")
#: Children import the very package the tests import.
PACKAGE_ROOT = Path(sessionctl.__file__).resolve().parent.parent

#: The fields of a ``list --json`` row (SPEC §7, §8.2), in order.
ROW_KEYS = ["id", "title", "workspace", "vendor", "endpoint", "model",
            "created_at", "updated_at", "msg_count", "hidden", "tags", "pinned"]
#: The keys of ``Session.to_dict()`` / ``show --json`` (SPEC §5).
SHOW_KEYS = {"id", "title", "workspace", "vendor", "endpoint", "model", "created_at",
             "updated_at", "messages", "context_messages", "checkpoints", "tunnel_events",
             "tunnel_events_complete", "cost", "has_user_interaction"}


def sid(n: int, stamp: str = "20260301-120000") -> str:
    """A reference-shaped id whose hex part is ``n`` on 16 digits."""
    return f"{stamp}-{n:016x}"


def new_store(path: Path) -> Path:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def text_msg(role: str, text: str, **extra: Any) -> dict[str, Any]:
    return {"role": role, "content": [{"type": "text", "text": text}], **extra}


def write_session(
    store: Path, session_id: str, *, title: str = "", workspace: str = "", vendor: str = "",
    endpoint: str = "", model: str = "", updated: str = "2026-03-01T12:00:00Z",
    created: str | None = None, user: str | None = "hello", assistant: str | None = "hi there",
    messages: Sequence[dict[str, Any]] | None = None,
    records: Sequence[dict[str, Any]] = (),
) -> Path:
    """Write ``<id>.jsonl`` as an agent would: a meta record, then messages
    (``user``/``assistant`` texts unless ``messages`` is given), then ``records``.
    ``user=None`` makes a hidden session (no user text)."""
    lines: list[dict[str, Any]] = [{
        "type": "meta", "session_id": session_id, "title": title, "workspace": workspace,
        "vendor": vendor, "endpoint": endpoint, "model": model,
        "created_at": created or updated, "updated_at": updated,
    }]
    if messages is None:
        messages = []
        if user is not None:
            messages.append(text_msg("user", user))
        if assistant is not None:
            messages.append(text_msg("assistant", assistant))
    lines += [{"type": "message", "session_id": session_id, "message": m} for m in messages]
    lines += list(records)
    return written_at(write_lines(store / f"{session_id}.jsonl", *lines), updated)


def session_files(store: Path) -> list[str]:
    """The ids of the session files left in ``store``."""
    return sorted(p.name[:-6] for p in store.glob("*.jsonl"))


def leftovers(directory: Path) -> list[str]:
    """Temporary files an atomic writer may have left behind."""
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


# -- in-process ------------------------------------------------------------

# In-process CLI tests are about output and exit codes, not durability
# (tests/test_durability.py): they use conftest's ``fast_fsync`` fixture.

_runner = CliRunner()


def check_stderr(stderr: str, code: int) -> None:
    """What every run must satisfy: no traceback; an error is one
    ``sessionctl: ...`` first line."""
    assert "Traceback" not in stderr, stderr
    if code not in (0, 130) and stderr:
        assert stderr.startswith("sessionctl: "), stderr


def invoke(
    *args: object, env: Mapping[str, str | None] | None = None, code: int | None = 0,
    input: str | None = None, check: bool = True,
) -> Result:
    """Run the CLI in this process (``CliRunner`` catches our ``sys.exit``).

    ``code`` is the exit status expected (``None``: don't check).
    ``SESSIONCTL_DEBUG`` is set so a bug surfaces as the exception itself.
    """
    run_env: dict[str, str | None] = {"SESSIONCTL_DEBUG": "1"}
    run_env.update(env or {})
    result = _runner.invoke(app, [str(a) for a in args], env=run_env, input=input,
                            catch_exceptions=False)
    assert "Traceback" not in result.stderr, result.stderr
    if check:
        check_stderr(result.stderr, result.exit_code)
    if code is not None:
        assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    return result


# -- subprocess ------------------------------------------------------------

def run(
    *args: object, env: Mapping[str, str] | None = None, cwd: Path | None = None,
    code: int | None = 0, timeout: float = 30, stdin: str | None = None, check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """``python -m sessionctl ARGS`` as a real process, output piped.
    ``check=False`` only refuses a traceback (for output that is no error line)."""
    proc = subprocess.run(
        [sys.executable, "-m", "sessionctl", *(str(a) for a in args)],
        env=dict(env) if env is not None else child_env(), cwd=cwd, input=stdin or "",
        capture_output=True, text=True, timeout=timeout,
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    if check:
        check_stderr(proc.stderr, proc.returncode)
    if code is not None:
        assert proc.returncode == code, (proc.returncode, proc.stdout, proc.stderr)
    return proc
