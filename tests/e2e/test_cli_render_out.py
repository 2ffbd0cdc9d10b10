"""`render --out DIR`: the Flux Kustomizations name DIR as Flux reads it, or the render refuses."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from dlaas_gen.cli import app


def run(runner: CliRunner, *args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def _paths(folder: Path) -> list[str]:
    return sorted(line.strip() for f in folder.glob("flux/kustomization-*.yaml")
                  for line in f.read_text().splitlines() if line.strip().startswith("path:"))


def test_out_inside_the_repository_gives_its_flux_path(runner: CliRunner, repo_copy: Path) -> None:
    result = run(runner, "render", "demo", "--out", "ops/rendered")
    assert result.exit_code == 0, result.output
    assert _paths(repo_copy / "ops/rendered/demo") == ['path: "./ops/rendered/demo/apps"']


def test_default_out_keeps_the_default_prefix(runner: CliRunner, repo_copy: Path) -> None:
    assert run(runner, "render", "--check").exit_code == 0
    assert _paths(repo_copy / "rendered/demo") == ['path: "./rendered/demo/apps"']


def test_explicit_prefix_that_disagrees_is_refused_at_its_line(
    runner: CliRunner, repo_copy: Path
) -> None:
    site = repo_copy / "sites/demo.yaml"
    text = site.read_text()
    site.write_text(text + "gitops:\n  path_prefix: ./deploy\n")
    line = text.count("\n") + 2
    result = run(runner, "render", "demo", "--out", "ops/rendered")
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"sites/demo.yaml:{line}:16: error: gitops.path_prefix is './deploy' but --out "
        "ops/rendered is './ops/rendered' in the repository: Flux would read another folder; "
        "render to the folder path_prefix names, or change path_prefix [flux-path]"
    )
    assert not (repo_copy / "ops").exists()
    # Rendering to the folder path_prefix names, or outside the repository, keeps path_prefix.
    assert run(runner, "render", "demo", "--out", "deploy").exit_code == 0
    assert _paths(repo_copy / "deploy/demo") == ['path: "./deploy/demo/apps"']


@pytest.mark.usefixtures("repo_copy")
def test_out_outside_the_repository_needs_a_prefix(
    runner: CliRunner, tmp_path_factory
) -> None:
    outside = tmp_path_factory.mktemp("elsewhere") / "out"
    result = run(runner, "render", "demo", "--out", str(outside))
    assert result.exit_code == 1
    assert "is outside the repository" in result.stderr and "[flux-path]" in result.stderr
    assert result.stderr.startswith("sites/demo.yaml:")
    assert not outside.exists()
