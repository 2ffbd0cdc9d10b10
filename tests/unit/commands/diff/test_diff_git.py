from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from dlaas_gen.commands.diff import BASE_SHA_ENV, diff_dirs, diff_git, render_json
from dlaas_gen.errors import UsageError
from tests.support import diff_fixtures as fx

assert shutil.which("git"), "git mode is tested with the real git; install git"

GIT_ENV = {
    "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
    "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org",
    "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
}


def git(cwd: Path, *args: str) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, **GIT_ENV}, check=True)
    return proc.stdout.strip()


def site_files(files):
    return {f"site-a/{k}": v for k, v in files.items()}


@pytest.fixture()
def repo(tmp_path):
    """main: old tree (commit A) then an unrelated change (C); feature: branch from A."""
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    fx.write_tree(root / "rendered", site_files(fx.old_tree()))
    (root / "README").write_text("x\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "A")
    git(root, "checkout", "-q", "-b", "feature")
    git(root, "checkout", "-q", "main")
    later = fx.old_tree()
    later["apps/configmap-main-only.yaml"] = [fx.cm("main-only", "jhub", {"a": "1"})]
    fx.write_tree(root / "rendered", site_files(later))
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "C")
    git(root, "checkout", "-q", "feature")
    shutil.rmtree(root / "rendered")
    fx.write_tree(root / "rendered", site_files(fx.new_tree()))
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "B")
    return root


def test_git_mode_matches_folder_mode(repo, tmp_path):
    result = diff_git("main", Path("rendered"), cwd=repo, env={})
    old, new = fx.write_pair(tmp_path / "dirs")
    folders = diff_dirs(old, new)
    def body(text):
        return text.splitlines()[2:]

    assert [(c.status, c.key, body(c.diff), body(c.values_diff)) for c in result.changes] == [
        (c.status, c.key, body(c.diff), body(c.values_diff)) for c in folders.changes
    ]
    assert {c.site for c in result.changes} == {"site-a"}
    # the change made on main after the merge-base does not show up
    assert not any(c.key.name == "main-only" for c in result.changes)
    assert result.old_label == "main:rendered"
    assert "merge-base of main and HEAD" in result.notes[0]
    for value in fx.SECRET_VALUES:
        assert value not in render_json(result)


def test_working_tree_changes_are_included(repo):
    fx.write_tree(repo / "rendered", {"site-a/apps/configmap-wip.yaml": [fx.cm("wip", "n", {})]})
    result = diff_git("main", Path("rendered"), cwd=repo, env={})
    assert any(c.key.name == "wip" and c.status == "added" for c in result.changes)


def test_from_subdirectory(repo):
    sub = repo / "rendered" / "site-a"
    result = diff_git("main", Path(), cwd=sub, env={})
    assert result.changes and {c.site for c in result.changes} == {""}


def test_ci_base_sha_wins(repo):
    head = git(repo, "rev-parse", "HEAD")
    result = diff_git("does-not-exist", Path("rendered"), cwd=repo, env={BASE_SHA_ENV: head})
    assert result.changes == []
    assert BASE_SHA_ENV in result.notes[0]


def test_ci_base_sha_unknown(repo):
    with pytest.raises(UsageError, match=f"{BASE_SHA_ENV}=.* is not a commit"):
        diff_git(None, Path("rendered"), cwd=repo, env={BASE_SHA_ENV: "0" * 40})


def test_missing_base_ref(repo):
    with pytest.raises(UsageError, match="base ref 'origin/nope' is not a commit.*git fetch"):
        diff_git("origin/nope", Path("rendered"), cwd=repo, env={})


def test_no_ref_at_all(repo):
    with pytest.raises(UsageError, match="give --base REF"):
        diff_git(None, Path("rendered"), cwd=repo, env={})


def test_not_a_repository(tmp_path):
    (tmp_path / "rendered").mkdir()
    with pytest.raises(UsageError, match="not inside a git repository"):
        diff_git("main", Path("rendered"), cwd=tmp_path, env={"GIT_CEILING_DIRECTORIES": ""})


def test_missing_working_tree_folder(repo):
    with pytest.raises(UsageError, match="new tree .*nothing-here does not exist"):
        diff_git("main", Path("nothing-here"), cwd=repo, env={})


def test_folder_absent_at_base(repo):
    (repo / "fresh").mkdir()
    fx.write_tree(repo / "fresh", {"apps/cm.yaml": [fx.cm("c", "n", {})]})
    result = diff_git("main", Path("fresh"), cwd=repo, env={})
    assert [c.status for c in result.changes] == ["added"]
    assert any("does not exist at" in n for n in result.notes)


def test_invalid_yaml_at_base(repo):
    git(repo, "checkout", "-q", "main")
    (repo / "rendered" / "site-a" / "apps" / "broken.yaml").write_text("a: [1\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "broken")
    git(repo, "checkout", "-q", "feature")
    with pytest.raises(UsageError, match=r"invalid YAML in the old side: main:rendered/"
                                         r"site-a/apps/broken.yaml:\d+"):
        diff_git("main", Path("rendered"), cwd=repo, env={BASE_SHA_ENV: "main"})


def test_invalid_yaml_in_working_tree(repo):
    (repo / "rendered" / "site-a" / "apps" / "broken.yaml").write_text("a: [1\n")
    with pytest.raises(UsageError, match="invalid YAML in the new side"):
        diff_git("main", Path("rendered"), cwd=repo, env={})


def test_symlinks_and_hidden_files_ignored_at_base(repo):
    git(repo, "checkout", "-q", "main")
    (repo / "rendered" / "site-a" / "link.yaml").symlink_to("apps")
    (repo / "rendered" / ".hidden.yaml").write_text("not: [valid\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "links")
    result = diff_git("main", Path("rendered"), cwd=repo, env={BASE_SHA_ENV: "main"})
    assert result.changes == [] or all(c.key.name != "link" for c in result.changes)


def test_shallow_clone_without_base(repo, tmp_path):
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--depth", "1", "--branch", "feature",
        repo.as_uri(), str(clone))
    with pytest.raises(UsageError, match="shallow clone: run `git fetch --unshallow`"):
        diff_git("origin/main", Path("rendered"), cwd=clone, env={})


def test_shallow_clone_without_merge_base(repo, tmp_path):
    clone = tmp_path / "clone2"
    git(tmp_path, "clone", "-q", "--depth", "1", "--no-single-branch", "--branch", "feature",
        repo.as_uri(), str(clone))
    with pytest.raises(UsageError, match="no merge-base of origin/main and HEAD.*GIT_DEPTH"):
        diff_git("origin/main", Path("rendered"), cwd=clone, env={})
    git(clone, "fetch", "-q", "--unshallow")
    assert diff_git("origin/main", Path("rendered"), cwd=clone, env={}).changes
