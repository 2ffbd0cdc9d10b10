"""Path safety: nothing outside ``rendered/<site>/`` is written or deleted, whatever the input.

Site names, configured paths, symlinks inside rendered/ and a symlinked site folder are tried
through the CLI; the whole work folder outside the site folder is compared before and after.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dlaas_gen.cli import app
from dlaas_gen.render_lock import RENDER_LOCK_FILE
from dlaas_gen.writer import INDEX_FILE
from tests.conftest import FIXTURES, write_site

MINIMAL = (FIXTURES / "sites" / "minimal.yaml").read_text()


def state(root: Path, skip: Path | None = None) -> dict[str, object]:
    """Every entry under `root` (symlinks as their target), except `skip` and the lock file."""
    found: dict[str, object] = {}
    for dirpath, dirs, files in os.walk(root, followlinks=False):
        for name in dirs + files:
            path = Path(dirpath) / name
            if (skip and (path == skip or skip in path.parents)) or name == RENDER_LOCK_FILE:
                continue
            rel = str(path.relative_to(root))
            found[rel] = (f"-> {path.readlink()}" if path.is_symlink()
                          else path.read_bytes() if path.is_file() else "dir")
    return found


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    write_site(tmp_path / "sites", "s", MINIMAL)
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "precious.yaml").write_text("keep: me\n")
    (tmp_path / "rendered").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


def render(*args: str) -> object:
    return CliRunner().invoke(app, ["render", "--sites-dir", "sites", "--out", "rendered", *args])


@pytest.mark.parametrize("name", ["../victim/x", "/etc/passwd", "..", "s/../../victim"])
def test_site_names_cannot_escape(work: Path, name: str) -> None:
    before = state(work)
    result = render(name)
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert state(work) == before


@pytest.mark.parametrize("file_name", ["..yaml", "...yaml", "Evil_Name.yaml", "a b.yaml"])
def test_odd_site_file_names_write_nothing_outside(work: Path, file_name: str) -> None:
    (work / "sites" / file_name).write_text(MINIMAL)
    before = state(work, skip=work / "rendered")
    result = render()
    assert result.exit_code in (0, 1) and "Traceback" not in result.output
    assert state(work, skip=work / "rendered") == before
    assert sorted(p.name for p in (work / "rendered").iterdir() if p.name != RENDER_LOCK_FILE) in (
        [],
        ["s"],
    )


@pytest.mark.parametrize(
    "extra",
    [
        "gitops:\n  path_prefix: ./../../victim\n",
        "eos:\n  host_mount_root: /../../victim\n"
        "  instances: [{name: x, mgm: a.b, remote_mount_dir: /eos/x/}]\n",
        "namespace: ../victim\n",
        "chart:\n  release_name: ../../victim\n",
    ],
)
def test_configured_paths_cannot_escape(work: Path, extra: str) -> None:
    write_site(work / "sites", "s", MINIMAL + extra)
    before = state(work, skip=work / "rendered" / "s")
    result = render()
    assert result.exit_code in (0, 1) and "Traceback" not in result.output
    assert state(work, skip=work / "rendered" / "s") == before


def test_symlinks_inside_rendered_are_not_followed(work: Path) -> None:
    assert render().exit_code == 0
    site = work / "rendered" / "s"
    (site / "apps" / "linked.yaml").symlink_to(work / "victim" / "precious.yaml")
    (site / "linkdir").symlink_to(work / "victim")
    before = state(work, skip=site)
    result = render()
    assert result.exit_code == 1 and "--force" in result.output
    assert (site / "linkdir").is_symlink()  # not deleted silently
    assert render("--force").exit_code == 0
    assert not (site / "linkdir").exists() and not (site / "apps" / "linked.yaml").exists()
    assert state(work, skip=site) == before  # the targets are untouched


def test_symlinked_site_folder_is_replaced_not_followed(work: Path) -> None:
    (work / "rendered" / "s").symlink_to(work / "victim")
    before = state(work / "victim")
    result = render()
    assert result.exit_code == 1 and "rendered/s" in result.output
    assert render("--force").exit_code == 0
    assert (
        not (work / "rendered" / "s").is_symlink()
        and (work / "rendered" / "s" / INDEX_FILE).is_file()
    )
    assert state(work / "victim") == before


def test_planted_staging_symlinks_are_removed_not_followed(work: Path) -> None:
    for name in (".s.new", ".s.old", f".s.staging-{os.getpid()}", ".s.staging-1"):
        (work / "rendered" / name).symlink_to(work / "victim")
    before = state(work / "victim")
    result = render()
    assert "Traceback" not in result.output
    if result.exit_code == 1:  # the .new link became rendered/s: refused as foreign, then forced
        assert render("--force").exit_code == 0
    assert state(work / "victim") == before
    assert sorted(p.name for p in (work / "rendered").iterdir()) == ["s"]


def test_foreign_file_is_kept_until_force(work: Path) -> None:
    assert render().exit_code == 0
    mine = work / "rendered" / "s" / "apps" / "mine.yaml"
    mine.write_text("x: 1\n")
    write_site(work / "sites", "s", MINIMAL + "namespace: other\n")
    result = render()
    assert result.exit_code == 1 and "not written by dlaas-gen" in result.output
    assert mine.read_text() == "x: 1\n"
    assert render("--force").exit_code == 0 and not mine.exists()


def test_orphan_folder_without_index_is_never_removed(work: Path) -> None:
    assert render().exit_code == 0
    hand = work / "rendered" / "handmade"
    hand.mkdir()
    (hand / "a.yaml").write_text("a: 1\n")
    shutil.copytree(work / "rendered" / "s", work / "rendered" / "gone")
    (work / "rendered" / "gone" / "extra.yaml").write_text("mine: 1\n")
    assert render().exit_code == 0
    assert (hand / "a.yaml").exists()
    assert (work / "rendered" / "gone" / "extra.yaml").exists()  # foreign file: folder kept
