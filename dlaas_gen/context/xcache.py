"""Context of the XCache: Deployment, Service, xrootd config, authdb, NetworkPolicy, refresh job.

Why: the allow-list is an xrootd authdb in a ConfigMap that xrootd re-reads live
(``acc.authrefresh``); the refresh CronJob rewrites it, so Flux creates it once
(``ssa: IfNotPresent``) and then leaves it alone. Every directive, path and volume is computed
here; the templates write the objects' structure and hardening.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dlaas_gen.config import SiteConfig
from dlaas_gen.config.xcache import (
    CricOrigins,
    XCacheConfig,
    effective_exports,
    protocols_in_use,
)
from dlaas_gen.context.common import common_labels
from dlaas_gen.context.model import NAMESPACE_SECTION, SiteContext, SiteInput
from dlaas_gen.context.template_vars import (
    ConfigMapEditorRoleVars,
    ConfigMapVars,
    NamespaceVars,
    NetworkPolicyVars,
    RefreshCronJobVars,
    RoleBindingVars,
    ServiceAccountVars,
    ServiceVars,
    XCacheDeploymentVars,
)
from dlaas_gen.payloads import authdb_text, merge_origins, payload_text

#: The cache has a folder and a Flux Kustomization of its own that the hub's does not depend on,
#: so a crash-looping cache (or no node with the cache disks) never holds back the hub.
FOLDER = "cache"
#: The site-file section of the objects below.
SECTION = ("xcache",)
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
CONFIG_DIGEST_ANNOTATION = "dlaas-gen.io/config-sha256"
SCRIPT = "xcache_refresh.py"
JOB_UID = 65534


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
        "# Side effect: no RSE has this name as its `site` attribute, so every wan "
        "root/http/https\n"
        "# replica these pods list, CERN-local ones included, comes through the cache (davs is\n"
        "# read as https). Give no RSE this `site` attribute unless its storage is in this "
        "cluster.\n"
    )


def allowed_origins(xc: XCacheConfig,
                    cric_origins: Mapping[str, list[str]] | None) -> dict[str, list[str]]:
    """The static origins merged with those of the CRIC origins file (when it was read)."""
    origins = xc.origins
    if origins is None:
        return {}
    parts = [origins.static_by_protocol()]
    if origins.cric is not None and cric_origins is not None:
        parts.append(dict(cric_origins))
    return merge_origins(*parts)


def contribute(site: SiteInput, out: SiteContext) -> None:
    """Add the XCache objects and wire ``SITE_NAME`` and egress into the user pods."""
    xc = site.config.xcache
    if xc is None:
        return
    ns = xc.namespace
    labels = common_labels(site.name, "xcache")
    selector = {"app.kubernetes.io/name": NAME, "app.kubernetes.io/instance": site.name}
    origins = allowed_origins(xc, site.cric_origins) if xc.mode == "forwarding" else {}
    refresh = xc.mode == "forwarding" and xc.origins is not None and xc.origins.cric is not None

    out.add(FOLDER, NAMESPACE_SECTION, NamespaceVars(name=ns, labels={
        **labels,
        # hostPath cache disks are refused by the baseline and restricted levels.
        "pod-security.kubernetes.io/enforce": "privileged",
        "pod-security.kubernetes.io/warn": "baseline",
    }))
    config_text = "\n".join(xrootd_directives(xc)) + "\n"
    out.add(FOLDER, SECTION, ConfigMapVars(
        name=CONFIG_CM, namespace=ns, labels=labels, data={"xcache.cfg": config_text}))
    if xc.mode == "forwarding":
        annotations = {SSA_ANNOTATION: "IfNotPresent"} if refresh else {}
        out.add(FOLDER, SECTION, ConfigMapVars(
            name=AUTHDB_CM, namespace=ns, labels=labels, annotations=annotations,
            data={"authdb": authdb_text(origins, xc.auth_template, "lr") if origins
                  else "# no origins known (lock file not read)\n"}))
    out.add(FOLDER, SECTION, _deployment(xc, labels, selector, config_text))
    out.mount_host_paths(*xc.disks.data, xc.disks.meta)
    out.add(FOLDER, SECTION, ServiceVars(
        name=NAME, namespace=ns, labels=labels, type=xc.service_type, selector=selector,
        port=xc.service_port))
    out.add(FOLDER, SECTION, NetworkPolicyVars(
        name=NAME, namespace=ns, labels=labels, selector=selector,
        client_namespaces=sorted({site.config.namespace, *xc.client_namespaces}), port=xc.port))
    if refresh:
        _add_refresh_job(out, xc, labels)
    out.hub.add({"singleuser": {
        "extraEnv": {"SITE_NAME": xc.site_name},
        # z2jh user pods may not reach private IPs by default; allow the cache only.
        "networkPolicy": {"egress": [{
            "to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": ns}},
                    "podSelector": {"matchLabels": selector}}],
            "ports": [{"port": xc.port, "protocol": "TCP"}],
        }]},
    }})


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _resources(xc: XCacheConfig) -> dict[str, Any]:
    limits = {k: str(v) for k, v in (("cpu", xc.cpu.limit), ("memory", xc.memory.limit)) if v}
    requests = {k: str(v) for k, v in (("cpu", xc.cpu.guarantee),
                                       ("memory", xc.memory.guarantee)) if v}
    return {"limits": limits, "requests": requests}


def _deployment(xc: XCacheConfig, labels: dict[str, str], selector: dict[str, str],
                config_text: str) -> XCacheDeploymentVars:
    """The cache's Deployment: its volumes and mounts (the template writes the rest)."""
    mounts: list[dict[str, Any]] = [
        {"name": "config", "mountPath": CONFIG_DIR, "readOnly": True},
        {"name": "meta", "mountPath": META_MOUNT},
        {"name": "run", "mountPath": RUN_DIR}, {"name": "tmp", "mountPath": "/tmp"},
    ]
    volumes: list[dict[str, Any]] = [
        {"name": "config", "configMap": {"name": CONFIG_CM}},
        {"name": "meta", "hostPath": {"path": xc.disks.meta, "type": "Directory"}},
        {"name": "run", "emptyDir": {}}, {"name": "tmp", "emptyDir": {}},
    ]
    if xc.mode == "forwarding":
        # A directory mount (no subPath): the kubelet swaps in ConfigMap updates, xrootd re-reads.
        mounts.insert(1, {"name": "authdb", "mountPath": AUTHDB_DIR, "readOnly": True})
        volumes.insert(1, {"name": "authdb", "configMap": {"name": AUTHDB_CM}})
    disk_mounts: list[dict[str, Any]] = [{"name": "meta", "mountPath": META_MOUNT}]
    for index, (host, mount) in enumerate(zip(xc.disks.data, data_mounts(xc), strict=True), 1):
        mounts.append({"name": f"data-{index}", "mountPath": mount})
        disk_mounts.append({"name": f"data-{index}", "mountPath": mount})
        volumes.append({"name": f"data-{index}", "hostPath": {"path": host, "type": "Directory"}})
    return XCacheDeploymentVars(
        name=NAME, namespace=xc.namespace, labels=labels, replicas=xc.replicas, selector=selector,
        # A change of the config restarts the cache (xrootd reads it at start only).
        pod_annotations={CONFIG_DIGEST_ANNOTATION: _digest(config_text)},
        image=xc.image.ref(),
        uid=xc.run_as_user,
        prepare_command=["mkdir", "-p", *cache_paths(xc).folders],
        command=["xrootd", "-c", f"{CONFIG_DIR}/xcache.cfg"],
        port=xc.port,
        resources=_resources(xc),
        prepare_mounts=disk_mounts,
        volume_mounts=mounts,
        volumes=volumes,
        node_selector=dict(xc.node_selector),
        tolerations=[t.model_dump(exclude_none=True) for t in xc.tolerations],
    )


