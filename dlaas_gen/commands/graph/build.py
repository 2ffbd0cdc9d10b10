"""Build the graph of a site from its rendered objects."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from dlaas_gen.manifest import Manifest

WORKLOAD_KINDS = ("DaemonSet", "Deployment", "StatefulSet", "Job", "CronJob")
USER_PODS = "UserPods"


@dataclass(frozen=True)
class Node:
    """One box: an object (or a host folder, or the user pods).

    Attributes:
        id: unique id, ``Kind/namespace/name`` (``HostPath//<path>`` for host folders).
        kind: object kind, ``HostPath`` or ``UserPods``.
        label: text shown.
        group: id of the Kustomization that applies it (None when not applied by this site).
        external: True when the site expects it to exist (a Secret ops create, the bootstrap
            GitRepository, a host folder) rather than rendering it.
    """

    id: str
    kind: str
    label: str
    group: str | None = None
    external: bool = False


@dataclass(frozen=True, order=True)
class Edge:
    """An arrow ``src → dst`` with a short label."""

    src: str
    dst: str
    label: str = ""


@dataclass
class Graph:
    """Nodes and edges; groups are Kustomizations (id → title)."""

    nodes: dict[str, Node] = field(default_factory=dict)
    edges: set[Edge] = field(default_factory=set)
    groups: dict[str, str] = field(default_factory=dict)

    def add(self, node: Node) -> str:
        """Add `node` unless a rendered node of that id exists; return its id."""
        current = self.nodes.get(node.id)
        if current is None or (current.external and not node.external):
            self.nodes[node.id] = node
        return node.id

    def link(self, src: str, dst: str, label: str = "") -> None:
        """Add an edge."""
        self.edges.add(Edge(src, dst, label))


def _key(kind: str, namespace: str, name: str) -> str:
    return f"{kind}/{namespace}/{name}"


def _spec(doc: Any) -> dict[str, Any]:
    spec = doc.get("spec") if isinstance(doc, dict) else None
    return spec if isinstance(spec, dict) else {}


def _folder_of(manifest: Manifest) -> str:
    return manifest.path.split("/", 1)[0]


def site_graph(manifests: Iterable[Manifest]) -> Graph:
    """The graph of one site's rendered objects (folder index files are skipped)."""
    objects = [m for m in manifests if not m.is_kustomize_config]
    graph = Graph()
    applied_by = _kustomizations(objects, graph)
    for m in objects:
        if m.kind == "Kustomization" and m.api_version.startswith("kustomize.toolkit"):
            continue
        ns = m.key.namespace
        node = Node(_key(m.kind, ns, m.key.name), m.kind, f"{m.kind} {m.key.name}",
                    group=applied_by.get(_folder_of(m)))
        graph.add(node)
        if m.kind == "HelmRelease":
            _helmrelease(graph, node, m.doc, ns)
        elif m.kind in WORKLOAD_KINDS:
            _pod_volumes(graph, node.id, _pod_spec(m.doc), ns)
    return graph


def _kustomizations(objects: list[Manifest], graph: Graph) -> dict[str, str]:
    """Add the Flux Kustomizations; return ``{site folder: Kustomization id}``."""
    folders: dict[str, str] = {}
    for m in objects:
        if m.kind != "Kustomization" or not m.api_version.startswith("kustomize.toolkit"):
            continue
        spec, ns = _spec(m.doc), m.key.namespace
        node_id = _key("Kustomization", ns, m.key.name)
        path = str(spec.get("path", ""))
        folder = path.rstrip("/").rsplit("/", 1)[-1]
        folders[folder] = node_id
        graph.groups[node_id] = f"{m.key.name}: {path}"
        graph.add(Node(node_id, "Kustomization", f"Kustomization {m.key.name}", group=node_id))
        for dep in spec.get("dependsOn") or []:
            dep_id = _key("Kustomization", dep.get("namespace") or ns, dep.get("name", ""))
            graph.add(Node(dep_id, "Kustomization", f"Kustomization {dep.get('name')}",
                           external=True))
            graph.link(node_id, dep_id, "dependsOn")
        ref = spec.get("sourceRef") or {}
        src_id = _key(ref.get("kind", ""), ref.get("namespace") or ns, ref.get("name", ""))
        graph.add(Node(src_id, str(ref.get("kind")), f"{ref.get('kind')} {ref.get('name')}",
                       external=True))
        graph.link(node_id, src_id, "source")
    return folders


def _helmrelease(graph: Graph, node: Node, doc: Any, ns: str) -> None:
    spec = _spec(doc)
    chart = ((spec.get("chart") or {}).get("spec") or {})
    ref = chart.get("sourceRef") or {}
    if ref:
        src = _key(ref.get("kind", ""), ref.get("namespace") or ns, ref.get("name", ""))
        graph.add(Node(src, str(ref.get("kind")), f"{ref.get('kind')} {ref.get('name')}",
                       external=True))
        label = f"chart {chart.get('chart', '')} {chart.get('version', '')}".strip()
        graph.link(node.id, src, label)
    for item in spec.get("valuesFrom") or []:
        kind, name = str(item.get("kind", "")), str(item.get("name", ""))
        target = item.get("targetPath") or item.get("valuesKey") or "values"
        ref_id = graph.add(Node(_key(kind, ns, name), kind, f"{kind} {name}", external=True))
        graph.link(node.id, ref_id, f"values: {target}")
    singleuser = ((spec.get("values") or {}).get("singleuser") or {})
    storage = singleuser.get("storage") or {}
    volumes = storage.get("extraVolumes") or []
    if volumes:
        pods = graph.add(Node(_key(USER_PODS, ns, node.id.rsplit("/", 1)[-1]), USER_PODS,
                              "user pods (singleuser)", group=node.group))
        graph.link(node.id, pods, "spawns")
        mounts = _mount_paths(storage.get("extraVolumeMounts") or [])
        _volumes(graph, pods, volumes, ns, mounts)
        static = storage.get("type") == "static"
        claim = (storage.get("static") or {}).get("pvcName") if static else None
        if claim:
            pvc = graph.add(Node(_key("PersistentVolumeClaim", ns, claim), "PersistentVolumeClaim",
                                 f"PVC {claim}", external=True))
            graph.link(pods, pvc, "home folders")


def _pod_spec(doc: Any) -> dict[str, Any]:
    spec = _spec(doc)
    if doc.get("kind") == "CronJob":
        spec = ((spec.get("jobTemplate") or {}).get("spec") or {})
    return ((spec.get("template") or {}).get("spec") or {})


def _pod_volumes(graph: Graph, owner: str, pod: dict[str, Any], ns: str) -> None:
    containers = [*(pod.get("initContainers") or []), *(pod.get("containers") or [])]
    mounts = _mount_paths([m for c in containers for m in c.get("volumeMounts") or []])
    _volumes(graph, owner, pod.get("volumes") or [], ns, mounts)


def _mount_paths(mounts: list[Any]) -> dict[str, list[str]]:
    """``{volume name: mount paths in order}`` (duplicates dropped)."""
    out: dict[str, list[str]] = {}
    for mount in mounts:
        paths = out.setdefault(str(mount.get("name")), [])
        if mount.get("mountPath") not in paths:
            paths.append(str(mount.get("mountPath")))
    return out


def _mount_label(paths: list[str]) -> str:
    if not paths:
        return "mounts"
    more = f" (+{len(paths) - 1} more)" if len(paths) > 1 else ""
    return f"mounts at {paths[0]}{more}"


def _volumes(graph: Graph, owner: str, volumes: list[Any], ns: str,
             mounts: dict[str, list[str]]) -> None:
    """Link `owner` to what its volumes mount (host folders, ConfigMaps, Secrets, PVCs)."""
    for volume in volumes:
        for target in _volume_targets(volume, ns):
            target_id = graph.add(target)
            graph.link(owner, target_id, _mount_label(mounts.get(str(volume.get("name")), [])))


def _volume_targets(volume: dict[str, Any], ns: str) -> Iterator[Node]:
    if "hostPath" in volume:
        path = str((volume.get("hostPath") or {}).get("path", ""))
        yield Node(_key("HostPath", "", path), "HostPath", f"host {path}", external=True)
    elif "configMap" in volume:
        name = str((volume.get("configMap") or {}).get("name", ""))
        yield Node(_key("ConfigMap", ns, name), "ConfigMap", f"ConfigMap {name}", external=True)
    elif "secret" in volume:
        name = str((volume.get("secret") or {}).get("secretName", ""))
        yield Node(_key("Secret", ns, name), "Secret", f"Secret {name}", external=True)
    elif "persistentVolumeClaim" in volume:
        name = str((volume.get("persistentVolumeClaim") or {}).get("claimName", ""))
        yield Node(_key("PersistentVolumeClaim", ns, name), "PersistentVolumeClaim",
                   f"PVC {name}", external=True)
