"""The Helm Operator's release-name rule, and the releaseName/storageNamespace written."""

from __future__ import annotations

from pathlib import Path

import pytest

from dlaas_gen.commands.migrate import Options, migrate, operator_release_name
from dlaas_gen.yamlio import load_roundtrip_all

HR = """apiVersion: helm.fluxcd.io/v1
kind: HelmRelease
metadata:
  name: podinfo
{ns}spec:
  helmVersion: v3
{extra}  chart:
    repository: https://charts.example.com
    name: podinfo
    version: 1.0.0
"""


@pytest.mark.parametrize(
    ("namespace", "target", "explicit", "expected"),
    [
        (None, None, None, "default-podinfo"),
        ("default", None, None, "default-podinfo"),
        ("apps", None, None, "apps-podinfo"),
        ("apps", "apps", None, "apps-podinfo"),
        ("flux-system", "web", None, "flux-system-web-podinfo"),
        ("apps", "web", "custom", "custom"),
    ],
)
def test_operator_release_name(namespace, target, explicit, expected) -> None:
    assert operator_release_name("podinfo", namespace, target, explicit) == expected


def _run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ns: str = "", extra: str = "",
         options: Options | None = None) -> dict:
    (tmp_path / "hr.yaml").write_text(HR.format(ns=ns, extra=extra))
    monkeypatch.chdir(tmp_path)
    result = migrate(["hr.yaml"], options or Options())
    out = result.changed_files[0].migrated
    return {"result": result, "docs": load_roundtrip_all(out)}


def test_default_namespace_release(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    got = _run(tmp_path, monkeypatch)
    spec = got["docs"][0]["spec"]
    assert spec["releaseName"] == "default-podinfo"
    assert "storageNamespace" not in spec
    warnings = [f for f in got["result"].findings if "assumed default" in f.message]
    assert warnings and warnings[0].line == 3 and warnings[0].level == "warning"


def test_target_namespace_sets_storage_namespace(tmp_path, monkeypatch) -> None:
    got = _run(tmp_path, monkeypatch, ns="  namespace: flux-system\n",
               extra="  targetNamespace: web\n")
    spec = got["docs"][0]["spec"]
    assert spec["releaseName"] == "flux-system-web-podinfo"
    assert spec["targetNamespace"] == "web"
    assert spec["storageNamespace"] == "web"
    line = [f for f in got["result"].findings if f.message.startswith("storageNamespace")][0].line
    assert line == 8


def test_target_equal_to_namespace_needs_no_storage(tmp_path, monkeypatch) -> None:
    got = _run(tmp_path, monkeypatch, ns="  namespace: web\n", extra="  targetNamespace: web\n")
    spec = got["docs"][0]["spec"]
    assert spec["releaseName"] == "web-podinfo"
    assert "storageNamespace" not in spec


def test_explicit_release_name_kept(tmp_path, monkeypatch) -> None:
    got = _run(tmp_path, monkeypatch, ns="  namespace: apps\n", extra="  releaseName: legacy\n")
    assert got["docs"][0]["spec"]["releaseName"] == "legacy"


def test_kustomization_namespace_then_default_namespace_option(tmp_path, monkeypatch) -> None:
    got = _run(tmp_path, monkeypatch, options=Options(default_namespace="ops"))
    assert got["docs"][0]["spec"]["releaseName"] == "ops-podinfo"
    (tmp_path / "kustomization.yaml").write_text("namespace: monitoring\nresources: [hr.yaml]\n")
    got = _run(tmp_path, monkeypatch, options=Options(default_namespace="ops"))
    assert got["docs"][0]["spec"]["releaseName"] == "monitoring-podinfo"
    msg = [f.message for f in got["result"].findings if "assumed" in f.message][0]
    assert "namespace of kustomization.yaml" in msg


def test_too_long_release_name_is_not_written(tmp_path, monkeypatch) -> None:
    ns = "  namespace: " + "n" * 50 + "\n"
    (tmp_path / "hr.yaml").write_text(HR.format(ns=ns, extra=""))
    monkeypatch.chdir(tmp_path)
    result = migrate(["hr.yaml"], Options(), write=True)
    assert result.has_errors and result.changed_files == []
    assert "helm.fluxcd.io/v1" in (tmp_path / "hr.yaml").read_text()
    assert result.exit_code() == 1
