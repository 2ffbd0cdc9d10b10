"""End-to-end: ``chart pull`` from a Helm repository on 127.0.0.1, then render/validate/diff."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from dlaas_gen.cli import app
from dlaas_gen.commands.charts import pull as pull_mod
from tests.support.helm_repo import VERSION, build_chart, serve

DEMO = Path("sites/demo.yaml")
LOCK = Path(f"charts/jupyterhub-{VERSION}")


def run(runner: CliRunner, *args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch) -> None:
    monkeypatch.setattr(pull_mod, "_sleep", lambda _s: None)


def pin(version: str) -> int:
    """Pin demo's chart version; return the line of ``version:``."""
    lines = DEMO.read_text().splitlines()
    at = lines.index("  release_name: demo") + 1
    lines.insert(at, f"  version: {version}")
    DEMO.write_text("\n".join(lines) + "\n")
    return at + 1


@pytest.mark.usefixtures("repo_copy")
def test_unlocked_version_then_pull_then_render(runner, httpserver) -> None:
    line = pin(VERSION)
    result = run(runner, "render", "demo")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"sites/demo.yaml:{line}:12: error: jupyterhub chart {VERSION} is not locked (no "
        f"charts/jupyterhub-{VERSION}/): run `dlaas-gen chart pull demo` and commit the folder "
        "[chart-lock]"]

    url = serve(httpserver, {VERSION: build_chart()})
    result = run(runner, "chart", "pull", "demo", "--repo-url", url)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"wrote {LOCK}/ (jupyterhub {VERSION}, sha256:")
    assert result.stdout.rstrip().endswith("for demo)")
    assert sorted(p.name for p in LOCK.iterdir()) == [
        f"jupyterhub-{VERSION}.tgz", "values.schema.json", "values.yaml"]

    httpserver.clear()  # from here on, everything is offline
    result = run(runner, "render", "demo")
    assert result.exit_code == 0, result.output
    release = yaml.safe_load(Path("rendered/demo/apps/helmrelease-demo.yaml").read_text())
    assert release["spec"]["chart"]["spec"]["version"] == VERSION
    result = run(runner, "validate", "rendered/demo")
    assert result.exit_code == 0, result.output
    assert "NET001" not in result.output and "chart-lock" not in result.output
    assert httpserver.log == []

    result = run(runner, "chart", "pull", "demo", "--repo-url", url)
    assert result.exit_code == 1 and "HTTP 500" in result.stderr  # nothing served any more
    assert sorted(p.name for p in LOCK.iterdir()) == [
        f"jupyterhub-{VERSION}.tgz", "values.schema.json", "values.yaml"]


@pytest.mark.usefixtures("repo_copy")
def test_validate_without_the_lock_is_one_error(runner, httpserver) -> None:
    pin(VERSION)
    url = serve(httpserver, {VERSION: build_chart()})
    assert run(runner, "chart", "pull", "demo", "--repo-url", url).exit_code == 0
    assert run(runner, "render", "demo").exit_code == 0
    shutil.rmtree("charts")
    result = run(runner, "validate", "rendered/demo")
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if ": error: " in line]
    assert len(errors) == 1 and "[chart-lock]" in errors[0]
    assert "run `dlaas-gen chart pull`" in errors[0]


@pytest.mark.usefixtures("repo_copy")
def test_http_to_another_host_is_a_usage_error(runner) -> None:
    result = run(runner, "chart", "pull", "demo", "--repo-url", "http://charts.example.org/")
    assert result.exit_code == 2
    assert result.stderr == ("dlaas-gen: http://charts.example.org/: plain http:// is only "
                             "accepted for a loopback host (127.0.0.1, ::1, localhost); use "
                             "https://\n")
    assert not Path("charts").exists()


@pytest.mark.usefixtures("repo_copy")
def test_digest_mismatch_exits_1_and_writes_nothing(runner, httpserver) -> None:
    pin(VERSION)
    url = serve(httpserver, {VERSION: build_chart()}, digests={VERSION: "f" * 64})
    result = run(runner, "chart", "pull", "demo", "--repo-url", url)
    assert result.exit_code == 1
    assert "demo: " in result.stderr and "digest mismatch" in result.stderr
    assert not Path("charts").exists()


@pytest.mark.usefixtures("repo_copy")
def test_diff_shows_chart_objects_when_both_sides_are_locked(runner, httpserver) -> None:
    templates = {"cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: probe\n"
                            "data:\n  chart: {{ .Chart.Version | quote }}\n"}
    url = serve(httpserver, {"4.3.8": build_chart("4.3.8", templates=templates),
                             VERSION: build_chart(templates=templates)})
    pin("4.3.8")
    assert run(runner, "chart", "pull", "demo", "--repo-url", url).exit_code == 0
    assert run(runner, "render", "demo").exit_code == 0
    shutil.copytree("rendered/demo", "old-demo")
    DEMO.write_text(DEMO.read_text().replace("version: 4.3.8", f"version: {VERSION}"))
    assert run(runner, "chart", "pull", "demo", "--repo-url", url).exit_code == 0
    assert run(runner, "render", "demo").exit_code == 0
    result = run(runner, "diff", "old-demo", "rendered/demo")
    assert result.exit_code == 0, result.output
    assert (f"Chart objects of HelmRelease demo-hub/demo: jupyterhub 4.3.8 -> jupyterhub {VERSION}"
            in result.stdout)
    assert "Capabilities.KubeVersion v1.36.0" in result.stdout
    assert '-    chart: "4.3.8"' in result.stdout or "-  chart: 4.3.8" in result.stdout
