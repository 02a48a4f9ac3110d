"""What the CLI tests (``test_cli_*.py``) share: a five-session store
(``st``), its ids, and a few builders."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

import pytest
from cli_helpers import (
    new_store,
    text_msg,
    write_session,
)

from sessionctl import JSONLStore

LockHolder = Callable[[Path], AbstractContextManager[int]]

ALPHA = "20260305-100000-aaaa111100000001"
BETA = "20260304-100000-bbbb222200000002"
GAMMA = "20260303-100000-aaaa333300000003"
HIDDEN = "20260302-100000-cccc444400000004"
OLD = "20260101-000000-dddd555500000005"
VISIBLE = [ALPHA, BETA, GAMMA, OLD]  # newest first
EVERY = [ALPHA, BETA, GAMMA, HIDDEN, OLD]
BETA_TITLE = "Tabs\there, a newline\nand an \x1b[31mescape\x7f"


@dataclass
class Store:
    dir: Path

    @property
    def lib(self) -> JSONLStore:
        return JSONLStore(self.dir, create=False)


@pytest.fixture
def st(tmp_path: Path) -> Store:
    """Five sessions: three workspaces, two vendors, one hidden, one old."""
    d = new_store(tmp_path / "store")
    write_session(d, ALPHA, title="Fix the parser", workspace="/w/alpha", vendor="anthropic",
                  endpoint="default", model="claude-sonnet-4", updated="2026-03-05T10:00:00Z",
                  created="2026-03-05T09:00:00Z")
    write_session(d, BETA, title=BETA_TITLE, workspace="/w/beta", vendor="openai",
                  model="gpt-5", updated="2026-03-04T10:00:00Z")
    write_session(d, GAMMA, title="Refactor the lexer", workspace="/w/alpha", vendor="openai",
                  model="gpt-5", updated="2026-03-03T10:00:00Z")
    write_session(d, HIDDEN, title="", workspace="/w/alpha", user=None,
                  updated="2026-03-02T10:00:00Z")
    write_session(d, OLD, title="Old one", workspace="/w/gamma", vendor="zai", model="glm-4.6",
                  updated="2026-01-01T00:00:00Z")
    return Store(d)


def lines(text: str) -> list[str]:
    return text.splitlines()



def checkpointed(d: Path) -> str:
    """A session compacted once: two messages, a checkpoint, one more."""
    write_session(d, ALPHA, title="compacted", messages=[
        text_msg("user", "first question"), text_msg("assistant", "first answer")],
        records=[
            {"type": "checkpoint", "session_id": ALPHA, "checkpoint_tokens": 1234,
             "checkpoint_messages": [text_msg("user", "SUMMARY of the start")]},
            {"type": "message", "session_id": ALPHA, "message": text_msg("user", "after it")},
        ])
    return ALPHA


def fail_index_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every index.json rewrite fails, as for an index its owner may not replace."""
    import errno

    from sessionctl.storage import removal

    def fail(directory: Path, entries: object) -> None:
        raise PermissionError(errno.EACCES, "Permission denied", str(directory / "index.json"))

    monkeypatch.setattr(removal, "write_index", fail)


def index_warning(line: str) -> bool:
    return (line.startswith("sessionctl: warning: ")
            and ", but index.json was not updated" in line
            and "Permission denied" in line)
