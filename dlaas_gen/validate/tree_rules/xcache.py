"""Rules over a rendered tree that keep the XCache working and harmless.

Why: each rule encodes a failure seen when the real xrootd ran the rendered Deployment or when
Flux applied the layout: xrootd 5.5 creates neither ``oss.localroot`` nor the ``oss.space``
folders and stops at start; a hub Kustomization that (transitively) depends on the cache's
is blocked by any cache failure; and the cache is an unauthenticated forwarding proxy that
must stay inside the cluster. They read the objects only (no site file), so ``dlaas-gen
validate`` applies them to any tree, and each problem points at the line to change.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from dlaas_gen.manifest import Manifest
from dlaas_gen.problem import Problem
from dlaas_gen.validate.tree_rules.registry import at, objects, rule
from dlaas_gen.validate.values import chart_of
from dlaas_gen.validate.workloads import as_list, get, workloads

FLUX_KUSTOMIZE = "kustomize.toolkit.fluxcd.io/"


@dataclass
class XrootdProxy:
    """An xrootd proxy (``ofs.osslib libXrdPss``) workload and the config it reads."""

    manifest: Manifest
    base: tuple[Any, ...]  # path of the pod spec
    spec: dict[str, Any]
    index: int  # of the xrootd container in ``containers``
    config: list[list[str]]  # directive lines, split in words


def _folder(path: str) -> str:
    return posixpath.dirname(path)


def _config_text(m: Manifest, spec: dict[str, Any], container: dict[str, Any],
                 tree: list[Manifest]) -> str | None:
    """The text of the file given to ``xrootd -c``, read from the ConfigMap mounted there."""
    argv = [str(a) for a in [*as_list(container.get("command")), *as_list(container.get("args"))]]
    if "-c" not in argv[:-1]:
        return None
    path = argv[argv.index("-c") + 1]
    for mount in as_list(container.get("volumeMounts")):
        mount_path = str(get(mount, "mountPath") or "")
        if get(mount, "subPath") or posixpath.dirname(path) != mount_path.rstrip("/"):
            continue
        volume = next((v for v in as_list(spec.get("volumes"))
                       if get(v, "name") == get(mount, "name")), None)
        name = get(volume, "configMap", "name")
        if not name:
            return None
        key = posixpath.basename(path)
        for item in as_list(get(volume, "configMap", "items")):
            if get(item, "path") == key:
                key = str(get(item, "key"))
        namespace = m.key.namespace
        for cm in objects(tree):
            if cm.kind == "ConfigMap" and cm.key.name == name and cm.key.namespace == namespace:
                value = get(cm.doc, "data", key)
                return value if isinstance(value, str) else None
    return None


def xrootd_proxies(tree: list[Manifest]) -> Iterator[XrootdProxy]:
    """Workloads whose container runs xrootd as a proxy, with their config from the tree."""
    for m, base, spec in workloads(objects(tree)):
        for index, container in enumerate(as_list(spec.get("containers"))):
            command = as_list(get(container, "command"))
            if not command or posixpath.basename(str(command[0])) != "xrootd":
                continue
            text = _config_text(m, spec, container, tree)
            if text is None:
                continue
            lines = [line.split() for line in text.splitlines()]
            lines = [w for w in lines if w and not w[0].startswith("#")]
            if any(w[:2] == ["ofs.osslib", "libXrdPss.so"] for w in lines):
                yield XrootdProxy(m, base, spec, index, lines)


def _uid(spec: dict[str, Any], container: dict[str, Any]) -> Any:
    return (get(container, "securityContext", "runAsUser")
            or get(spec, "securityContext", "runAsUser"))


def _volume_at(container: dict[str, Any], path: str) -> tuple[str, str] | None:
    """(volume name, mount path) of the mount `path` lies in (longest mount path wins)."""
    best: tuple[str, str] | None = None
    for mount in as_list(container.get("volumeMounts")):
        mount_path = str(get(mount, "mountPath") or "").rstrip("/") or "/"
        if get(mount, "subPath"):
            continue
        if (path == mount_path or path.startswith(mount_path.rstrip("/") + "/")) and (
                best is None or len(mount_path) > len(best[1])):
            best = (str(get(mount, "name")), mount_path)
    return best


def startup_folders(config: list[list[str]]) -> list[str]:
    """``oss.localroot`` and every ``oss.space <name> <path>`` path of an xrootd config."""
    folders = [w[1] for w in config if w[0] == "oss.localroot" and len(w) > 1]
    for words in config:
        if words[0] == "oss.space" and len(words) > 2 and words[2] not in ("assign", "default"):
            folders.append(words[2].rstrip("*").rstrip("/") or "/")
    return folders


@rule("xcache-folders-created")
def check_folders_created(tree: list[Manifest]) -> Iterator[Problem]:
    """An init container, as xrootd's uid, makes ``oss.localroot`` and every ``oss.space`` path.

    Why: xrootd 5.5 creates none of them and stops at start ("Unable to use localroot",
    "Unable to create meta space at ..."; XrdOucN2NLoader.cc, XrdOssCache.cc); the pod's
    volumes start empty and the Deployment's ``command`` bypasses any image start script.
    """
    for proxy in xrootd_proxies(tree):
        spec, base = proxy.spec, proxy.base
        container = spec["containers"][proxy.index]
        uid = _uid(spec, container)
        missing = []
        for folder in startup_folders(proxy.config):
            target = _volume_at(container, folder)
            if not any(
                _uid(spec, init) == uid
                and as_list(init.get("command"))[:2] == ["mkdir", "-p"]
                and folder in as_list(init.get("command"))[2:]
                and _volume_at(init, folder) == target
                for init in as_list(spec.get("initContainers")) if isinstance(init, dict)
            ):
                missing.append(folder)
        if missing:
            where = [*base, "initContainers"] if spec.get("initContainers") else \
                [*base, "containers", proxy.index, "command"]
            yield at(proxy.manifest, where, "xcache-folders-created",
                     f"xrootd stops at start when {', '.join(missing)} do not exist: add an "
                     f"init container running as uid {uid} with `mkdir -p` of each, on the "
                     "same volumes")


def _kustomizations(tree: list[Manifest]) -> dict[tuple[str, str], Manifest]:
    return {(m.key.namespace, m.key.name): m for m in objects(tree)
            if m.kind == "Kustomization" and m.api_version.startswith(FLUX_KUSTOMIZE)}


def _applies(kustomization: Manifest, folder: str) -> bool:
    """True when the Kustomization's ``spec.path`` ends with the tree folder `folder`."""
    path = str(get(kustomization.doc, "spec", "path") or "").rstrip("/")
    return bool(folder) and (path == folder or path.endswith("/" + folder)
                             or path == "./" + folder)


