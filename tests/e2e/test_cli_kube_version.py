"""`kubernetes_version` and `--kube-version`: bad values are one line and exit 1, never 3."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from dlaas_gen.cli import app
from dlaas_gen.kube_versions import bundled_versions

NEWEST = ".".join(bundled_versions()[-1].split(".")[:2])

# autoscaling/v2beta2 was removed in Kubernetes 1.26: only the 1.25 schemas know it.
OLD_HPA = """\
apiVersion: autoscaling/v2beta2
kind: HorizontalPodAutoscaler
metadata:
  name: old
  namespace: demo-hub
spec:
  bogus: 1
  maxReplicas: 2
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: hub}
"""


def run(runner: CliRunner, *args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def _set_version(site: Path, version: str) -> int:
    """Put ``kubernetes_version: <version>`` first in the site file; return its line (1)."""
    site.write_text(f"kubernetes_version: {version}\n" + site.read_text())
    return 1


def test_too_old_site_version_is_one_line_exit_1(runner: CliRunner, repo_copy: Path) -> None:
    line = _set_version(repo_copy / "sites/demo.yaml", '"1.20"')
    result = run(runner, "render", "demo")
    assert result.exit_code == 1
    errors = [x for x in result.stderr.splitlines() if x.strip()]
    assert errors == [f"sites/demo.yaml:{line}:1: error: Kubernetes 1.20 is older than the bundled "
                      f"schemas (1.25+); set a version from 1.25 to {NEWEST} [site-rule]"]
    assert "Traceback" not in result.output


def test_newer_site_version_warns_with_the_version_used(runner: CliRunner, repo_copy: Path) -> None:
    _set_version(repo_copy / "sites/demo.yaml", '"1.99"')
    result = run(runner, "render", "demo")
    assert result.exit_code == 0, result.output
    assert (f"sites/demo.yaml:1:1: warning: Kubernetes 1.99 is newer than the bundled schemas; "
            f"objects are checked against Kubernetes {NEWEST}") in result.stderr


@pytest.mark.usefixtures("repo_copy")
def test_validate_bad_kube_version_is_one_line_exit_1(runner: CliRunner) -> None:
    for bad, expected in (("banana", "Kubernetes version 'banana' is not X.Y"),
                          ("1.10", "Kubernetes 1.10 is older than the bundled schemas")):
        result = run(runner, "validate", "rendered/demo", "--kube-version", bad)
        assert result.exit_code == 1, (bad, result.output)
        lines = result.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"dlaas-gen: {expected}"), lines


@pytest.mark.usefixtures("repo_copy")
def test_validate_newer_kube_version_warns(runner: CliRunner) -> None:
    result = run(runner, "validate", "rendered/demo", "--kube-version", "1.99")
    assert result.exit_code == 0, result.output
    assert f"objects are checked against Kubernetes {NEWEST}" in result.stderr


def test_validate_uses_the_sites_kubernetes_version(runner: CliRunner, repo_copy: Path) -> None:
    _set_version(repo_copy / "sites/demo.yaml", '"1.25"')
    (repo_copy / "rendered/demo/apps/hpa-old.yaml").write_text(OLD_HPA)
    # With the site's 1.25 the old HPA is checked (and its unknown field is an error) ...
    result = run(runner, "validate", "rendered/demo")
    assert result.exit_code == 1, result.output
    assert (
        "rendered/demo/apps/hpa-old.yaml:7:3: error: HorizontalPodAutoscaler spec: "
        in result.stderr
    )
    # ... while an explicit newer version does not know autoscaling/v2beta2 at all.
    result = run(runner, "validate", "rendered/demo", "--kube-version", "1.33")
    assert "no Kubernetes 1.33.0 schema for HorizontalPodAutoscaler" in result.stderr
    assert "hpa-old.yaml:7:3: error" not in result.stderr
