"""Shared fixtures: an isolated environment and writable copies of the
reference stores in ``tests/fixtures/`` (the tests never read ../shared)."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import pytest
from cli_store import st  # noqa: F401 (the CLI tests' five-session store fixture)

from sessionctl import JSONLStore

try:
    from .builders import write_lines, written_at
except ImportError:
    from builders import write_lines, written_at  # type: ignore[no-redef]

__all__ = ["write_lines", "written_at"]  # the one session-file writer (tests/builders.py)

FIXTURES = Path(__file__).parent / "fixtures"
V1333 = FIXTURES / "ggcode-v1.3.33"
V13216 = FIXTURES / "ggcode-v1.3.216"

#: Every file of a copied fixture store gets this mtime (2026-11-24T14:54:44Z,
#: just after the reference wrote the v1.3.33 store), so tests that fall
#: back to a file's mtime do not depend on when the copy was made.
FIXTURE_MTIME_NS = 1795532084 * 10**9


@pytest.fixture(autouse=True)
def _isolated_env(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Never touch the real user cache, home or store."""
    base = tmp_path_factory.mktemp("env")
    monkeypatch.setenv("SESSIONCTL_CACHE_DIR", str(base / "cache"))
    monkeypatch.setenv("HOME", str(base / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(base / "xdg-cache"))
    monkeypatch.delenv("SESSIONCTL_DIR", raising=False)


@pytest.fixture
def fast_fsync(monkeypatch: pytest.MonkeyPatch) -> None:
    """Skip the fsyncs (4 ms each here) in tests about content, not
    durability: the writes, renames and their order are unchanged. Opt in
    with ``pytestmark = pytest.mark.usefixtures("fast_fsync")``."""
    import sessionctl.storage.fsio

    monkeypatch.setattr(sessionctl.storage.fsio, "_fsync", lambda fd: None)


def copy_store(src: Path, dst: Path, *, mtime_ns: int = FIXTURE_MTIME_NS) -> Path:
    """Copy a fixture's ``sessions/`` to ``dst``: writable (0600 files, 0700
    dir, as a real store) and with a fixed mtime on every file."""
    shutil.copytree(src, dst)
    os.chmod(dst, 0o700)
    for p in dst.iterdir():
        os.chmod(p, 0o600)
        os.utime(p, ns=(mtime_ns, mtime_ns))
    return dst


#: Before the fixtures' cleanup cutoff (2026-06-01): the mtime an agent's
#: files would have if it had last written them when their aged records say.
AGED_NS = 1767225600 * 10**9  # 2026-01-01T00:00:00Z


#: The v1.3.33 session with no time but its file's mtime (no meta, no
#: index entry): aging its file would age the session itself.
V1333_MTIME_ONLY = "20261124-145443-ebd02656d388fe39"


def aged(d: Path, mtime_ns: int = AGED_NS, *, keep: tuple[str, ...] = (V1333_MTIME_ONLY,)) -> Path:
    """The session files of ``d`` (but ``keep``'s) last modified at
    ``mtime_ns``: cleanup keeps files modified after its cutoff whatever
    they record (SPEC §8.5), and the fixture stores were written in
    November 2026, after their aged records."""
    for p in d.glob("*.jsonl"):
        if p.stem not in keep:
            os.utime(p, ns=(mtime_ns, mtime_ns))
    return d


@pytest.fixture
def dir33(tmp_path: Path) -> Path:
    """A writable copy of the v1.3.33 reference store."""
    return copy_store(V1333 / "sessions", tmp_path / "store33")


@pytest.fixture
def dir216(tmp_path: Path) -> Path:
    """A writable copy of the v1.3.216 reference store."""
    return copy_store(V13216 / "sessions", tmp_path / "store216")


@pytest.fixture
def store33(dir33: Path) -> JSONLStore:
    return JSONLStore(dir33)


@pytest.fixture
def store216(dir216: Path) -> JSONLStore:
    return JSONLStore(dir216)


@pytest.fixture
def empty_store(tmp_path: Path) -> JSONLStore:
    return JSONLStore(tmp_path / "store")


def load_expected33(name: str) -> Any:
    """A file of ``ggcode-v1.3.33/expected/`` (``load/<id>.json``, ``list.json``...)."""
    return json.loads((V1333 / "expected" / name).read_text(encoding="utf-8"))


def load_expected216() -> Any:
    return json.loads((V13216 / "expected.json").read_text(encoding="utf-8"))


def read_records(path: Path) -> list[Any]:
    """Every line of ``path`` that is a JSON value (objects and others), in order."""
    out = []
    for line in path.read_bytes().splitlines():
        if not line.strip():
            continue
        try:
            out.append(json.loads(line.decode("utf-8", "surrogateescape")))
        except ValueError:
            continue
    return out


@contextmanager
def hold_lock(path: Path) -> Iterator[int]:
    """Another process holds ``path`` (an ``<id>.lock``) the way an agent
    does: flock(LOCK_EX), its PID written without a newline. Yields the PID.
    The one agent of the tests: ``helpers_proc.agent_holding``."""
    try:
        from . import helpers_proc as hp
    except ImportError:
        import helpers_proc as hp  # type: ignore[no-redef]

    with hp.agent_holding(path) as pid:
        yield pid


@pytest.fixture
def lock_holder() -> Callable[[Path], AbstractContextManager[int]]:
    """``with lock_holder(store.dir / f"{sid}.lock") as pid: ...``"""
    return hold_lock


@pytest.fixture
def procs(tmp_path: Path) -> Iterator[Any]:
    """Child processes of the concurrency and crash tests, killed at the end."""
    try:
        from . import helpers_proc as hp
    except ImportError:
        import helpers_proc as hp  # type: ignore[no-redef]

    p = hp.Procs(tmp_path / "child-cache")
    yield p
    p.close()


@pytest.fixture
def store_dir(tmp_path: Path) -> Path:
    """An empty store directory, created as the library creates one."""
    d = tmp_path / "store"
    JSONLStore(d)
    return d
