"""Context of the XCache: Deployment, Service, xrootd config, authdb, NetworkPolicy, refresh job.

Why: the allow-list is an xrootd authdb in a ConfigMap that xrootd re-reads live
(``acc.authrefresh``); the refresh CronJob rewrites it, so Flux creates it once
(``ssa: IfNotPresent``) and then leaves it alone. Every directive and object body is computed
here; the templates only place the blocks.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dlaas_gen.config import SiteConfig
from dlaas_gen.config.xcache import XCacheConfig, effective_exports, protocols_in_use
from dlaas_gen.context.common import common_labels
from dlaas_gen.context.hub_values import HubValues
from dlaas_gen.context.model import ObjectSpec, SiteContext
from dlaas_gen.origins_file import OriginsFile, origins_path, read_origins_file
from dlaas_gen.errors import ConfigError
from dlaas_gen.payloads import authdb_text, merge_origins, payload_text
from dlaas_gen.problem import Problem

#: The cache has a folder and a Flux Kustomization of its own that the hub's does not depend on,
#: so a crash-looping cache (or no node with the cache disks) never holds back the hub.
FOLDER = "cache"
NAME = "xcache"
CONFIG_CM = "xcache-config"
AUTHDB_CM = "xcache-authdb"
REFRESH = "xcache-origins-refresh"
CONFIG_DIR = "/etc/xcache/config"
AUTHDB_DIR = "/etc/xcache/authdb"
REFRESH_DIR = "/opt/xcache-refresh"
CA_DIR = "/etc/xcache-cric-ca"
META_MOUNT = "/xcache-meta"
RUN_DIR = "/var/run/xrootd"
SSA_ANNOTATION = "kustomize.toolkit.fluxcd.io/ssa"
SCRIPT = "xcache_refresh.py"
JOB_UID = 65534
PREPARE = "prepare-folders"


def xrootd_directives(xc: XCacheConfig) -> list[str]:
    """The lines of ``xcache.cfg`` (xrootd proxy file cache configuration)."""
    lines = [
        "# XCache (xrootd proxy file cache), rendered by dlaas-gen: edit the site file instead.",
        "all.role server",
        f"xrd.port {xc.port}",
        f"all.sitename {xc.site_name}",
        f"all.adminpath {RUN_DIR}",
        f"all.pidpath {RUN_DIR}",
    ]
    lines += [f"all.export {path}" for path in effective_exports(xc)]
    lines += ["ofs.osslib libXrdPss.so", "pss.cachelib libXrdPfc.so"]
    if xc.mode == "forwarding":
        extra = [p for p in protocols_in_use(xc) if p != "root"]
        lines.append("pss.origin =" + ",".join(extra))
        lines += [
            "# Origin allow-list: path privileges per origin, re-read live (no restart).",
            "ofs.authorize 1",
            f"acc.authdb {AUTHDB_DIR}/authdb",
            f"acc.authrefresh {xc.authdb_refresh_seconds}",
        ]
    else:
        lines.append(f"pss.origin {xc.origin}")
    paths = cache_paths(xc)
    lines.append(f"oss.localroot {paths.localroot}")
    lines += [f"oss.space {space} {path}" for space, path in paths.spaces]
    lines += [
        "pfc.spaces data meta",
        f"pfc.ram {xc.ram}",
        f"pfc.blocksize {xc.block_size}",
        f"pfc.prefetch {xc.prefetch}",
        f"pfc.diskusage {xc.disk_usage.low:g} {xc.disk_usage.high:g}",
        f"pfc.writequeue {xc.write_queue.blocks} {xc.write_queue.threads}",
    ]
    return lines


@dataclass(frozen=True)
class CachePaths:
    """The folders xrootd needs at start: ``oss.localroot`` and every ``oss.space`` path.

    Why: xrootd 5.5 creates none of them. A missing localroot fails the name2name setup
    (``XrdOucN2NLoader.cc``: ``stat(lclRoot)`` → "Unable to use localroot"), and a missing space
    path fails ``oss.space`` (``XrdOssCache.cc``, ``XrdOssCache_FS``: ``FS_Stat(fsPath)`` before
    the one-level ``mkdir`` of its own sub-folder; reported by ``XrdOssConfig.cc`` ``xspaceBuild``
    as "Unable to create meta space at ..."); XrdPfc makes no folder (no ``mkdir`` in
    ``src/XrdPfc``). The volumes start empty, so the init container makes them, from this one list.
    """

    localroot: str
    spaces: tuple[tuple[str, str], ...]

    @property
    def folders(self) -> list[str]:
        """Every folder to create, localroot first."""
        return [self.localroot, *(path for _, path in self.spaces)]


def cache_paths(xc: XCacheConfig) -> CachePaths:
    """The localroot and the ``oss.space`` paths (space name, path) the config names."""
    spaces = [("meta", f"{META_MOUNT}/xrdcinfos")]
    spaces += [("data", mount) for mount in data_mounts(xc)]
    return CachePaths(localroot=f"{META_MOUNT}/namespace", spaces=tuple(spaces))


def data_mounts(xc: XCacheConfig) -> list[str]:
    """Container paths of the data disks: ``/xcache-data_1``, ``/xcache-data_2``..."""
    return [f"/xcache-data_{i}" for i in range(1, len(xc.disks.data) + 1)]


def service_host(xc: XCacheConfig) -> str:
    """``host:port`` clients (and Rucio's proxy rewriting) reach the cache by."""
    host = xc.proxy_host or f"{NAME}.{xc.namespace}.svc.cluster.local"
    return f"{host}:{xc.service_port}"


def rucio_server_config(site: SiteConfig) -> str:
    """The Rucio server settings that route this deployment's clients through the cache.

    Why: the server prepends ``root://<[root-proxy-internal][site]>//`` to a wan ``root``,
    ``http`` or ``https`` PFN when the client's site (``SITE_NAME``, sent by the client's
    ``detect_client_location``) differs from the replica RSE's ``site`` attribute (rucio
    ``lib/rucio/core/replica.py``). The site file's checks make the name unique to this
    deployment, so only its pods receive the cluster-internal address.
    """
    xc = site.xcache
    if xc is None:
        raise ValueError("the site has no xcache section")
    host = service_host(xc)
    name = xc.site_name
    return (
        f"# Rucio server: clients presenting SITE_NAME={name} (this deployment's user pods,\n"
        "# only them: the name is unique to it) read through the XCache at its cluster-internal\n"
        "# address. In rucio.cfg, or: rucio-admin config set --section root-proxy-internal "
        f"--option {name} --value {host}\n"
        "[root-proxy-internal]\n"
        f"{name} = {host}\n"
        "# Side effect: no RSE has this name as its `site` attribute, so every wan root/http/https\n"
        "# replica these pods list, CERN-local ones included, comes through the cache (davs is\n"
        "# read as https). Give no RSE this `site` attribute unless its storage is in this cluster.\n"
    )


def allowed_origins(site_name: str, xc: XCacheConfig, sites_dir: Path | None) -> dict[str, list[str]]:
    """Static origins merged with the CRIC lock file (read from `sites_dir`, never the network).

    Without `sites_dir` (introspection, e.g. the field reference) the lock is not read and only
    the static origins are used; `pipeline.build_site` always passes the site's folder.

    Raises:
        ConfigError: the lock file is missing, malformed, or was made with other settings.
    """
    origins = xc.origins
    if origins is None:
        return {}
    parts = [origins.static_by_protocol()]
    if origins.cric is not None and sites_dir is not None:
        path = origins_path(sites_dir / f"{site_name}.yaml")
        lock = read_origins_file(path)
        _check_lock(path, lock, xc)
        parts.append(lock.origins)
    return merge_origins(*parts)


def _check_lock(path: Path, lock: OriginsFile, xc: XCacheConfig) -> None:
    cric = xc.origins.cric
    if sorted(set(lock.schemes)) != sorted(set(cric.schemes)) or sorted(
        set(lock.exclude_rses)) != sorted(set(cric.exclude_rses)):
        raise ConfigError([Problem(str(path), 1, 1, rule="xcache-origins", message=(
            "out of date with xcache.origins.cric (schemes or exclude_rses changed): run "
            f"`dlaas-gen cric sync {path.name.removesuffix('.origins.yaml')}`"))])


def add_xcache(ctx: SiteContext, site_name: str, site: SiteConfig, hv: HubValues,
               sites_dir: Path | None = None) -> None:
    """Add the XCache objects and wire ``SITE_NAME`` and egress into the user pods."""
    xc = site.xcache
    if xc is None:
        return
    ns = xc.namespace
    labels = common_labels(site_name, "xcache")
    selector = {"app.kubernetes.io/name": NAME, "app.kubernetes.io/instance": site_name}
    origins = allowed_origins(site_name, xc, sites_dir) if xc.mode == "forwarding" else {}
    refresh = xc.mode == "forwarding" and xc.origins is not None and xc.origins.cric is not None

    def add(template: str, kind: str, name: str, **vars: Any) -> None:
        ctx.add(ObjectSpec(f"xcache/{template}", FOLDER, kind, name,
                           {"name": name, "namespace": ns, "labels": labels, **vars}))

    ctx.add(ObjectSpec("core/namespace.yaml.j2", FOLDER, "Namespace", ns, {"name": ns, "labels": {
        **labels,
        # hostPath cache disks are refused by the baseline and restricted levels.
        "pod-security.kubernetes.io/enforce": "privileged",
        "pod-security.kubernetes.io/warn": "baseline",
    }}))
    config_text = "\n".join(xrootd_directives(xc)) + "\n"
    add("configmap.yaml.j2", "ConfigMap", CONFIG_CM, annotations={},
        data={"xcache.cfg": config_text})
    if xc.mode == "forwarding":
        annotations = {SSA_ANNOTATION: "IfNotPresent"} if refresh else {}
        add("configmap.yaml.j2", "ConfigMap", AUTHDB_CM, annotations=annotations,
            data={"authdb": authdb_text(origins, xc.auth_template, "lr") if origins
                  else "# no origins known (lock file not read)\n"})
    add("deployment.yaml.j2", "Deployment", NAME, replicas=xc.replicas, selector=selector,
        pod_annotations={"dlaas-gen.io/config-sha256":
                         hashlib.sha256(config_text.encode()).hexdigest()},
        pod_spec=_cache_pod_spec(xc, selector))
    add("service.yaml.j2", "Service", NAME, type=xc.service_type, selector=selector,
        ports=[{"name": "xrootd", "port": xc.service_port, "targetPort": "xrootd",
                "protocol": "TCP"}])
    clients = sorted({site.namespace, *xc.client_namespaces})
    add("networkpolicy.yaml.j2", "NetworkPolicy", NAME, selector=selector, ingress=[{
        "from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": n}}}
                 for n in clients],
        "ports": [{"port": xc.port, "protocol": "TCP"}],
    }])
    if refresh:
        _add_refresh_job(add, xc, ns)
    hv.add({"singleuser": {
        "extraEnv": {"SITE_NAME": xc.site_name},
        # z2jh user pods may not reach private IPs by default; allow the cache only.
        "networkPolicy": {"egress": [{
            "to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": ns}},
                    "podSelector": {"matchLabels": selector}}],
            "ports": [{"port": xc.port, "protocol": "TCP"}],
        }]},
    }})


