"""The CI recipes under ci/: parsed, and every dlaas-gen command in them run on a scratch repo.

Only the lines that talk to GitLab/GitHub (curl, gh) and the installs are skipped; they are
asserted to be there. The image jobs' shell lines run as written, with stand-ins for the
registry tools (skopeo, buildah, docker) that keep the registry in a folder and log each call:
what is asserted is the recipes' own logic (which contexts are built, in which order).
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

# Each test runs a recipe's commands as real processes on a scratch repository (seconds each).
pytestmark = pytest.mark.slow


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
    assert set(jobs) == {"dlaas-gen:render-check", "dlaas-gen:validate", "dlaas-gen:diff",
                         *IMAGE_JOBS}
    jobs = {k: v for k, v in jobs.items() if k not in IMAGE_JOBS}  # tested below
    assert (
        jobs["dlaas-gen:validate"]["artifacts"]["reports"]["codequality"]
        == "gl-code-quality-report.json"
    )
    assert any("pip install" in line for line in config[".dlaas-gen"]["before_script"])
    lines = [line for job in jobs.values() for line in job["script"]]
    posting = [line for line in lines if line.startswith("curl ")]
    assert len(posting) == 1 and "merge_requests/$CI_MERGE_REQUEST_IID/notes" in posting[0]
    assert "body@dlaas-gen-diff.md" in posting[0]
    commands = [line for line in lines if not line.startswith("curl ")]
    assert any(line.startswith("dlaas-gen render --check") for line in commands)
    env = base_env(
        **config["variables"],
        CI_MERGE_REQUEST_TARGET_BRANCH_NAME="main",
        CI_PIPELINE_SOURCE="merge_request_event",
    )
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
        for r in runs
        if "dlaas-gen " in r and not r.startswith(("gh ", "pip "))
    ]
    assert len(commands) == 3
    run_lines(commands, merge_request, base_env(**workflow["env"]))
    check_outputs(merge_request, "code-quality.json")


def test_validate_step_fails_the_job_on_problems(merge_request: Path) -> None:
    workflow = yaml.safe_load((REPO / "ci/github-actions.yml").read_text())
    step = next(
        s["run"] for s in workflow["jobs"]["check"]["steps"] if "validate" in s.get("run", "")
    )
    bad = next((merge_request / "rendered/demo/apps").glob("namespace-*.yaml"))
    bad.write_text(bad.read_text().replace("metadata:", "metdata: {}\nmetadata:"))
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", step],
        cwd=merge_request,
        env=base_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 1
    assert json.loads((merge_request / "code-quality.json").read_text())[0]["severity"] == "major"
    assert "[error]" in result.stderr


IMAGE_JOBS = {"dlaas-gen:images-plan", "dlaas-gen:images-missing", "dlaas-gen:images-build"}

#: Stand-ins for the registry tools: the registry is a folder of pushed references.
FAKE_TOOLS = {
    "skopeo": """#!/bin/bash
set -eu
ref() { echo "$1" | tr '/:' '__'; }
case "$1" in
  login) cat > /dev/null; echo "skopeo login $*" >> "$TOOL_LOG" ;;
  inspect) image="${@: -1}"; test -e "$REGISTRY/$(ref "${image#docker://}")" ;;
  *) exit 2 ;;
esac
""",
    "buildah": """#!/bin/bash
set -eu
ref() { echo "$1" | tr '/:' '__'; }
case "$1" in
  login) cat > /dev/null; echo "login" >> "$TOOL_LOG" ;;
  build) image="$4"; context="$5"; test "$2" = --layers -a "$3" = --tag
         test -f "$context/Dockerfile"
         echo "build $image FROM $(sed -n 's/^FROM //p' "$context/Dockerfile")" >> "$TOOL_LOG"
         touch "$LOCAL/$(ref "$image")" ;;
  push) test -e "$LOCAL/$(ref "$2")"; touch "$REGISTRY/$(ref "$2")"
        echo "push $2" >> "$TOOL_LOG" ;;
  *) exit 2 ;;
esac
""",
    "docker": """#!/bin/bash
