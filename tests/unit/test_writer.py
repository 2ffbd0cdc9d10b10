"""Atomic site writes, ownership, recovery, the render lock and --check."""

from __future__ import annotations

import ctypes
import errno
import multiprocessing
import os
from pathlib import Path

import pytest

from dlaas_gen import writer
from dlaas_gen.errors import LockedError, ProblemsError, UsageError
from dlaas_gen.render_lock import RENDER_LOCK_FILE, render_lock, render_lock_path
from dlaas_gen.writer import (
    INDEX_FILE,
    check_sites,
    finalize_plan,
    read_existing,
    recover,
    write_sites,
)


def plan(**files: str) -> dict[str, bytes]:
    return finalize_plan({k.replace("__", "/"): v for k, v in files.items()})


def test_write_then_unchanged(tmp_path: Path) -> None:
    out = tmp_path / "rendered"
    result = write_sites(out, {"s": plan(apps__a_yaml="a: 1\n")})
    assert result.written == ["s"]
    assert (out / "s" / "apps" / "a_yaml").read_text() == "a: 1\n"
    assert "apps/a_yaml" in (out / "s" / INDEX_FILE).read_text()
    mtime = (out / "s" / "apps" / "a_yaml").stat().st_mtime_ns
    assert write_sites(out, {"s": plan(apps__a_yaml="a: 1\n")}).unchanged == ["s"]
    assert (out / "s" / "apps" / "a_yaml").stat().st_mtime_ns == mtime


def test_stale_generated_files_are_pruned(tmp_path: Path) -> None:
    out = tmp_path / "rendered"
    write_sites(out, {"s": plan(apps__a="1\n", apps__b="2\n")})
    write_sites(out, {"s": plan(apps__a="1\n")})
    assert sorted(read_existing(out / "s")) == [INDEX_FILE, "apps/a"]


def test_foreign_file_stops_write_and_force_deletes(tmp_path: Path) -> None:
    out = tmp_path / "rendered"
    write_sites(out, {"s": plan(apps__a="1\n")})
    (out / "s" / "apps" / "mine.yaml").write_text("x: 1\n")
    with pytest.raises(ProblemsError) as info:
        write_sites(out, {"s": plan(apps__a="2\n")})
    [problem] = info.value.problems
    assert problem.path.endswith("s/apps/mine.yaml") and "--force" in problem.message
    assert (out / "s" / "apps" / "a").read_text() == "1\n"  # nothing written
    write_sites(out, {"s": plan(apps__a="2\n")}, force=True)
    assert not (out / "s" / "apps" / "mine.yaml").exists()


def test_symlink_inside_site_is_foreign_and_not_followed(tmp_path: Path) -> None:
    out = tmp_path / "rendered"
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "keep").write_text("precious")
    write_sites(out, {"s": plan(apps__a="1\n")})
    (out / "s" / "link").symlink_to(victim)
    with pytest.raises(ProblemsError):
        write_sites(out, {"s": plan(apps__a="2\n")})
    write_sites(out, {"s": plan(apps__a="2\n")}, force=True)
    assert (victim / "keep").read_text() == "precious"


def test_paths_outside_site_refused() -> None:
    for bad in ("../x.yaml", "/etc/passwd", "apps/../../x", ".hidden"):
        with pytest.raises(UsageError):
            finalize_plan({bad: "x"})


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ("new+final", "old-content"),  # swap never started: keep old
        ("new+old", "new-content"),  # died between the renames: finish
        ("final+old", "new-content"),  # died before removing old: clean up
        ("old", "old-content"),  # only the old tree: restore it
    ],
)
def test_recover_interrupted_swap(tmp_path: Path, state: str, expected: str) -> None:
    out = tmp_path
    trees = {"final": out / "s", "new": out / ".s.new", "old": out / ".s.old"}
    contents = {"final": "new-content" if "old" in state else "old-content",
                "new": "new-content", "old": "old-content"}
    for part in state.split("+"):
        trees[part].mkdir()
        (trees[part] / "f").write_text(contents[part])
    (out / ".s.staging-123").mkdir()
    assert recover(out, "s")
    assert (out / "s" / "f").read_text() == expected
    assert sorted(p.name for p in out.iterdir()) == ["s"]


