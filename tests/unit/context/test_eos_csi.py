"""CSI mode: user pods mount a PVC of eosxd-csi, the driver's ConfigMap is never applied."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from dlaas_gen import yamlio
from dlaas_gen.cli import app
from dlaas_gen.commands.secrets import expected_secrets
from dlaas_gen.errors import ConfigError
from dlaas_gen.loader import load_site
from dlaas_gen.pipeline import build_site
from tests.conftest import write_site

SITE = """\
singleuser:
  image: {{name: quay.io/jupyter/minimal-notebook, tag: "2024-12-23", provides: [python3]}}
ingress: {{host: hub.example.org, tls_secret: hub-tls}}
auth:
  issuer: https://sso.example.org/realms/lab
  provider: keycloak
  client_id: {{name: oidc, key: id}}
  client_secret: {{name: oidc, key: secret}}
  allow: {{mode: all}}
eos:
  mode: csi
{extra}  instances:
    - name: lab
      mgm: eos.example.org
      remote_mount_dir: /eos/lab
  token_service: null
scratch:
  eos_instance: lab
  sub_path: scratch
  cleanup: {{endorsement: {{name: scratch-cleanup-eos, key: endorsement}}}}
"""


def _build(tmp_path: Path, extra: str = ""):
    return build_site(write_site(tmp_path / "sites", "lab", SITE.format(extra=extra)),
                      tmp_path / "rendered")


def _by_kind(built) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for m in built.manifests:
        out.setdefault(m.kind, []).append(m.doc)
    return out


def test_static_pv_and_pvc_without_storage_class(tmp_path: Path) -> None:
    built = _build(tmp_path)
    assert [p.format() for p in built.problems if p.is_error] == []
    kinds = _by_kind(built)
    (pv,) = kinds["PersistentVolume"]
    (pvc,) = kinds["PersistentVolumeClaim"]
    assert pv["metadata"]["name"] == "eos-jhub" and "namespace" not in pv["metadata"]
    assert pv["spec"]["csi"] == {"driver": "eosxd.csi.cern.ch", "volumeHandle": "eos-jhub"}
    assert pv["spec"]["accessModes"] == ["ReadWriteMany"] and pv["spec"]["storageClassName"] == ""
    assert pvc["metadata"] == {**pvc["metadata"], "name": "eos", "namespace": "jhub"}
    assert pvc["spec"]["volumeName"] == "eos-jhub" and pvc["spec"]["storageClassName"] == ""
    assert pvc["spec"]["accessModes"] == ["ReadWriteMany"]


def test_storage_class_binds_without_a_pv(tmp_path: Path) -> None:
    kinds = _by_kind(_build(tmp_path, "  storage_class: eos\n"))
    assert "PersistentVolume" not in kinds
    (pvc,) = kinds["PersistentVolumeClaim"]
    assert pvc["spec"]["storageClassName"] == "eos" and "volumeName" not in pvc["spec"]


def test_user_pods_mount_the_pvc_with_host_to_container(tmp_path: Path) -> None:
    built = _build(tmp_path)
    kinds = _by_kind(built)
    (release,) = kinds["HelmRelease"]
    storage = release["spec"]["values"]["singleuser"]["storage"]
    eos_volumes = [v for v in storage["extraVolumes"] if v["name"] == "eos"]
    assert eos_volumes == [{"name": "eos", "persistentVolumeClaim": {"claimName": "eos"}}]
    assert not any("hostPath" in v for v in storage["extraVolumes"])
    mounts = {m["mountPath"]: m for m in storage["extraVolumeMounts"] if m["name"] == "eos"}
    assert (
        mounts["/eos"]["mountPropagation"] == "HostToContainer"
        and mounts["/eos"]["readOnly"] is True
    )
    assert mounts["/scratch"] == {
        "name": "eos",
        "mountPath": "/scratch",
        "subPath": "lab/scratch",
        "mountPropagation": "HostToContainer",
    }
    (cronjob,) = kinds["CronJob"]
    pod = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert pod["volumes"] == [{"name": "scratch", "persistentVolumeClaim": {"claimName": "eos"}}]
    # No hostPath is left, so the hub namespace is not privileged any more.
    hub = next(n for n in kinds["Namespace"] if n["metadata"]["name"] == "jhub")
    assert hub["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "baseline"


def test_the_drivers_configmap_is_never_applied(tmp_path: Path) -> None:
    built = _build(tmp_path)
    names = {
        (m.kind, m.doc["metadata"].get("name")) for m in built.manifests if "metadata" in m.doc
    }
    assert ("ConfigMap", "eos-csi-dir-etc-eos") not in names
    assert not any(
        m.doc["metadata"].get("namespace") == "kube-system"
        for m in built.manifests
        if "metadata" in m.doc
    )
    assert not any(m.kind == "DaemonSet" for m in built.manifests)


def test_keytab_is_refused_at_its_line_in_csi_mode(tmp_path: Path) -> None:
    path = write_site(tmp_path, "lab", SITE.format(extra="  keytab: {name: eos-keytab, key: k}\n"))
    with pytest.raises(ConfigError) as info:
        load_site(path)
    (problem,) = info.value.problems
    assert (problem.line, problem.col) == (12, 3)
    assert problem.message.startswith(
        "csi mode: the eosxd-csi chart reads the sss keytab from its "
        "own Secret eos-csi-file-etc-eos-keytab (key eos.keytab)"
    )


def test_secrets_names_the_drivers_keytab(tmp_path: Path) -> None:
    rows = expected_secrets(write_site(tmp_path / "sites", "lab", SITE.format(extra="")))
    keytab = [r for r in rows if r.name == "eos-csi-file-etc-eos-keytab"]
    assert [(r.namespace, r.key) for r in keytab] == [("kube-system", "eos.keytab")]


def test_csi_values_command_prints_chart_values(tmp_path: Path, monkeypatch) -> None:
    write_site(tmp_path / "sites", "lab", SITE.format(extra=""))
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["eos", "csi-values", "lab"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    values = yamlio.load_fast(result.stdout)
    cm = values["extraConfigMaps"]["eos-csi-dir-etc-eos"]
    assert cm["auto.eos"] == "lab -fstype=eosx,fsname=lab  :eosxd\n"
    conf = yamlio.load_fast(cm["fuse.lab.conf"])  # JSON is YAML
    assert conf["hostport"] == "eos.example.org" and conf["auth"]["ssskeytab"] == "/etc/eos.keytab"


@pytest.mark.usefixtures("repo_copy")
def test_csi_values_refuses_a_daemonset_site(runner: CliRunner) -> None:
    result = runner.invoke(app, ["eos", "csi-values", "escape"], catch_exceptions=False)
    assert result.exit_code == 2 and "does not use eos.mode: csi" in result.stderr