@rule("xcache-not-hub-dependency")
def check_hub_independent_of_cache(tree: list[Manifest]) -> Iterator[Problem]:
    """The hub's Flux Kustomization never depends, directly or transitively, on the cache's.

    Why: Flux holds a Kustomization until every ``dependsOn`` is Ready (``wait: true`` makes
    Ready mean healthy), so a crash-looping cache, or no node with the cache disks, would keep
    JupyterHub from being installed or upgraded; the hub works without the cache.
    """
    kustomizations = _kustomizations(tree)
    cache_folders = {_folder(p.manifest.path): p.manifest for p in xrootd_proxies(tree)}
    if not cache_folders:
        return
    for m in objects(tree):
        if m.kind != "HelmRelease" or chart_of(m.doc)[0] != "jupyterhub":
            continue
        hub_folder = _folder(m.path)
        if hub_folder in cache_folders:
            cache = cache_folders[hub_folder]
            yield at(cache, ["metadata", "name"], "xcache-not-hub-dependency",
                     f"the XCache is applied together with the hub ({m.path}): move it to a "
                     "folder with a Flux Kustomization of its own")
            continue
        for hub in (k for k in kustomizations.values() if _applies(k, hub_folder)):
            for index, dep in enumerate(as_list(get(hub.doc, "spec", "dependsOn"))):
                chain = _reaches_cache(dep, hub, kustomizations, cache_folders)
                if chain:
                    yield at(hub, ["spec", "dependsOn", index], "xcache-not-hub-dependency",
                             f"the hub's Kustomization {hub.key.name} depends on "
                             f"{' -> '.join(chain)}, which applies the XCache: a failing cache "
                             "would block the hub; remove the dependency")


