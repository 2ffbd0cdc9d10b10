"""The pre-commit hooks, run by the real pre-commit from a site repository.

Why: the hooks are `language: python`, so pre-commit builds its own venv from this repository
(a clone of HEAD plus the working-tree hook file, so no network is used for the source; pip
fetches the dependencies from the package index). One `try-repo` run installs once and both
hooks run in it; pre-commit's cache is kept per test session.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml as pyyaml  # noqa: F401  (pre-commit depends on PyYAML; fail early if missing)

from tests.conftest import REPO

PRE_COMMIT = [sys.executable, "-m", "pre_commit"]
HOOKS = ["dlaas-gen-render-check", "dlaas-gen-validate"]


def git(cwd: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org"}
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True,
                          capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def hook_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = tmp_path_factory.mktemp("hook-source") / "dlaas-gen"
    git(REPO, "clone", "--quiet", "--no-hardlinks", str(REPO), str(source))
    shutil.copy(REPO / ".pre-commit-hooks.yaml", source / ".pre-commit-hooks.yaml")
    git(source, "add", ".pre-commit-hooks.yaml")
    git(source, "commit", "--quiet", "--allow-empty", "-m", "hooks under test")
    return source


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pre-commit-home")


def site_repo(tmp_path: Path, source: Path) -> Path:
    repo = tmp_path / "sites-repo"
    repo.mkdir()
    for folder in ("sites", "rendered"):
        shutil.copytree(source / folder, repo / folder)
    git(repo, "init", "--quiet", "-b", "main")
    git(repo, "add", ".")
    git(repo, "commit", "--quiet", "-m", "sites")
    return repo


def try_repo(repo: Path, source: Path, home: Path, hook: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PRE_COMMIT_HOME": str(home), "NO_COLOR": "1"}
    env.pop("VIRTUAL_ENV", None)
    return subprocess.run(
        [*PRE_COMMIT, "try-repo", str(source), hook, "--all-files", "--color", "never"],
        cwd=repo, env=env, capture_output=True, text=True, timeout=600,
    )


def test_hook_file_lists_both_hooks() -> None:
    import yaml

    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    assert [h["id"] for h in hooks] == HOOKS
    for hook in hooks:
        assert hook["entry"].startswith("dlaas-gen ") and hook["pass_filenames"] is False


@pytest.mark.slow
@pytest.mark.index  # pre-commit builds the hook venv from the package index
def test_hooks_pass_then_catch_a_hand_edit(
    tmp_path: Path, hook_source: Path, pre_commit_home: Path
) -> None:
    repo = site_repo(tmp_path, hook_source)
    for hook in HOOKS:
        result = try_repo(repo, hook_source, pre_commit_home, hook)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "Passed" in result.stdout
    release = next((repo / "rendered/demo/apps").glob("helmrelease-*.yaml"))
    release.write_text(release.read_text() + "# edited by hand\n")
    namespace = next((repo / "rendered/demo/apps").glob("namespace-*.yaml"))
    namespace.write_text(namespace.read_text().replace("metadata:", "metdata: {}\nmetadata:"))
    stale = try_repo(repo, hook_source, pre_commit_home, "dlaas-gen-render-check")
    assert stale.returncode == 1 and "Failed" in stale.stdout
    assert f"{release.relative_to(repo)}:" in stale.stdout and "[error]" in stale.stdout
    invalid = try_repo(repo, hook_source, pre_commit_home, "dlaas-gen-validate")
    assert (
        invalid.returncode == 1 and f"{namespace.relative_to(repo)}:3:1: [error]" in invalid.stdout
    )
