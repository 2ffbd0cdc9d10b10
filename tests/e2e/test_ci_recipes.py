"""The CI recipes under ci/: parsed, and every dlaas-gen command in them run on a scratch repo.

Only the lines that talk to GitLab/GitHub (curl, gh) and the installs are skipped; they are
asserted to be there.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO

BIN = str(Path(sys.executable).parent)


def git(cwd: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org"}
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True)


@pytest.fixture
def merge_request(tmp_path: Path) -> Path:
    """A clone whose origin/main holds the sites, with one site changed and re-rendered."""
    origin = tmp_path / "origin"
    origin.mkdir()
    for folder in ("sites", "rendered"):
        shutil.copytree(REPO / folder, origin / folder)
    git(origin, "init", "--quiet", "-b", "main")
    git(origin, "add", ".")
    git(origin, "commit", "--quiet", "-m", "sites")
    work = tmp_path / "work"
    git(tmp_path, "clone", "--quiet", str(origin), str(work))
    git(work, "checkout", "--quiet", "-b", "bigger-homes")
    site = work / "sites/demo.yaml"
    site.write_text(site.read_text().replace("capacity: 5Gi", "capacity: 6Gi"))
    subprocess.run([f"{BIN}/dlaas-gen", "render"], cwd=work, check=True, capture_output=True)
    git(work, "commit", "--quiet", "-am", "bigger homes")
    return work


def run_lines(lines: list[str], cwd: Path, env: dict[str, str]) -> None:
    for line in lines:
        result = subprocess.run(["bash", "-euo", "pipefail", "-c", line], cwd=cwd, env=env,
                                capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, f"{line}\n{result.stdout}\n{result.stderr}"


def check_outputs(work: Path, report: str) -> None:
    assert json.loads((work / report).read_text()) == []
    diff = (work / "dlaas-gen-diff.md").read_text()
    assert "HelmRelease" in diff and "6Gi" in diff
    assert len(diff.encode()) <= 60000


def base_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CI_")}
    return {**env, "PATH": f"{BIN}:{env['PATH']}", "NO_COLOR": "1", **extra}


def test_gitlab_template(merge_request: Path) -> None:
    config = yaml.safe_load((REPO / "ci/gitlab-ci.yml").read_text())
    jobs = {k: v for k, v in config.items() if k.startswith("dlaas-gen:")}
    assert set(jobs) == {"dlaas-gen:render-check", "dlaas-gen:validate", "dlaas-gen:diff"}
    assert jobs["dlaas-gen:validate"]["artifacts"]["reports"]["codequality"] == "gl-code-quality-report.json"
    assert any("pip install" in line for line in config[".dlaas-gen"]["before_script"])
    lines = [line for job in jobs.values() for line in job["script"]]
    posting = [line for line in lines if line.startswith("curl ")]
    assert len(posting) == 1 and "merge_requests/$CI_MERGE_REQUEST_IID/notes" in posting[0]
    assert "body@dlaas-gen-diff.md" in posting[0]
    commands = [line for line in lines if not line.startswith("curl ")]
    assert any(line.startswith("dlaas-gen render --check") for line in commands)
    env = base_env(**config["variables"], CI_MERGE_REQUEST_TARGET_BRANCH_NAME="main",
                   CI_PIPELINE_SOURCE="merge_request_event")
    run_lines(commands, merge_request, env)
    check_outputs(merge_request, "gl-code-quality-report.json")


def test_github_workflow(merge_request: Path) -> None:
    workflow = yaml.safe_load((REPO / "ci/github-actions.yml").read_text())
    assert set(workflow[True]) == {"push", "pull_request"}  # PyYAML reads `on:` as True
    steps = workflow["jobs"]["check"]["steps"]
    runs = [s["run"] for s in steps if "run" in s]
    assert any("pip install" in r for r in runs)
    posting = [r for r in runs if r.startswith("gh pr comment")]
    assert len(posting) == 1 and "--body-file dlaas-gen-diff.md" in posting[0]
    assert any(s.get("uses", "").startswith("actions/upload-artifact") for s in steps)
    commands = [
        re.sub(r"\$\{\{ github\.base_ref \}\}", "main", r)
        for r in runs if "dlaas-gen " in r and not r.startswith(("gh ", "pip "))
    ]
    assert len(commands) == 3
    run_lines(commands, merge_request, base_env(**workflow["env"]))
    check_outputs(merge_request, "code-quality.json")


def test_validate_step_fails_the_job_on_problems(merge_request: Path) -> None:
    workflow = yaml.safe_load((REPO / "ci/github-actions.yml").read_text())
    step = next(s["run"] for s in workflow["jobs"]["check"]["steps"] if "validate" in s.get("run", ""))
    bad = next((merge_request / "rendered/demo/apps").glob("namespace-*.yaml"))
    bad.write_text(bad.read_text().replace("metadata:", "metdata: {}\nmetadata:"))
    result = subprocess.run(["bash", "-euo", "pipefail", "-c", step], cwd=merge_request,
                            env=base_env(), capture_output=True, text=True, timeout=300)
    assert result.returncode == 1
    assert json.loads((merge_request / "code-quality.json").read_text())[0]["severity"] == "major"
    assert "[error]" in result.stderr