def refresh_config(xc: XCacheConfig, cric: CricOrigins) -> dict[str, Any]:
    """The JSON config of the in-cluster refresh script."""
    assert xc.origins is not None
    config: dict[str, Any] = {
        "cric_url": cric.url,
        "schemes": list(cric.schemes),
        "exclude_rses": sorted(cric.exclude_rses),
        "static": xc.origins.static_by_protocol(),
        "template": xc.auth_template,
        "privileges": "lr",
        "namespace": xc.namespace,
        "configmap": AUTHDB_CM,
        "key": "authdb",
    }
    if cric.ca_configmap is not None:
        config["ca_file"] = f"{CA_DIR}/{cric.ca_configmap.key}"
    return config


def _add_refresh_job(out: SiteContext, xc: XCacheConfig, labels: dict[str, str]) -> None:
    assert xc.origins is not None and xc.origins.cric is not None
    cric = xc.origins.cric
    ns = xc.namespace
    config = json.dumps(refresh_config(xc, cric), indent=2, sort_keys=True) + "\n"
    out.add(FOLDER, SECTION, ConfigMapVars(
        name=REFRESH, namespace=ns, labels=labels,
        data={SCRIPT: payload_text(SCRIPT), "config.json": config}))
    out.add(FOLDER, SECTION, ServiceAccountVars(name=REFRESH, namespace=ns, labels=labels))
    out.add(FOLDER, SECTION, ConfigMapEditorRoleVars(
        name=REFRESH, namespace=ns, labels=labels, configmap=AUTHDB_CM))
    out.add(FOLDER, SECTION, RoleBindingVars(
        name=REFRESH, namespace=ns, labels=labels, role=REFRESH, service_account=REFRESH))
    mounts: list[dict[str, Any]] = [{"name": "refresh", "mountPath": REFRESH_DIR,
                                     "readOnly": True}]
    volumes: list[dict[str, Any]] = [{"name": "refresh", "configMap": {"name": REFRESH}}]
    if cric.ca_configmap is not None:
        mounts.append({"name": "cric-ca", "mountPath": CA_DIR, "readOnly": True})
        volumes.append({"name": "cric-ca", "configMap": {"name": cric.ca_configmap.name}})
    out.add(FOLDER, SECTION, RefreshCronJobVars(
        name=REFRESH, namespace=ns, labels=labels, schedule=cric.refresh_schedule,
        service_account=REFRESH, image=cric.job_image.ref(),
        command=["python3", f"{REFRESH_DIR}/{SCRIPT}", "--config", f"{REFRESH_DIR}/config.json"],
        uid=JOB_UID, volume_mounts=mounts, volumes=volumes,
    ))
