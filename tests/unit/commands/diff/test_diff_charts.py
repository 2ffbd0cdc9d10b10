"""``diff`` shows the objects a changed HelmRelease's locked chart renders (real Helm SDK).

Charts are built here (two versions of a small chart), locked as ``chart pull`` writes them,
and rendered offline by ``helm-python-sdk`` on both sides.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from dlaas_gen import yamlio
from dlaas_gen.commands.diff import diff_dirs, diff_git, render_json, render_markdown, render_text
from dlaas_gen.commands.diff.charts import kube_version
from tests.support.helm_repo import build_chart

try:
    import helm_python
except ImportError:  # pragma: no cover - a missing test dependency is a failure, not a skip
    pytest.fail("helm-python-sdk is missing: pip install -e '.[test]' (helm-python-sdk==0.2.2)",
                pytrace=False)

SCHEMA = {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object",
          "additionalProperties": False,
          "properties": {"greeting": {"type": "string"}, "replicas": {"type": "integer"}}}
VALUES = "greeting: hello\nreplicas: 1\n"
COMMON = {
    "deployment.yaml": """apiVersion: apps/v1
kind: Deployment
metadata:
  name: hub
  annotations:
    checksum/config: {{ randAlphaNum 8 | quote }}
spec:
  replicas: {{ .Values.replicas }}
  selector: {matchLabels: {app: hub}}
  template:
    metadata: {labels: {app: hub}}
    spec:
      containers:
        - name: hub
          image: "example.org/hub:{{ .Chart.Version }}"
""",
    "configmap.yaml": """apiVersion: v1
kind: ConfigMap
metadata:
  name: hub
data:
  greeting: {{ .Values.greeting | quote }}
  kube: {{ .Capabilities.KubeVersion.Version | quote }}
  release: {{ .Release.Name }}/{{ .Release.Namespace }}
""",
    "secret.yaml": """apiVersion: v1
kind: Secret
metadata:
  name: hub
data:
  token: {{ randAlphaNum 32 | b64enc | quote }}
""",
    "job.yaml": """apiVersion: batch/v1
kind: Job
metadata:
  name: awaiter
  annotations:
    helm.sh/hook: pre-upgrade
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: awaiter
          image: "example.org/awaiter:{{ .Chart.Version }}"
""",
}
OLD_ONLY = {"pvc.yaml": """apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: hub-db
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
"""}
NEW_ONLY = {"role.yaml": """apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: hub
rules:
  - apiGroups: [""]
    resources: [pods]
    verbs: [get]
