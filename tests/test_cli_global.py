"""The command line in this process (``CliRunner``): the global options, errors
and output manners, with their exit codes. Piped unless a test declares stdout a
terminal."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_helpers import (
    invoke,
    new_store,
    write_session,
)
from cli_store import (
    Store,
    lines,
)

import sessionctl.cli.common as cli
from sessionctl import JSONLStore

pytestmark = pytest.mark.usefixtures("fast_fsync")


# global options


def test_dir_beats_env_beats_default(tmp_path: Path) -> None:
    home = tmp_path / "home"
    default = new_store(home / ".ggcode" / "sessions")
    env_store = new_store(tmp_path / "env")
    opt_store = new_store(tmp_path / "opt")
    write_session(default, "from_default", title="d")
    write_session(env_store, "from_env", title="e")
    write_session(opt_store, "from_option", title="o")
    base = {"HOME": str(home)}
    assert invoke("list", "--ids", env=base).stdout == "from_default\n"
    env = {**base, "SESSIONCTL_DIR": str(env_store)}
    assert invoke("list", "--ids", env=env).stdout == "from_env\n"
    assert invoke("--dir", opt_store, "list", "--ids", env=env).stdout == "from_option\n"
    assert invoke("--dir", opt_store, "list", "--ids", env=base).stdout == "from_option\n"


def test_missing_store_exit_1_one_line(tmp_path: Path) -> None:
    for args in (["list"], ["show", "x"], ["delete", "x"], ["cleanup", "--older-than", "1d"],
                 ["export-md", "x"], ["resume", "x", "--print"]):
        r = invoke("--dir", tmp_path / "nope", *args, code=1)
        assert r.stdout == ""
        assert lines(r.stderr) == [f"sessionctl: no session store at {tmp_path / 'nope'}"]
    assert not (tmp_path / "nope").exists()  # and it is not created
    r = invoke("list", env={"HOME": str(tmp_path / "h")}, code=1)
    assert lines(r.stderr) == [
        f"sessionctl: no session store at {tmp_path / 'h' / '.ggcode' / 'sessions'}"]


def test_store_path_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    r = invoke("--dir", tmp_path / "f", "list", code=1)
    assert len(lines(r.stderr)) == 1


def test_version() -> None:
    from sessionctl import __version__

    r = invoke("--version")
    assert r.stdout == f"sessionctl {__version__}\n"


def test_internal_errors_are_one_line_not_a_traceback(
    st: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*a: object, **k: object) -> None:
        raise RuntimeError("something broke")

    monkeypatch.setattr(JSONLStore, "listing", boom)
    r = invoke("--dir", st.dir, "list", env={"SESSIONCTL_DEBUG": None}, code=1)
    assert lines(r.stderr)[0] == "sessionctl: internal error: RuntimeError: something broke"
    assert len(lines(r.stderr)) == 2


def test_keyboard_interrupt_exits_130(st: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*a: object, **k: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(JSONLStore, "listing", interrupted)
    r = invoke("--dir", st.dir, "list", code=130)
    assert "Traceback" not in r.stderr and r.stdout == ""


def test_output_errors_exit_1(st: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    def full(*a: object, **k: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(cli, "warn_skipped", full)
    r = invoke("--dir", st.dir, "list", code=1)
    assert lines(r.stderr) == ["sessionctl: I/O error: No space left on device"]


def test_broken_pipe_in_process_is_quiet(st: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    def closed(*a: object, **k: object) -> None:
        raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(cli, "warn_skipped", closed)
    r = invoke("--dir", st.dir, "list")
    assert r.stderr == ""
