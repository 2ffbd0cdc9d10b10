"""Walk the pod specs, containers and images of rendered workloads, and the merged z2jh values.

Why: every policy check and tree rule looks at the same places (pod templates of Deployments,
DaemonSets, CronJobs...; the chart values of the single-user pods), so they are found once here.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path as FsPath
from typing import Any

from dlaas_gen.manifest import Manifest
from dlaas_gen.validate.values import chart_known, chart_of, chart_values

#: Where the pod spec is in each workload kind.
POD_PATHS: dict[str, tuple[str, ...]] = {
    "Pod": ("spec",),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
    **{k: ("spec", "template", "spec") for k in (
        "Deployment", "DaemonSet", "StatefulSet", "ReplicaSet", "Job", "ReplicationController")},
}
CONTAINER_FIELDS = ("initContainers", "containers", "ephemeralContainers")
Path = tuple[Any, ...]


def get(node: Any, *path: Any) -> Any:
    """Follow `path` through dicts and lists; None when anything is missing or mistyped."""
    for part in path:
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            return None
    return node


def as_list(node: Any) -> list[Any]:
    """`node` if it is a list, else an empty list."""
    return node if isinstance(node, list) else []


def as_map(node: Any) -> dict[Any, Any]:
    """`node` if it is a mapping, else an empty one (chart values are free-form text)."""
    return node if isinstance(node, dict) else {}


def pod_spec(m: Manifest) -> tuple[Path, dict[str, Any]] | None:
    """The pod spec of a workload and its path, or None for other kinds."""
    path = POD_PATHS.get(m.kind)
    spec = get(m.doc, *path) if path else None
    return (path, spec) if path and isinstance(spec, dict) else None


def containers(spec: dict[str, Any], base: Path) -> Iterator[tuple[Path, dict[str, Any]]]:
    """Every container of a pod spec with its path."""
    for field in CONTAINER_FIELDS:
        for index, container in enumerate(as_list(spec.get(field))):
            if isinstance(container, dict):
                yield (*base, field, index), container


def workloads(tree: list[Manifest]) -> Iterator[tuple[Manifest, Path, dict[str, Any]]]:
    """(manifest, pod spec path, pod spec) of every workload in the tree."""
    for m in tree:
        if isinstance(m.doc, dict) and not m.is_kustomize_config:
            found = pod_spec(m)
            if found:
                yield m, found[0], found[1]


def merged_chart_values(
    release: Manifest, tree: list[Manifest], charts_dir: FsPath | None = None
) -> dict[str, Any]:
    """A z2jh HelmRelease's values as the chart sees them (over the chart's defaults)."""
    return chart_values(release, tree, charts_dir)[0]


def z2jh_releases(
    tree: list[Manifest], charts_dir: FsPath | None = None
) -> Iterator[tuple[Manifest, dict[str, Any]]]:
    """(HelmRelease, merged values) of every jupyterhub release whose chart defaults are known.

    Why: a release whose chart version is neither locked nor vendored has no defaults to merge
    over, so values the chart enables by default would read as disabled; the value check
    reports such a release once (``chart-lock``) instead of the policy raising false errors.
    """
    for m in tree:
        if _is_z2jh(m) and chart_known(m, tree, charts_dir):
            yield m, merged_chart_values(m, tree, charts_dir)


def unknown_chart_releases(
    tree: list[Manifest], charts_dir: FsPath | None = None
) -> list[Manifest]:
    """The jupyterhub releases whose chart version is neither locked nor vendored."""
    return [m for m in tree if _is_z2jh(m) and not chart_known(m, tree, charts_dir)]


def _is_z2jh(m: Manifest) -> bool:
    """True for a HelmRelease of the jupyterhub chart."""
    return (m.kind == "HelmRelease" and isinstance(m.doc, dict)
            and chart_of(m.doc)[0] == "jupyterhub")


def release_namespace(m: Manifest) -> str:
    """Namespace a HelmRelease installs into."""
    return str(get(m.doc, "spec", "targetNamespace") or get(m.doc, "metadata", "namespace") or "")


def image_problem(image: str) -> str | None:
    """Why an image reference is not pinned, or None when it is."""
    last = image.rsplit("/", 1)[-1]
    if "@sha256:" in image:
        return None
    if ":" not in last:
        return f"image {image!r} has no tag"
    if last.endswith(":latest"):
        return f"image {image!r} uses 'latest'"
    return None


def extra_env(singleuser: dict[str, Any]) -> dict[str, str]:
    """``singleuser.extraEnv`` as name -> value (z2jh takes a map or a list of EnvVars)."""
    raw = get(singleuser, "extraEnv")
    if isinstance(raw, dict):
        return {str(k): v if isinstance(v, str) else str(get(v, "value") or "")
                for k, v in raw.items()}
    return {str(get(e, "name")): str(get(e, "value") or "") for e in as_list(raw) if get(e, "name")}