"""}


def chart(version: str) -> bytes:
    templates = {**COMMON, **(OLD_ONLY if version == "1.0.0" else NEW_ONLY)}
    return build_chart(version, values_text=VALUES, schema=SCHEMA, templates=templates)


def lock(charts_dir: Path, version: str, data: bytes | None = None) -> None:
    folder = charts_dir / f"jupyterhub-{version}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"jupyterhub-{version}.tgz").write_bytes(data or chart(version))


def release(version: str, greeting: str, replicas: int = 2) -> str:
    return yamlio.dump_docs(
        [
            {
                "apiVersion": "helm.toolkit.fluxcd.io/v2",
                "kind": "HelmRelease",
                "metadata": {"name": "lab", "namespace": "lab"},
                "spec": {
                    "releaseName": "lab",
                    "interval": "10m",
                    "chart": {
                        "spec": {
                            "chart": "jupyterhub",
                            "version": version,
                            "sourceRef": {"kind": "HelmRepository", "name": "jupyterhub"},
                        }
                    },
                    "valuesFrom": [{"kind": "ConfigMap", "name": "lab-values"}],
                    "values": {"replicas": replicas},
                },
            },
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": "lab-values", "namespace": "lab"},
                "data": {"values.yaml": f"greeting: {greeting}\n"},
            },
        ]
    )


def tree(root: Path, version: str, greeting: str = "hello", replicas: int = 2) -> Path:
    (root / "apps").mkdir(parents=True, exist_ok=True)
    (root / "apps" / "helmrelease-lab.yaml").write_text(release(version, greeting, replicas))
    return root


@pytest.fixture
def bump(tmp_path):
    """1.0.0 with greeting hello → 2.0.0 with greeting bonjour, both locked."""
    charts = tmp_path / "charts"
    lock(charts, "1.0.0")
    lock(charts, "2.0.0")
    old = tree(tmp_path / "old", "1.0.0")
    new = tree(tmp_path / "new", "2.0.0", "bonjour")
    return diff_dirs(old, new, charts_dir=charts)


def by_key(diff):
    return {(c.key.kind, c.key.name): c for c in diff.changes}


def test_the_sdk_renders_for_a_stated_kubernetes_version() -> None:
    assert helm_python.helm_sdk_version() == "v4.2.3"
    assert kube_version() == "v1.36.0"


def test_a_chart_bump_shows_the_chart_objects_by_resource(bump) -> None:
    (diff,) = bump.charts
    assert (diff.old_chart, diff.new_chart) == ("jupyterhub 1.0.0", "jupyterhub 2.0.0")
    assert diff.kube_version == kube_version() and diff.helm_version == "v4.2.3"
    changes = by_key(diff)
    assert {k: c.status for k, c in changes.items()} == {
        ("Deployment", "hub"): "changed",
        ("ConfigMap", "hub"): "changed",
        ("Job", "awaiter"): "changed",
        ("PersistentVolumeClaim", "hub-db"): "removed",
        ("Role", "hub"): "added",
    }
    # Random Secret values and checksum annotations are not differences.
    assert ("Secret", "hub") not in changes and diff.unchanged == 1
    deployment = changes[("Deployment", "hub")].diff
    assert "-      - image: example.org/hub:1.0.0" in deployment
    assert "+      - image: example.org/hub:2.0.0" in deployment
    config = changes[("ConfigMap", "hub")].diff
    assert "-  greeting: hello" in config and "+  greeting: bonjour" in config  # from valuesFrom
    attention = {(a.rule, a.key.kind): a for a in diff.attention}
    assert attention[("helm-delete", "PersistentVolumeClaim")].severity == "danger"
    # A hook Job is recreated by Helm: its changed template is not an immutable-field danger.
    assert ("immutable", "Job") not in attention
    assert attention[("image", "Deployment")].new == "example.org/hub:2.0.0"


def test_the_report_states_the_kubernetes_version(bump) -> None:
    text = render_text(bump)
    assert "Chart objects of HelmRelease lab/lab: jupyterhub 1.0.0 -> jupyterhub 2.0.0" in text
    assert f"Capabilities.KubeVersion {kube_version()}" in text
    assert "- removed PersistentVolumeClaim hub-db" in text
    markdown = render_markdown(bump)
    assert f"Capabilities.KubeVersion {kube_version()}" in markdown
    assert "| removed | `PersistentVolumeClaim hub-db` |" in markdown
    data = json.loads(render_json(bump))
    (chart_data,) = data["charts"]
    assert chart_data["kube_version"] == kube_version()
    assert {r["kind"] for r in chart_data["resources"]} == {
        "Deployment",
        "ConfigMap",
        "Job",
        "PersistentVolumeClaim",
        "Role",
    }


def test_rendered_for_the_release_name_and_namespace(bump) -> None:
    config = by_key(bump.charts[0])[("ConfigMap", "hub")].diff
    assert f"  kube: {kube_version()}" in config and "  release: lab/lab" in config


def test_values_change_alone_renders_the_same_chart_twice(tmp_path) -> None:
    charts = tmp_path / "charts"
    lock(charts, "1.0.0")
    result = diff_dirs(
        tree(tmp_path / "a", "1.0.0"), tree(tmp_path / "b", "1.0.0", "hi", 3), charts_dir=charts
    )
    (diff,) = result.charts
    changes = by_key(diff)
    assert {k: c.status for k, c in changes.items()} == {
        ("ConfigMap", "hub"): "changed",
        ("Deployment", "hub"): "changed",
    }
    # Inline values (replicas) and valuesFrom values (greeting) both reach the chart.
    assert "-  replicas: 2\n+  replicas: 3" in changes[("Deployment", "hub")].diff
    assert "+  greeting: hi" in changes[("ConfigMap", "hub")].diff


def test_one_side_unlocked_is_a_note(tmp_path) -> None:
    charts = tmp_path / "charts"
    lock(charts, "2.0.0")
    result = diff_dirs(
        tree(tmp_path / "old", "1.0.0"), tree(tmp_path / "new", "2.0.0"), charts_dir=charts
    )
    assert result.charts == []
    assert any(
        "chart objects of HelmRelease lab/lab not shown: no locked archive on the old "
        "side (jupyterhub 1.0.0" in n
        for n in result.notes
    )


def test_nothing_locked_says_nothing(tmp_path) -> None:
    result = diff_dirs(
        tree(tmp_path / "old", "1.0.0"),
        tree(tmp_path / "new", "2.0.0"),
        charts_dir=tmp_path / "charts",
    )
    assert result.charts == [] and not any("chart objects" in n for n in result.notes)
    assert diff_dirs(tree(tmp_path / "o", "1.0.0"), tree(tmp_path / "n", "2.0.0")).charts == []


def test_values_the_chart_refuses_are_a_note(tmp_path) -> None:
    charts = tmp_path / "charts"
    lock(charts, "1.0.0")
    lock(charts, "2.0.0")
    new = tree(tmp_path / "new", "2.0.0")
    text = (new / "apps" / "helmrelease-lab.yaml").read_text().replace("replicas: 2", "replicaz: 2")
    (new / "apps" / "helmrelease-lab.yaml").write_text(text)
    result = diff_dirs(tree(tmp_path / "old", "1.0.0"), new, charts_dir=charts)
    assert result.charts == []
    assert any(
        "Helm could not render the new side (jupyterhub 2.0.0): values don't meet the "
        "specifications of the schema(s)"
        in n
        and "'replicaz' not allowed" in n
        for n in result.notes
    )


GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.org",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.org",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", *args], cwd=cwd, env={**os.environ, **GIT_ENV}, check=True, capture_output=True
    )


def test_git_mode_reads_the_old_archive_at_the_base_commit(tmp_path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    lock(root / "charts", "1.0.0")
    tree(root / "rendered" / "lab", "1.0.0")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    # The working tree bumps the chart and drops the old lock: the old side still has it in git.
    lock(root / "charts", "2.0.0")
    (root / "charts" / "jupyterhub-1.0.0" / "jupyterhub-1.0.0.tgz").unlink()
    tree(root / "rendered" / "lab", "2.0.0")
    result = diff_git("main", Path("rendered"), cwd=root, charts_dir=Path("charts"))
    (diff,) = result.charts
    assert (diff.old_chart, diff.new_chart) == ("jupyterhub 1.0.0", "jupyterhub 2.0.0")
    assert by_key(diff)[("PersistentVolumeClaim", "hub-db")].status == "removed"


def test_without_the_sdk_the_rest_of_the_diff_is_shown_with_a_note(tmp_path, monkeypatch) -> None:
    from dlaas_gen.commands.diff import charts as charts_mod

    def missing():
        raise ImportError("No module named 'helm_python'")

    monkeypatch.setattr(charts_mod, "_sdk", missing)
    charts = tmp_path / "charts"
    lock(charts, "1.0.0")
    lock(charts, "2.0.0")
    result = diff_dirs(
        tree(tmp_path / "old", "1.0.0"), tree(tmp_path / "new", "2.0.0"), charts_dir=charts
    )
    assert result.charts == [] and [c.key.kind for c in result.changes] == ["HelmRelease"]
    assert any(
        "the Helm SDK is not installed (install the helm extra: pip install 'dlaas-gen[helm]')" in n
        for n in result.notes
    )
