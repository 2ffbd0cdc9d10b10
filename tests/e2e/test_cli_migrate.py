"""End-to-end: `dlaas-gen migrate` through the typer app (exit codes, formats, writing)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dlaas_gen.cli import app

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "flux_v1"


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(FIXTURES / "shared_repos" / "in", tmp_path / "clusters")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _run(*args: str):
    return CliRunner().invoke(app, ["migrate", *args])


def test_dry_run_prints_changes_and_exits_1(tree: Path) -> None:
    before = (tree / "clusters/team-a/redis.yaml").read_text()
    res = _run("clusters", "--assume-helm3")
    assert res.exit_code == 1, res.output
    assert res.output.startswith("clusters/team-a/redis.yaml:1: HelmRelease team-a/redis: "
                                 "apiVersion helm.fluxcd.io/v1 → helm.toolkit.fluxcd.io/v2\n")
    assert "2 file(s) would change" in res.output
    assert (tree / "clusters/team-a/redis.yaml").read_text() == before


def test_write_then_idempotent(tree: Path) -> None:
    assert _run("clusters", "--assume-helm3", "--write").exit_code == 0
    text = (tree / "clusters/team-b/releases.yaml").read_text()
    assert "releaseName: team-b-ingress" in text
    again = _run("clusters", "--assume-helm3")
    assert again.exit_code == 0, again.output
    assert "0 file(s) would change" in again.output


def test_out_writes_a_copy(tree: Path) -> None:
    res = _run("clusters", "--assume-helm3", "--out", "migrated")
    assert res.exit_code == 0, res.output
    expected = FIXTURES / "shared_repos" / "out"
    for path in expected.rglob("*.yaml"):
        assert (tree / "migrated" / path.relative_to(expected)).read_bytes() == path.read_bytes()


@pytest.mark.usefixtures("tree")
def test_scan_lists_objects_with_plans() -> None:
    res = _run("--scan", "clusters", "--assume-helm3")
    assert res.exit_code == 1
    lines = res.output.splitlines()
    assert lines[0] == ("clusters/team-a/redis.yaml:1: HelmRelease team-a/redis: "
                        "helm.fluxcd.io/v1 -> helm.toolkit.fluxcd.io/v2: chart redis from "
                        "HelmRepository charts-bitnami-com")
    assert len([ln for ln in lines if "->" in ln]) == 3


def test_helm2_needs_manual_step_without_assume(tree: Path) -> None:
    redis = tree / "clusters/team-a/redis.yaml"
    redis.write_text(redis.read_text().replace("  helmVersion: v3\n", ""))
    res = _run("clusters", "--write")
    assert res.exit_code == 1
    assert "Manual steps:" in res.output and "helm-2to3" in res.output
    assert "helm.fluxcd.io/v1" in (tree / "clusters/team-a/redis.yaml").read_text()


@pytest.mark.usefixtures("tree")
def test_json_format() -> None:
    res = _run("clusters", "--assume-helm3", "--format", "json")
    data = json.loads(res.output)
    assert data["exit_code"] == 1 == res.exit_code
    assert {f["path"] for f in data["files"]} == {"clusters/team-a/redis.yaml",
                                                  "clusters/team-b/releases.yaml"}
    assert all({"path", "line", "level", "message", "obj"} <= set(f) for f in data["findings"])


def test_default_namespace_option(tree: Path) -> None:
    (tree / "hr.yaml").write_text("apiVersion: helm.fluxcd.io/v1\nkind: HelmRelease\nmetadata:\n"
                                  "  name: app\nspec:\n  helmVersion: v3\n  chart:\n"
                                  "    repository: https://c.example.com\n    name: app\n")
    res = _run("hr.yaml", "--default-namespace", "ops")
    assert "releaseName: ops-app" in res.output
    assert "assumed ops (--default-namespace)" in res.output


@pytest.mark.parametrize("args", [["nope"], ["clusters", "--write", "--out", "x"], [],
                                  ["--scan", "clusters", "--write"]])
@pytest.mark.usefixtures("tree")
def test_usage_errors_exit_2(args: list[str]) -> None:
    assert _run(*args).exit_code == 2


def test_parse_error_exit_1_others_processed(tree: Path) -> None:
    (tree / "clusters/broken.yaml").write_text("apiVersion: helm.fluxcd.io/v1\na: [\n")
    res = _run("clusters", "--assume-helm3", "--write")
    assert res.exit_code == 1
    assert "clusters/broken.yaml:3: error: invalid YAML" in res.output
    assert "helm.toolkit.fluxcd.io/v2" in (tree / "clusters/team-a/redis.yaml").read_text()


def test_parse_error_without_flux_api_is_a_warning(tree: Path) -> None:
    (tree / "clusters/values.yaml").write_text("a: [\n")
    res = _run("clusters", "--assume-helm3", "--write")
    assert res.exit_code == 0, res.output
    assert "clusters/values.yaml:2: warning: invalid YAML" in res.output
    assert (tree / "clusters/values.yaml").read_text() == "a: [\n"


def test_write_with_manual_steps_exits_1_after_writing(tree: Path) -> None:
    redis = tree / "clusters/team-a/redis.yaml"
    redis.write_text(redis.read_text().replace("  helmVersion: v3\n", ""))
    res = _run("clusters", "--write")
    assert res.exit_code == 1
    assert "Manual steps:" in res.output
    assert "helm.toolkit.fluxcd.io/v2" in (tree / "clusters/team-b/releases.yaml").read_text()
    assert "helm.fluxcd.io/v1" in redis.read_text()


def test_unreadable_file_exits_2(tree: Path) -> None:
    (tree / "clusters/gone.yaml").symlink_to(tree / "nowhere.yaml")
    res = _run("clusters", "--assume-helm3", "--write")
    assert res.exit_code == 2, res.output
    assert "clusters/gone.yaml: error: cannot read" in res.output
    assert "helm.toolkit.fluxcd.io/v2" in (tree / "clusters/team-a/redis.yaml").read_text()
    assert _run("--scan", "clusters").exit_code == 2
    data = json.loads(_run("clusters", "--format", "json").output)
    assert data["exit_code"] == 2
    assert {"path": "clusters/gone.yaml", "changed": False, "valid": True, "written": "",
            "unreadable": True} in data["files"]


def test_no_cross_namespace_refs_option(tree: Path) -> None:
    (tree / "src.yaml").write_text(
        "apiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmRepository\nmetadata:\n"
        "  name: shared\n  namespace: flux-system\nspec:\n  interval: 1h\n"
        "  url: https://c.example.com\n")
    (tree / "hr.yaml").write_text(
        "apiVersion: helm.fluxcd.io/v1\nkind: HelmRelease\nmetadata:\n  name: app\n"
        "  namespace: apps\nspec:\n  helmVersion: v3\n  chart:\n"
        "    repository: https://c.example.com\n    name: app\n")
    loose = _run("src.yaml", "hr.yaml")
    assert "hr.yaml:9: warning: HelmRelease apps/app: refers to HelmRepository " \
           "flux-system/shared in another namespace" in loose.output
    strict = _run("src.yaml", "hr.yaml", "--no-cross-namespace-refs", "--write")
    assert strict.exit_code == 0, strict.output
    text = (tree / "hr.yaml").read_text()
    assert "name: c-example-com\n  namespace: apps\n" in text and "flux-system" not in text