def _security_context(uid: int) -> dict[str, Any]:
    return {
        "runAsNonRoot": True, "runAsUser": uid, "runAsGroup": uid,
        "allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"},
    }


def _resources(xc: XCacheConfig) -> dict[str, Any]:
    limits = {k: str(v) for k, v in (("cpu", xc.cpu.limit), ("memory", xc.memory.limit)) if v}
    requests = {k: str(v) for k, v in (("cpu", xc.cpu.guarantee),
                                       ("memory", xc.memory.guarantee)) if v}
    return {"limits": limits, "requests": requests}


def _cache_pod_spec(xc: XCacheConfig, selector: dict[str, str]) -> dict[str, Any]:
    mounts = [{"name": "config", "mountPath": CONFIG_DIR, "readOnly": True},
              {"name": "meta", "mountPath": META_MOUNT},
              {"name": "run", "mountPath": RUN_DIR}, {"name": "tmp", "mountPath": "/tmp"}]
    volumes: list[dict[str, Any]] = [
        {"name": "config", "configMap": {"name": CONFIG_CM}},
        {"name": "meta", "hostPath": {"path": xc.disks.meta, "type": "Directory"}},
        {"name": "run", "emptyDir": {}}, {"name": "tmp", "emptyDir": {}},
    ]
    if xc.mode == "forwarding":
        # A directory mount (no subPath): the kubelet swaps in ConfigMap updates, xrootd re-reads.
        mounts.insert(1, {"name": "authdb", "mountPath": AUTHDB_DIR, "readOnly": True})
        volumes.insert(1, {"name": "authdb", "configMap": {"name": AUTHDB_CM}})
    disk_mounts = [{"name": "meta", "mountPath": META_MOUNT}]
    for index, (host, mount) in enumerate(zip(xc.disks.data, data_mounts(xc), strict=True), 1):
        mounts.append({"name": f"data-{index}", "mountPath": mount})
        disk_mounts.append({"name": f"data-{index}", "mountPath": mount})
        volumes.append({"name": f"data-{index}", "hostPath": {"path": host, "type": "Directory"}})
    # Runs as the cache's uid: a folder it cannot create here, xrootd could not write either.
    prepare = {
        "name": PREPARE,
        "image": xc.image.ref(),
        "command": ["mkdir", "-p", *cache_paths(xc).folders],
        "resources": {"limits": {"cpu": "100m", "memory": "64Mi"},
                      "requests": {"cpu": "10m", "memory": "16Mi"}},
        "securityContext": _security_context(xc.run_as_user),
        "volumeMounts": disk_mounts,
    }
    probe = {"tcpSocket": {"port": "xrootd"}}
    container = {
        "name": "xrootd",
        "image": xc.image.ref(),
        "command": ["xrootd", "-c", f"{CONFIG_DIR}/xcache.cfg"],
        "ports": [{"name": "xrootd", "containerPort": xc.port, "protocol": "TCP"}],
        "readinessProbe": {**probe, "initialDelaySeconds": 5, "periodSeconds": 10},
        "livenessProbe": {**probe, "initialDelaySeconds": 60, "periodSeconds": 30,
                          "failureThreshold": 4},
        "resources": _resources(xc),
        "securityContext": _security_context(xc.run_as_user),
        "volumeMounts": mounts,
    }
    spec: dict[str, Any] = {
        "automountServiceAccountToken": False,
        "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
        "initContainers": [prepare],
        "containers": [container],
        "volumes": volumes,
    }
    if xc.node_selector:
        spec["nodeSelector"] = dict(xc.node_selector)
    if xc.tolerations:
        spec["tolerations"] = [t.model_dump(exclude_none=True) for t in xc.tolerations]
    if xc.replicas > 1:
        spec["affinity"] = {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
            {"labelSelector": {"matchLabels": selector}, "topologyKey": "kubernetes.io/hostname"}]}}
    return spec


