"""The command line in this process (``CliRunner``): ``sessionctl export-md``, every
option and error path with its exit code. Piped unless a test declares stdout a
terminal."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest
from cli_helpers import (
    invoke,
    leftovers,
    new_store,
)
from cli_store import (
    ALPHA,
    BETA,
    EVERY,
    GAMMA,
    OLD,
    VISIBLE,
    Store,
    checkpointed,
    lines,
)

import sessionctl.cli.common as cli
from sessionctl import JSONLStore

pytestmark = pytest.mark.usefixtures("fast_fsync")


# export-md


def test_export_md_to_stdout(st: Store) -> None:
    r = invoke("--dir", st.dir, "export-md", "aaaa1")
    assert r.stdout == st.lib.export_markdown(ALPHA)
    assert r.stderr == ""


def test_export_md_several_ids_separated_by_a_blank_line(st: Store) -> None:
    r = invoke("--dir", st.dir, "export-md", ALPHA, "bbbb", OLD)
    docs = [st.lib.export_markdown(s) for s in (ALPHA, BETA, OLD)]
    assert r.stdout == "\n".join(docs)
    assert r.stdout.count("\n# ") == 2


def test_export_md_is_byte_identical_on_repeated_runs(st: Store, tmp_path: Path) -> None:
    a = invoke("--dir", st.dir, "export-md", *EVERY).stdout_bytes
    b = invoke("--dir", st.dir, "export-md", *EVERY).stdout_bytes
    assert a == b
    out = tmp_path / "out.md"
    invoke("--dir", st.dir, "export-md", ALPHA, "-o", out)
    first = out.read_bytes()
    invoke("--dir", st.dir, "export-md", ALPHA, "-o", out)
    assert out.read_bytes() == first == st.lib.export_markdown(ALPHA).encode()


def test_export_md_output_file_atomic_and_overwritten(st: Store, tmp_path: Path) -> None:
    out_dir = tmp_path / "docs"
    out_dir.mkdir()
    out = out_dir / "session.md"
    out.write_text("old content that is much longer than nothing\n" * 100)
    r = invoke("--dir", st.dir, "export-md", BETA, "--output", out)
    assert (r.stdout, r.stderr) == ("", "")
    assert out.read_text(encoding="utf-8") == st.lib.export_markdown(BETA)
    assert leftovers(out_dir) == []
    assert os.listdir(out_dir) == ["session.md"]
    invoke("--dir", st.dir, "export-md", ALPHA, "-o", out, "--context")
    assert out.read_text(encoding="utf-8") == st.lib.export_markdown(ALPHA, context=True)


def test_export_md_output_through_a_symlink(st: Store, tmp_path: Path) -> None:
    real = tmp_path / "notes" / "session.md"
    real.parent.mkdir()
    real.write_text("old")
    link = tmp_path / "link.md"
    link.symlink_to(real)
    invoke("--dir", st.dir, "export-md", ALPHA, "-o", link)
    assert link.is_symlink()  # the link stays a link; its target is replaced
    assert real.read_text(encoding="utf-8") == st.lib.export_markdown(ALPHA)
    assert leftovers(real.parent) == [] and leftovers(tmp_path) == []


def test_export_md_output_to_a_device_or_pipe_is_not_replaced(
    st: Store, tmp_path: Path
) -> None:
    """``-o /dev/null`` must never rename a regular file over the device
    (as root that destroys /dev/null for the whole machine)."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    invoke("--dir", st.dir, "export-md", ALPHA, "-o", fifo)
    reader.join(timeout=10)
    assert got == [st.lib.export_markdown(ALPHA).encode()]
    assert fifo.is_fifo()
    assert leftovers(tmp_path) == []
    # a null device of our own (never the machine's /dev/null, should this regress)
    null = tmp_path / "null"
    try:
        os.mknod(null, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    except OSError:
        return  # not root, or no CAP_MKNOD: the FIFO above covers the path
    invoke("--dir", st.dir, "export-md", ALPHA, "-o", null)
    assert null.is_char_device()
    assert leftovers(tmp_path) == []


def test_export_md_output_file_errors(st: Store, tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "dir" / "x.md"
    r = invoke("--dir", st.dir, "export-md", ALPHA, "-o", missing, code=1)
    assert len(lines(r.stderr)) == 1 and r.stderr.startswith("sessionctl: cannot write")
    assert not missing.parent.exists()
    blocker = tmp_path / "file"
    blocker.write_text("x")
    r = invoke("--dir", st.dir, "export-md", ALPHA, "-o", blocker / "x.md", code=1)
    assert len(lines(r.stderr)) == 1
    assert blocker.read_text() == "x"
    if os.geteuid() != 0:  # root writes anywhere
        ro = tmp_path / "readonly"
        ro.mkdir(mode=0o500)
        r = invoke("--dir", st.dir, "export-md", ALPHA, "-o", ro / "x.md", code=1)
        assert len(lines(r.stderr)) == 1 and os.listdir(ro) == []
    # a directory as the output file
    r = invoke("--dir", st.dir, "export-md", ALPHA, "-o", tmp_path, code=1)
    assert len(lines(r.stderr)) == 1
    assert leftovers(tmp_path) == []
    # an unknown id: exit 3 and no file
    target = tmp_path / "never.md"
    invoke("--dir", st.dir, "export-md", "ffff", "-o", target, code=3)
    assert not target.exists()


def test_export_md_all_to_output_dir(st: Store, tmp_path: Path) -> None:
    out = tmp_path / "export" / "nested"  # created as needed
    r = invoke("--dir", st.dir, "export-md", "--all", "--output-dir", out)
    assert (r.stdout, r.stderr) == ("", "")
    assert sorted(os.listdir(out)) == sorted(f"{s}.md" for s in VISIBLE)
    for s in VISIBLE:
        assert (out / f"{s}.md").read_text(encoding="utf-8") == st.lib.export_markdown(s)
    # overwrite, and --hidden adds the hidden ones
    (out / f"{ALPHA}.md").write_text("stale")
    invoke("--dir", st.dir, "export-md", "--all", "--hidden", "--output-dir", out)
    assert sorted(os.listdir(out)) == sorted(f"{s}.md" for s in EVERY)
    assert (out / f"{ALPHA}.md").read_text(encoding="utf-8") == st.lib.export_markdown(ALPHA)
    r = invoke("--dir", st.dir, "export-md", "--all", "--output-dir", out, "--verbose")
    assert "exported 4 sessions" in r.stderr


def test_export_md_all_on_a_terminal(
    st: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli, "stderr_is_terminal", lambda: True)  # progress bar path
    r = invoke("--dir", st.dir, "export-md", "--all", "--output-dir", tmp_path / "o")
    assert r.stdout == ""
    assert sorted(os.listdir(tmp_path / "o")) == sorted(f"{s}.md" for s in VISIBLE)


def test_export_md_all_goes_on_past_a_damaged_session(
    st: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sessionctl import CorruptStore, SessionNotFound
    from sessionctl.export import files

    real = files.write_markdown_file

    def flaky(
        store: JSONLStore, sid: str, path: Path, *, context: bool = False, sync_dir: bool = True
    ) -> None:
        if sid == BETA:
            raise CorruptStore(f"cannot read session {sid}: Input/output error")
        if sid == GAMMA:
            raise SessionNotFound(sid)  # deleted since the listing
        real(store, sid, path, context=context, sync_dir=sync_dir)

    monkeypatch.setattr(files, "write_markdown_file", flaky)
    r = invoke("--dir", st.dir, "export-md", "--all", "--output-dir", tmp_path / "o", code=1)
    assert sorted(os.listdir(tmp_path / "o")) == sorted([f"{ALPHA}.md", f"{OLD}.md"])
    assert lines(r.stderr) == [
        f"sessionctl: could not export {BETA}: cannot read session {BETA}: Input/output error"]


def test_export_md_all_context(tmp_path: Path) -> None:
    d = new_store(tmp_path / "s")
    sid = checkpointed(d)
    out = tmp_path / "out"
    invoke("--dir", d, "export-md", "--all", "--output-dir", out, "--context")
    assert (out / f"{sid}.md").read_text(encoding="utf-8") == JSONLStore(d).export_markdown(
        sid, context=True)
    assert invoke("--dir", d, "export-md", sid, "--context").stdout == (
        JSONLStore(d).export_markdown(sid, context=True))


def test_export_md_all_output_dir_is_a_file(st: Store, tmp_path: Path) -> None:
    f = tmp_path / "file"
    f.write_text("x")
    r = invoke("--dir", st.dir, "export-md", "--all", "--output-dir", f, code=1)
    assert len(lines(r.stderr)) == 1


def test_export_md_all_on_empty_store(tmp_path: Path) -> None:
    d = new_store(tmp_path / "s")
    invoke("--dir", d, "export-md", "--all", "--output-dir", tmp_path / "out")
    assert os.listdir(tmp_path / "out") == []


@pytest.mark.parametrize("args", [
    [],
    ["--all"],
    ["--all", ALPHA, "--output-dir", "out"],
    ["--all", "-o", "x.md", "--output-dir", "out"],
    ["--output-dir", "out", ALPHA],
    ["--hidden", ALPHA],
    ["-o", "x.md", ALPHA, BETA],
    ["-o", "x.md"],
    ["../etc/passwd"],
    [ALPHA, "../x"],
])
def test_export_md_bad_combinations_exit_2(
    st: Store, args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    r = invoke("--dir", st.dir, "export-md", *args, code=2)
    assert r.stdout == ""
    assert r.stderr.startswith("sessionctl: ")
    assert os.listdir(tmp_path) == ["store"]


def test_export_md_unknown_id_prints_nothing(st: Store) -> None:
    r = invoke("--dir", st.dir, "export-md", ALPHA, "ffff", code=3)
    assert r.stdout == ""  # every id is resolved before anything is written
