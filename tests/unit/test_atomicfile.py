"""atomicfile: a replaced file is the old one or the new one, with the mode a user expects."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from dlaas_gen import atomicfile


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_file_gets_the_mode_of_a_file_the_user_creates(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        atomicfile.replace_file(tmp_path / "lock.yaml", b"a: 1\n")
    finally:
        os.umask(old)
    assert (tmp_path / "lock.yaml").read_bytes() == b"a: 1\n"
    assert mode(tmp_path / "lock.yaml") == 0o640  # not mkstemp's 0600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lock.yaml"]


def test_a_rewritten_file_keeps_the_mode_of_the_one_it_replaces(tmp_path: Path) -> None:
    target = tmp_path / "release.yaml"
    target.write_text("old\n")
    target.chmod(0o604)
    atomicfile.replace_file(target, b"new\n", like=target)
    assert target.read_text() == "new\n" and mode(target) == 0o604


def test_a_failed_write_leaves_the_old_file_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "origins.yaml"
    target.write_text("old\n")

    def full_disk(_fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(OSError, match="No space"):
        atomicfile.replace_file(target, b"new\n")
    assert target.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["origins.yaml"]


def test_a_cache_entry_is_private_and_a_read_only_folder_is_no_error(tmp_path: Path) -> None:
    entry = tmp_path / "cache" / "schemas" / "abc"
    assert atomicfile.store_entry(entry, b"data")
    assert entry.read_bytes() == b"data"
    assert mode(entry) == 0o600 and mode(entry.parent) == 0o700
    if os.geteuid() == 0:
        blocked = tmp_path / "file-not-folder"
        blocked.write_text("")
        assert not atomicfile.store_entry(blocked / "entry", b"data")  # root ignores modes
    else:
        entry.parent.chmod(0o500)
        try:
            assert not atomicfile.store_entry(entry.parent / "other", b"data")
        finally:
            entry.parent.chmod(0o700)