set -eu
test "$1 $2 $3" = "buildx imagetools inspect"
test -e "$REGISTRY/$(echo "$4" | tr '/:' '__')"
""",
}


@pytest.fixture
def registry(tmp_path: Path) -> dict[str, str]:
    """Environment with the stand-in tools first on PATH, an empty registry and a call log."""
    tools = tmp_path / "tools"
    tools.mkdir()
    for name, text in FAKE_TOOLS.items():
        (tools / name).write_text(text)
        (tools / name).chmod(0o755)
    for folder in ("registry", "local"):
        (tmp_path / folder).mkdir()
    env = base_env(
        REGISTRY=str(tmp_path / "registry"),
        LOCAL=str(tmp_path / "local"),
        TOOL_LOG=str(tmp_path / "tools.log"),
    )
    env["PATH"] = f"{tools}:{env['PATH']}"
    return env


def calls(env: dict[str, str]) -> list[str]:
    log = Path(env["TOOL_LOG"])
    lines = (
        [line for line in log.read_text().splitlines() if "login" not in line]
        if log.exists()
        else []
    )
    log.write_text("")
    return lines


def escape_images(work: Path) -> dict[str, str]:
    out = subprocess.run(
        [f"{BIN}/dlaas-gen", "images", "escape"],
        cwd=work,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return {line.split()[0].rsplit("/", 1)[1]: line.split()[1] for line in out.splitlines()}


def test_gitlab_image_jobs_build_what_is_missing_parents_first(
    merge_request: Path, registry: dict[str, str]
) -> None:
    config = yaml.safe_load((REPO / "ci/gitlab-ci.yml").read_text())
    plan, missing, build = (config[f"dlaas-gen:images-{n}"] for n in ("plan", "missing", "build"))
    assert plan["extends"] == ".dlaas-gen" and plan["artifacts"]["paths"] == [
        "dlaas-gen-images.txt"
    ]
    assert missing["needs"] == ["dlaas-gen:images-plan", "dlaas-gen:render-check"]
    assert build["needs"] == ["dlaas-gen:images-missing"]
    assert missing["image"]["name"].startswith("quay.io/skopeo/stable:")
    assert build["image"]["name"] == "$DLAAS_GEN_BUILDAH_IMAGE"
    assert config["variables"]["DLAAS_GEN_BUILDAH_IMAGE"].startswith("quay.io/buildah/stable:")
    assert build["variables"] == {
        "STORAGE_DRIVER": "vfs",
        "BUILDAH_ISOLATION": "chroot",
        "BUILDAH_FORMAT": "docker",
    }
    env = {**registry, **config["variables"], **build["variables"]}
    lines = [*plan["script"], *missing["script"], *build["script"]]
    images = escape_images(merge_request)
    assert set(images) == {"minimal", "root"}

    run_lines(lines, merge_request, env)
    assert calls(env) == [
        f"build {images['minimal']} FROM "
        f"quay.io/jupyter/docker-stacks-foundation:python-3.12@sha256:{'0' * 64}",
        f"push {images['minimal']}",
        f"build {images['root']} FROM {images['minimal']}",
        f"push {images['root']}",
    ]
    run_lines(lines, merge_request, env)  # everything is in the registry: nothing is built
    assert calls(env) == []

    site = merge_request / "sites/escape.yaml"
    site.write_text(site.read_text().replace("conda: [root=6.32.8]", "conda: [root=6.32.10]"))
    subprocess.run(
        [f"{BIN}/dlaas-gen", "render"], cwd=merge_request, check=True, capture_output=True
    )
    changed = escape_images(merge_request)
    assert changed["minimal"] == images["minimal"] and changed["root"] != images["root"]
    run_lines(lines, merge_request, env)
    assert calls(env) == [
        f"build {changed['root']} FROM {images['minimal']}",
        f"push {changed['root']}",
    ]


def test_github_image_jobs_build_missing_contexts_level_by_level(
    merge_request: Path, registry: dict[str, str]
) -> None:
    workflow = yaml.safe_load((REPO / "ci/github-actions.yml").read_text())
    jobs = workflow["jobs"]
    assert workflow["permissions"]["packages"] == "write"
    assert jobs["images-plan"]["needs"] == "check"
    for level in range(3):
        job = jobs[f"images-level-{level}"]
        assert (
            job["strategy"]["matrix"]["include"]
            == f"${{{{ fromJSON(needs.images-plan.outputs.level{level}) }}}}"
        )
        assert f"needs.images-plan.outputs.level{level} != '[]'" in job["if"]
        if level:
            assert job["needs"] == ["images-plan", f"images-level-{level - 1}"]
            assert "!failure()" in job["if"]  # runs when the level before had nothing to build
        [push] = [
            s for s in job["steps"] if s.get("uses", "").startswith("docker/build-push-action@")
        ]
        assert push["with"] == {
            "context": "${{ matrix.context }}",
            "tags": "${{ matrix.image }}",
            "push": True,
        }
    [step] = [s for s in jobs["images-plan"]["steps"] if s.get("id") == "plan"]
    images = escape_images(merge_request)

    def plan_outputs() -> dict[str, list[dict[str, object]]]:
        output = merge_request / "github-output"
        output.write_text("")
        run_lines([step["run"]], merge_request, {**registry, "GITHUB_OUTPUT": str(output)})
        return {
            k: json.loads(v)
            for k, v in (line.split("=", 1) for line in output.read_text().splitlines())
        }

    outputs = plan_outputs()
    assert [e["image"] for e in outputs["level0"]] == [images["minimal"]]
    assert [e["image"] for e in outputs["level1"]] == [images["root"]]
    assert outputs["level2"] == []
    assert outputs["level1"][0]["context"] == "rendered/escape/images/root"
    assert (merge_request / outputs["level1"][0]["context"] / "Dockerfile").is_file()
    (Path(registry["REGISTRY"]) / images["minimal"].replace("/", "_").replace(":", "_")).touch()
    outputs = plan_outputs()
    assert outputs["level0"] == [] and [e["image"] for e in outputs["level1"]] == [images["root"]]