def _hold_lock(
    path: str, ready: multiprocessing.synchronize.Event, done: multiprocessing.synchronize.Event
) -> None:  # type: ignore[name-defined]
    with render_lock(Path(path)):
        ready.set()
        done.wait(10)


def test_second_writer_gets_clear_lock_error(tmp_path: Path) -> None:
    out = tmp_path / "rendered"
    ready, done = multiprocessing.Event(), multiprocessing.Event()
    proc = multiprocessing.Process(target=_hold_lock, args=(str(out), ready, done))
    proc.start()
    try:
        assert ready.wait(10)
        with pytest.raises(LockedError, match="another dlaas-gen run") as info:
            write_sites(out, {"s": plan(a="1\n")})
        assert str(tmp_path / RENDER_LOCK_FILE) in str(info.value)
    finally:
        done.set()
        proc.join()
    assert render_lock_path(out).parent == tmp_path  # outside rendered/
    assert write_sites(out, {"s": plan(a="1\n")}).written == ["s"]


def test_lock_left_by_killed_process_does_not_block(tmp_path: Path) -> None:
    out = tmp_path / "rendered"
    pid = os.fork()
    if pid == 0:  # child: take the lock and die without releasing it
        with render_lock(out):
            os._exit(0)
    os.waitpid(pid, 0)
    assert render_lock_path(out).exists()
    assert write_sites(out, {"s": plan(a="1\n")}).written == ["s"]


def test_check_reports_stale_missing_extra_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "rendered"
    write_sites(out, {"s": plan(a="1\n", b="2\n")})
    (out / "s" / "a").write_text("edited\n")
    (out / "s" / "b").unlink()
    (out / "s" / "c").write_text("3\n")
    before = read_existing(out / "s")
    messages = {
        Path(p.path).name: p.message for p in check_sites(out, {"s": plan(a="1\n", b="2\n")})
    }
    assert messages["a"].startswith("stale")
    assert messages["b"].startswith("missing")
    assert messages["c"].startswith("extra")
    assert read_existing(out / "s") == before


def test_one_file_system_flush_for_all_sites_before_any_rename(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Why: the renames publish the files, so the files must be durable first; one syncfs
    # replaces an fsync per file (3,400 for 100 sites).
    out = tmp_path / "rendered"
    events: list[str] = []
    real_syncfs = writer._syncfs

    def syncfs(folder: Path) -> bool:
        staged = sorted(p.name for p in out.iterdir() if ".staging-" in p.name)
        published = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
        events.append(f"syncfs {staged} published={published}")
        return real_syncfs(folder)

    monkeypatch.setattr(writer, "_syncfs", syncfs)
    monkeypatch.setattr(os, "fsync", lambda _fd: events.append("fsync"))
    write_sites(out, {"a": plan(x="1\n"), "b": plan(y="2\n")})
    assert events[0] == "syncfs ['.a.staging-new', '.b.staging-new'] published=[]"
    assert events[1:] == ["fsync", "fsync"]  # the folder, after each round of renames
    assert (out / "a" / "x").read_text() == "1\n" and (out / "b" / "y").read_text() == "2\n"


def test_without_syncfs_every_file_is_flushed(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "rendered"
    flushed: list[str] = []
    real = os.fsync

    def fsync(fd: int) -> None:
        flushed.append(str(Path(f"/proc/self/fd/{fd}").readlink()))
        real(fd)

    monkeypatch.setattr(writer, "_syncfs", lambda _folder: False)
    monkeypatch.setattr(os, "fsync", fsync)
    write_sites(out, {"a": plan(x="1\n", d__y="2\n")})
    files = [name for name in flushed if ".staging-" in name]
    assert sorted(Path(name).name for name in files) == [INDEX_FILE, "x", "y"]


def test_syncfs_failure_is_an_error_not_a_silent_success(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Why: since Linux 5.8 syncfs reports write-back errors; a -1 must not read as "durable".
    assert writer._syncfs(tmp_path) is True  # the real call, on this Linux machine

    class FailingLibc:
        @staticmethod
        def syncfs(_fd: int) -> int:
            ctypes.set_errno(errno.EIO)
            return -1

    monkeypatch.setattr(ctypes, "CDLL", lambda *_args, **_kwargs: FailingLibc())
    with pytest.raises(OSError) as info:
        writer._syncfs(tmp_path)
    assert info.value.errno == errno.EIO
