"""The site graph from hand-written rendered objects (stable snapshots) and from a real site."""

from __future__ import annotations

from pathlib import Path

from dlaas_gen import yamlio
from dlaas_gen.commands.graph import Edge, site_graph, to_dot, to_mermaid
from dlaas_gen.manifest import Manifest
from dlaas_gen.pipeline import build_site
from tests.conftest import REPO

OBJECTS = {
    "flux/kustomization-s-infrastructure.yaml": """
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: s-infrastructure, namespace: flux-system}
spec: {path: ./rendered/s/infrastructure, sourceRef: {kind: GitRepository, name: flux-system}}
""",
    "flux/kustomization-s-apps.yaml": """
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: s-apps, namespace: flux-system}
spec:
  path: ./rendered/s/apps
  dependsOn: [{name: s-infrastructure}]
  sourceRef: {kind: GitRepository, name: flux-system}
""",
    "flux/kustomization.yaml": """
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources: [kustomization-s-apps.yaml]
""",
    "infrastructure/daemonset-fuse.yaml": """
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: fuse, namespace: eos}
spec:
  template:
    spec:
      containers:
        - name: fuse
          volumeMounts: [{name: root, mountPath: /eos}, {name: cfg, mountPath: /etc/eos}]
      volumes:
        - {name: root, hostPath: {path: /var/eos}}
        - {name: cfg, configMap: {name: fuse-config}}
        - {name: key, secret: {secretName: keytab}}
""",
    "infrastructure/configmap-fuse-config.yaml": """
apiVersion: v1
kind: ConfigMap
metadata: {name: fuse-config, namespace: eos}
""",
    "apps/helmrepository-jupyterhub.yaml": """
apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata: {name: jupyterhub, namespace: hub}
""",
    "apps/helmrelease-hub.yaml": """
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: hub, namespace: hub}
spec:
  chart:
    spec: {chart: jupyterhub, version: 4.4.0, sourceRef: {kind: HelmRepository, name: jupyterhub}}
  valuesFrom:
    - {kind: ConfigMap, name: hub-profiles, valuesKey: values.yaml}
    - {kind: Secret, name: "iam \\"client\\"", valuesKey: id, targetPath: hub.client_id}
  values:
    singleuser:
      storage:
        type: static
        static: {pvcName: homes}
        extraVolumes: [{name: eos, hostPath: {path: /var/eos}}]
        extraVolumeMounts: [{name: eos, mountPath: /eos}, {name: eos, mountPath: /eos2}]
""",
}


def manifests() -> list[Manifest]:
    return [
        Manifest(doc=yamlio.load_roundtrip(text), text=text, path=path)
        for path, text in OBJECTS.items()
    ]


def test_edges() -> None:
    graph = site_graph(manifests())
    edges = {(e.src, e.dst, e.label) for e in graph.edges}
    apps, infra = "Kustomization/flux-system/s-apps", "Kustomization/flux-system/s-infrastructure"
    assert (apps, infra, "dependsOn") in edges
    assert (apps, "GitRepository/flux-system/flux-system", "source") in edges
    assert (
        "HelmRelease/hub/hub",
        "HelmRepository/hub/jupyterhub",
        "chart jupyterhub 4.4.0",
    ) in edges
    assert ("HelmRelease/hub/hub", "ConfigMap/hub/hub-profiles", "values: values.yaml") in edges
    assert ("DaemonSet/eos/fuse", "HostPath///var/eos", "mounts at /eos") in edges
    assert ("DaemonSet/eos/fuse", "Secret/eos/keytab", "mounts") in edges
    assert ("UserPods/hub/hub", "HostPath///var/eos", "mounts at /eos (+1 more)") in edges
    assert ("UserPods/hub/hub", "PersistentVolumeClaim/hub/homes", "home folders") in edges
    assert Edge("HelmRelease/hub/hub", "UserPods/hub/hub", "spawns") in graph.edges


def test_groups_and_external_nodes() -> None:
    graph = site_graph(manifests())
    nodes = graph.nodes
    assert nodes["DaemonSet/eos/fuse"].group == "Kustomization/flux-system/s-infrastructure"
    assert nodes["HelmRelease/hub/hub"].group == "Kustomization/flux-system/s-apps"
    assert not nodes["ConfigMap/eos/fuse-config"].external  # rendered, though also mounted
    assert nodes["ConfigMap/hub/hub-profiles"].external  # referenced, not in these objects
    assert nodes["HostPath///var/eos"].external
    assert not any(n.kind == "Kustomization" and n.id.endswith("/") for n in nodes.values())


def test_mermaid_snapshot(snapshot) -> None:
    assert to_mermaid(site_graph(manifests())) == snapshot


def test_dot_snapshot(snapshot) -> None:
    assert to_dot(site_graph(manifests())) == snapshot


def test_escape_site_shows_the_eos_mount_shared_with_user_pods() -> None:
    built = build_site(REPO / "sites/escape.yaml", Path("rendered"))
    graph = site_graph(built.manifests)
    kinds = {n.kind for n in graph.nodes.values()}
    assert {"Kustomization", "HelmRelease", "GitRepository", "HelmRepository"} <= kinds
    hosts = {e.dst for e in graph.edges if e.dst.startswith("HostPath/")}
    from_pods = {e.dst for e in graph.edges if e.src.startswith("UserPods/") and e.dst in hosts}
    from_daemonsets = {
        e.dst for e in graph.edges if e.src.startswith("DaemonSet/") and e.dst in hosts
    }
    if from_daemonsets:  # the EOS DaemonSet and the user pods share the FUSE mount's host folder
        assert from_pods & from_daemonsets
    assert to_mermaid(graph).startswith("flowchart LR\n")
