"""End-to-end: every core command and exit code through the real CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dlaas_gen import __version__
from dlaas_gen.cli import app
from tests.conftest import REPO


def run(runner: CliRunner, *args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_version(runner: CliRunner) -> None:
    result = run(runner, "--version")
    assert result.exit_code == 0 and result.stdout.strip() == f"dlaas-gen {__version__}"


@pytest.mark.usefixtures("repo_copy")
def test_render_check_passes_on_repository_copy(runner: CliRunner) -> None:
    result = run(runner, "render", "--check")
    assert result.exit_code == 0, result.output
    assert "up to date" in result.stdout


def test_render_check_detects_hand_edit_and_writes_nothing(
    runner: CliRunner, repo_copy: Path
) -> None:
    target = repo_copy / "rendered/demo/apps/helmrelease-demo.yaml"
    target.write_text(target.read_text() + "# edited\n")
    before = target.read_bytes()
    result = run(runner, "render", "--check")
    assert result.exit_code == 1
    assert "rendered/demo/apps/helmrelease-demo.yaml: error: stale" in result.stderr
    assert target.read_bytes() == before


def test_render_check_detects_site_change(runner: CliRunner, repo_copy: Path) -> None:
    site = repo_copy / "sites/demo.yaml"
    site.write_text(site.read_text().replace("capacity: 5Gi", "capacity: 6Gi"))
    result = run(runner, "render", "--check", "demo")
    assert result.exit_code == 1 and "stale" in result.stderr


def test_render_one_site_rewrites_it(runner: CliRunner, repo_copy: Path) -> None:
    site = repo_copy / "sites/demo.yaml"
    site.write_text(site.read_text().replace("capacity: 5Gi", "capacity: 6Gi"))
    result = run(runner, "render", "demo")
    assert result.exit_code == 0, result.output
    assert "rendered rendered/demo" in result.stdout
    assert "capacity: 6Gi" in (repo_copy / "rendered/demo/apps/helmrelease-demo.yaml").read_text()
    assert run(runner, "render", "--check").exit_code == 0


def test_invalid_site_prints_positions_and_writes_nothing(
    runner: CliRunner, repo_copy: Path
) -> None:
    site = repo_copy / "sites/demo.yaml"
    site.write_text(site.read_text().replace("namespace: demo-hub", "namespace: Demo\nnamespce: x"))
    before = {p: p.read_bytes() for p in (repo_copy / "rendered").rglob("*") if p.is_file()}
    result = run(runner, "render")
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert "sites/demo.yaml:4:12: error: namespace: 'Demo' is not a DNS-1123 label" in lines[0]
    assert lines[1].startswith(
        "sites/demo.yaml:5:1: error: namespce: unknown key; did you mean 'namespace'?"
    )
    assert "Traceback" not in result.output
    after = {p: p.read_bytes() for p in (repo_copy / "rendered").rglob("*") if p.is_file()}
    assert after == before


def test_foreign_file_needs_force(runner: CliRunner, repo_copy: Path) -> None:
    extra = repo_copy / "rendered/demo/apps/notes.yaml"
    extra.write_text("a: 1\n")
    site = repo_copy / "sites/demo.yaml"
    site.write_text(site.read_text().replace("capacity: 5Gi", "capacity: 6Gi"))
    result = run(runner, "render")
    assert result.exit_code == 1 and "notes.yaml" in result.stderr and "--force" in result.stderr
    assert extra.exists()
    assert run(runner, "render", "--force").exit_code == 0
    assert not extra.exists()


def test_removed_site_folder_is_pruned(runner: CliRunner, repo_copy: Path) -> None:
    (repo_copy / "sites/demo.yaml").unlink()
    assert run(runner, "render", "--check").exit_code == 1
    result = run(runner, "render")
    assert result.exit_code == 0 and "removed rendered/demo" in result.stdout
    assert not (repo_copy / "rendered/demo").exists()


@pytest.mark.usefixtures("repo_copy")
def test_unknown_site_is_usage_error(runner: CliRunner) -> None:
    result = run(runner, "render", "nope")
    assert result.exit_code == 2 and "no site 'nope'" in result.stderr


def test_missing_sites_dir_is_usage_error(runner: CliRunner, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = run(runner, "render")
    assert result.exit_code == 2 and "does not exist" in result.stderr


@pytest.mark.usefixtures("repo_copy")
def test_validate_default_and_explicit(runner: CliRunner) -> None:
    assert run(runner, "validate").exit_code == 0
    assert run(runner, "validate", "rendered/escape", "--kube-version", "1.30").exit_code == 0


def test_validate_reports_problems_in_all_formats(runner: CliRunner, repo_copy: Path) -> None:
    bad = repo_copy / "rendered/demo/apps/namespace-demo-hub.yaml"
    bad.write_text(bad.read_text().replace("metadata:", "metdata: {}\nmetadata:"))
    result = run(runner, "validate", "rendered/demo")
    assert result.exit_code == 1
    assert "rendered/demo/apps/namespace-demo-hub.yaml:3:1: error:" in result.stderr
    parsed = json.loads(run(runner, "validate", "rendered/demo", "--format", "json").stdout)
    assert parsed[0]["line"] == 3 and parsed[0]["rule"] == "k8s-schema"
    gitlab = json.loads(run(runner, "validate", "rendered/demo", "--format", "gitlab").stdout)
    assert gitlab[0]["location"] == {
        "path": "rendered/demo/apps/namespace-demo-hub.yaml",
        "lines": {"begin": 3},
    }
    parsable = run(runner, "validate", "rendered/demo", "--format", "parsable").stderr
    assert parsable.startswith("rendered/demo/apps/namespace-demo-hub.yaml:3:1: [error]")


def test_validate_invalid_yaml_and_missing_dir(runner: CliRunner, repo_copy: Path) -> None:
    (repo_copy / "rendered/demo/apps/broken.yaml").write_text("a: [1\n")
    result = run(runner, "validate", "rendered/demo")
    assert result.exit_code == 1 and "broken.yaml:2:1" in result.stderr
    assert run(runner, "validate", "nowhere").exit_code == 2


def test_schema_command_writes_file(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "s.json"
    result = run(runner, "schema", "--out", str(out))
    assert result.exit_code == 0
    assert json.loads(out.read_text())["title"] == "dlaas-gen site"
    assert out.read_text() == (REPO / "sites/site.schema.json").read_text()


def test_secrets_lists_references(runner: CliRunner, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sites").mkdir()
    (tmp_path / "sites/x.yaml").write_text(
        "singleuser: {image: {name: a/b, tag: '1'}}\n"
        "hub: {db: {type: external, url: {name: hub-db, key: url}}}\n"
    )
    result = run(runner, "secrets", "x")
    assert result.exit_code == 0
    assert result.stdout.startswith("jhub/hub-db key=url  # hub database URL")
    rows = json.loads(run(runner, "secrets", "x", "--format", "json").stdout)
    assert rows[0]["target"] == "HelmRelease valuesFrom -> hub.db.url"


def test_console_script_help_and_usage_error() -> None:
    exe = Path(sys.executable).parent / "dlaas-gen"
    done = subprocess.run([str(exe), "--help"], capture_output=True, text=True, check=False)
    assert done.returncode == 0 and "render" in done.stdout
    bad = subprocess.run(
        [str(exe), "render", "--nope"], capture_output=True, text=True, check=False
    )
    assert bad.returncode == 2


@pytest.mark.usefixtures("repo_copy")
def test_internal_error_exit_3(runner: CliRunner, monkeypatch) -> None:
    import dlaas_gen.pipeline as pipeline

    def boom(*_a, **_k):
        raise RuntimeError("bug")

    monkeypatch.setattr(pipeline, "render_sites", boom)
    result = runner.invoke(app, ["render"])
    assert result.exit_code == 3 and "internal error" in result.stderr