def refresh_config(xc: XCacheConfig, ns: str) -> dict[str, Any]:
    """The JSON config of the in-cluster refresh script."""
    cric = xc.origins.cric
    config: dict[str, Any] = {
        "cric_url": cric.url,
        "schemes": list(cric.schemes),
        "exclude_rses": sorted(cric.exclude_rses),
        "static": xc.origins.static_by_protocol(),
        "template": xc.auth_template,
        "privileges": "lr",
        "namespace": ns,
        "configmap": AUTHDB_CM,
        "key": "authdb",
    }
    if cric.ca_configmap is not None:
        config["ca_file"] = f"{CA_DIR}/{cric.ca_configmap.key}"
    return config


def _add_refresh_job(add: Any, xc: XCacheConfig, ns: str) -> None:
    cric = xc.origins.cric
    config = json.dumps(refresh_config(xc, ns), indent=2, sort_keys=True) + "\n"
    add("configmap.yaml.j2", "ConfigMap", REFRESH, annotations={},
        data={SCRIPT: payload_text(SCRIPT), "config.json": config})
    add("serviceaccount.yaml.j2", "ServiceAccount", REFRESH)
    # resourceNames cannot limit `create`: the ConfigMap is created by Flux first.
    add("role.yaml.j2", "Role", REFRESH, rules=[{
        "apiGroups": [""], "resources": ["configmaps"], "resourceNames": [AUTHDB_CM],
        "verbs": ["get", "patch"]}])
    add("rolebinding.yaml.j2", "RoleBinding", REFRESH, role=REFRESH, service_account=REFRESH)
    mounts = [{"name": "refresh", "mountPath": REFRESH_DIR, "readOnly": True}]
    volumes: list[dict[str, Any]] = [{"name": "refresh", "configMap": {"name": REFRESH}}]
    if cric.ca_configmap is not None:
        mounts.append({"name": "cric-ca", "mountPath": CA_DIR, "readOnly": True})
        volumes.append({"name": "cric-ca", "configMap": {"name": cric.ca_configmap.name}})
    container = {
        "name": "refresh",
        "image": cric.job_image.ref(),
        "command": ["python3", f"{REFRESH_DIR}/{SCRIPT}", "--config", f"{REFRESH_DIR}/config.json"],
        "env": [{"name": "PYTHONDONTWRITEBYTECODE", "value": "1"}],
        "resources": {"limits": {"cpu": "200m", "memory": "128Mi"},
                      "requests": {"cpu": "50m", "memory": "64Mi"}},
        "securityContext": _security_context(JOB_UID),
        "volumeMounts": mounts,
    }
    pod_spec = {
        "serviceAccountName": REFRESH,
        "automountServiceAccountToken": True,
        "restartPolicy": "Never",
        "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [container],
        "volumes": volumes,
    }
    add("cronjob.yaml.j2", "CronJob", REFRESH, schedule=cric.refresh_schedule, pod_spec=pod_spec)