def _reaches_cache(dep: Any, owner: Manifest, kustomizations: dict[tuple[str, str], Manifest],
                   cache_folders: dict[str, Manifest]) -> list[str]:
    """The dependsOn chain from `dep` to a Kustomization applying a cache folder, or []."""
    seen: set[tuple[str, str]] = set()
    todo: list[tuple[Any, str, list[str]]] = [(dep, owner.key.namespace, [])]
    while todo:
        ref, namespace, chain = todo.pop()
        key = (str(get(ref, "namespace") or namespace), str(get(ref, "name") or ""))
        if key in seen or key not in kustomizations:
            continue
        seen.add(key)
        target = kustomizations[key]
        chain = [*chain, key[1]]
        if any(_applies(target, folder) for folder in cache_folders):
            return chain
        todo.extend((d, key[0], chain) for d in as_list(get(target.doc, "spec", "dependsOn")))
    return []


def _selects(selector: Any, labels: dict[str, Any]) -> bool:
    match = get(selector, "matchLabels") if isinstance(get(selector, "matchLabels"), dict) \
        else selector
    return isinstance(match, dict) and bool(match) and all(
        labels.get(k) == v for k, v in match.items())


@rule("xcache-cluster-only")
def check_cluster_only(tree: list[Manifest]) -> Iterator[Problem]:
    """The cache is reachable only inside the cluster, and only from admitted namespaces.

    Why: a forwarding xrootd proxy reads any allowed origin for whoever connects, without
    authenticating them; a NodePort, LoadBalancer or external IP would open it to the network,
    and without a NetworkPolicy every pod in the cluster could use it.
    """
    for proxy in xrootd_proxies(tree):
        m = proxy.manifest
        labels = get(m.doc, *proxy.base[:-1], "metadata", "labels") or {}  # the pod template
        namespace = m.key.namespace
        yield from _exposing_services(tree, namespace, labels)
        policies = [p for p in objects(tree) if p.kind == "NetworkPolicy"
                    and p.key.namespace == namespace
                    and _selects(get(p.doc, "spec", "podSelector"), labels)
                    and "Ingress" in as_list(get(p.doc, "spec", "policyTypes"))]
        if not policies:
            yield at(m, ["metadata", "name"], "xcache-cluster-only",
                     "no NetworkPolicy limits who may connect to the XCache: any pod in the "
                     "cluster could use the unauthenticated proxy")
        for policy in policies:
            for index, entry in enumerate(as_list(get(policy.doc, "spec", "ingress"))):
                if not as_list(get(entry, "from")):
                    yield at(policy, ["spec", "ingress", index], "xcache-cluster-only",
                             f"NetworkPolicy {policy.key.name} admits connections from "
                             "anywhere (an ingress rule without `from`)")


def _exposing_services(tree: list[Manifest], namespace: str,
                       labels: dict[str, Any]) -> Iterator[Problem]:
    """Services selecting the cache pods that reach outside the cluster (type, externalIPs)."""
    for svc in objects(tree):
        if svc.kind != "Service" or svc.key.namespace != namespace:
            continue
        if not _selects(get(svc.doc, "spec", "selector"), labels):
            continue
        kind = get(svc.doc, "spec", "type") or "ClusterIP"
        if kind != "ClusterIP":
            yield at(svc, ["spec", "type"], "xcache-cluster-only",
                     f"Service {svc.key.name} of type {kind} exposes the XCache (an "
                     "unauthenticated proxy) outside the cluster: use ClusterIP")
        if get(svc.doc, "spec", "externalIPs"):
            yield at(svc, ["spec", "externalIPs"], "xcache-cluster-only",
                     f"Service {svc.key.name} has externalIPs: the XCache (an "
                     "unauthenticated proxy) must stay inside the cluster")
