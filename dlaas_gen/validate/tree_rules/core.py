"""The general tree rules: unique and named objects, pinned images, user-pod mounts.

Why: some invariants span objects (unique identities, profileList in one place) or encode
policy (pinned images) that no schema expresses.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from dlaas_gen import yamlio
from dlaas_gen.manifest import CLUSTER_SCOPED_KINDS, Manifest
from dlaas_gen.names import is_dns1123_subdomain
from dlaas_gen.problem import Problem
from dlaas_gen.validate.tree_rules.registry import at, objects, rule
from dlaas_gen.validate.workloads import as_list, get, image_problem


@rule("unique-resource")
def check_unique(tree: list[Manifest]) -> Iterator[Problem]:
    """No two objects share kind, namespace and name."""
    seen: dict[Any, Manifest] = {}
    for m in objects(tree):
        if m.key in seen:
            yield at(m, ["metadata", "name"], "unique-resource",
                     f"{m.key} is also defined in {seen[m.key].path}")
        else:
            seen[m.key] = m


@rule("namespace-set")
def check_namespace(tree: list[Manifest]) -> Iterator[Problem]:
    """Every namespaced object states its namespace."""
    for m in objects(tree):
        namespace = (m.doc.get("metadata") or {}).get("namespace")
        if m.kind not in CLUSTER_SCOPED_KINDS and not namespace:
            yield at(m, ["metadata"], "namespace-set", f"{m.kind} {m.key.name} has no namespace")


@rule("dns-name")
def check_names(tree: list[Manifest]) -> Iterator[Problem]:
    """Object names are DNS-1123 subdomains."""
    for m in objects(tree):
        name = (m.doc.get("metadata") or {}).get("name")
        if not name or not is_dns1123_subdomain(str(name)):
            yield at(m, ["metadata", "name"], "dns-name",
                     f"name {name!r} is not a DNS-1123 subdomain")


def _containers(doc: Any) -> Iterator[tuple[list[Any], dict[str, Any]]]:
    """Yield (path, container) for every container of a workload or CronJob."""
    spec = doc.get("spec") or {}
    pod_paths = {
        "CronJob": ["spec", "jobTemplate", "spec", "template", "spec"],
        "Pod": ["spec"],
    }.get(doc.get("kind"), ["spec", "template", "spec"])
    node = doc
    for part in pod_paths:
        node = (node or {}).get(part) if isinstance(node, dict) else None
    if not isinstance(node, dict) or not spec:
        return
    for field in ("initContainers", "containers"):
        for index, container in enumerate(as_list(node.get(field))):
            if isinstance(container, dict):
                yield [*pod_paths, field, index], container


@rule("image-pinned")
def check_images(tree: list[Manifest]) -> Iterator[Problem]:
    """Workload images carry a tag (not latest) or a digest; so do the z2jh values images."""
    for m in objects(tree):
        for path, container in _containers(m.doc):
            why = image_problem(str(container.get("image", "")))
            if why:
                yield at(m, [*path, "image"], "image-pinned", why)
        if m.kind == "HelmRelease":
            yield from _values_images(m, yamlio.plain(get(m.doc, "spec", "values") or {}), [])


def _values_images(m: Manifest, node: Any, path: list[Any]) -> Iterator[Problem]:
    if isinstance(node, dict):
        if "image" in node and isinstance(node["image"], dict) and "name" in node["image"]:
            tag = str(node["image"].get("tag") or "")
            if not tag or tag == "latest":
                yield at(m, ["spec", "values", *path, "image"], "image-pinned",
                         f"image {node['image']['name']!r} is not pinned to a tag")
        for key, value in node.items():
            yield from _values_images(m, value, [*path, key])
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _values_images(m, value, [*path, index])


@rule("profile-list-single-source")
def check_profile_list(tree: list[Manifest]) -> Iterator[Problem]:
    """``singleuser.profileList`` is defined inline or by one ConfigMap, never both.

    Why: Helm replaces lists wholesale, so a second definition silently wins over the first.
    """
    for m in objects(tree):
        if m.kind != "HelmRelease":
            continue
        values = get(m.doc, "spec", "values")
        values = values if isinstance(values, dict) else {}
        if "profileList" in values:
            yield at(m, ["spec", "values", "profileList"], "profile-list-single-source",
                     "profileList at the root of values is ignored by the chart; it belongs "
                     "under singleuser")
        singleuser = values.get("singleuser")
        inline = isinstance(singleuser, dict) and "profileList" in singleuser
        sources = as_list(get(m.doc, "spec", "valuesFrom"))
        from_cm = any(get(e, "kind") == "ConfigMap" for e in sources)
        if inline and from_cm:
            cms = _configmaps_with_profiles(tree, m)
            if cms:
                yield at(m, ["spec", "values", "singleuser", "profileList"],
                         "profile-list-single-source",
                         f"profileList is set inline and in ConfigMap {cms[0]}; Helm keeps only "
                         "the inline list")


def _configmaps_with_profiles(tree: list[Manifest], release: Manifest) -> list[str]:
    names = {get(e, "name") for e in as_list(get(release.doc, "spec", "valuesFrom"))
             if get(e, "kind") == "ConfigMap"}
    found = []
    for m in objects(tree):
        if m.kind == "ConfigMap" and m.key.name in names:
            for value in (m.doc.get("data") or {}).values():
                if "profileList" in str(value):
                    found.append(m.key.name)
    return found


@rule("singleuser-mounts")
def check_singleuser_mounts(tree: list[Manifest]) -> Iterator[Problem]:
    """Every user-pod volume mount names a defined volume, and no mount path is used twice.

    Why: KubeSpawner passes these lists to the API server as they are; a dangling volume name
    or a repeated mount path only fails when a user starts a server.
    """
    for m in objects(tree):
        if m.kind != "HelmRelease":
            continue
        storage = get(m.doc, "spec", "values", "singleuser", "storage")
        storage = storage if isinstance(storage, dict) else {}
        volumes = {get(v, "name") for v in as_list(storage.get("extraVolumes"))}
        seen: set[str] = set()
        base = ["spec", "values", "singleuser", "storage", "extraVolumeMounts"]
        for index, mount in enumerate(as_list(storage.get("extraVolumeMounts"))):
            if not isinstance(mount, dict):
                continue
            if mount.get("name") not in volumes:
                yield at(m, [*base, index, "name"], "singleuser-mounts",
                         f"volume mount {mount.get('name')!r} names no "
                         "singleuser.storage.extraVolumes entry")
            path = str(mount.get("mountPath"))
            if path in seen:
                yield at(m, [*base, index, "mountPath"], "singleuser-mounts",
                         f"mount path {path} is used twice")
            seen.add(path)
