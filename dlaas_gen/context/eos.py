"""EOS FUSEx: the privileged eosxd DaemonSet (or the eosxd-csi driver's PVC) and user-pod mounts.

Why: user pods mount the host root (not an instance mount point) with ``HostToContainer``, so
an eosxd restart remounts underneath them instead of leaving a dead mount; only the DaemonSet
uses ``Bidirectional``, which Kubernetes allows only in privileged containers.

Why ``hostPID`` (and ``hostNetwork`` for an MGM outside the cluster): eosxd maps each FUSE
request to the caller's credentials by reading ``/proc/<pid>/environ`` (EOS ``fusex/auth``
``EnvironmentReader``); the kernel reports the pid as seen from eosxd's PID namespace, 0 for a
process in a user pod. OAuth2 tokens travel as sss endorsements, and the sss server checks the
client's own address against the connection's (xrootd ``XrdSecProtocolsss::Authenticate``),
which source NAT of pod traffic breaks. EOS's fusex chart (``fusex.hostPID``) and eosxd-csi
(``hostPID: true``, ``nodeplugin.hostNetwork: true`` with ``ClusterFirstWithHostNet``) do the
same. See ``config/derived.eos_host_network`` and the rule in ``config/checks/eos``.
"""

from __future__ import annotations

import json
from typing import Any

from dlaas_gen.config.derived import CONTAINER_MOUNT_ROOT, eos_host_network, instance_local_dir
from dlaas_gen.config.eos import EosConfig
from dlaas_gen.config.site import SiteConfig
from dlaas_gen.context.common import SITE_LABEL, common_labels
from dlaas_gen.context.hub_values import HubValues
from dlaas_gen.context.model import NAMESPACE_SECTION, SiteContext, SiteInput
from dlaas_gen.context.template_vars import (
    ConfigMapVars,
    CsiPersistentVolumeClaimVars,
    CsiPersistentVolumeVars,
    EosDaemonSetVars,
    NamespaceVars,
)
from dlaas_gen.payloads import payload_text

#: The site-file section of the objects below.
SECTION = ("eos",)
DAEMONSET = "eosxd"
CONFIGMAP = "eosxd-config"
KEYTAB_PATH = "/etc/eos.keytab"
CSI_NAMESPACE = "kube-system"
CSI_CONFIGMAP = "eos-csi-dir-etc-eos"
CSI_KEYTAB_SECRET = "eos-csi-file-etc-eos-keytab"
CSI_DRIVER = "eosxd.csi.cern.ch"
CSI_PVC = "eos"
CSI_VOLUME = "eos"
HOST_ROOT_VOLUME = "eos-host-root"
FUSE_DEVICE = "/dev/fuse"


def fuse_conf(eos: EosConfig, index: int) -> str:
    """``fuse.<name>.conf`` of one instance (JSON, as eosxd reads it)."""
    inst = eos.instances[index]
    auth: dict[str, Any] = {"shared-mount": 1, "sss": int(inst.sss), "oauth2": int(inst.oauth2),
                            "krb5": 0, "gsi-first": 0}
    if inst.sss:
        # Both our DaemonSet and the eosxd-csi chart mount the keytab there.
        auth["ssskeytab"] = KEYTAB_PATH
    conf = {
        "name": inst.name,
        "hostport": inst.mgm,
        "remotemountdir": inst.remote_mount_dir,
        "localmountdir": instance_local_dir(inst.name),
        "auth": auth,
        "options": {"hide-versions": 1},
    }
    return json.dumps(conf, indent=2) + "\n"


def contribute(site: SiteInput, out: SiteContext) -> None:
    """Add the EOS objects and the user-pod mounts."""
    eos = site.config.eos
    if eos is None:
        return
    confs = {f"fuse.{i.name}.conf": fuse_conf(eos, n) for n, i in enumerate(eos.instances)}
    if eos.mode == "daemonset":
        _add_daemonset(out, site.name, site.config, eos, confs)
        _add_user_mounts(eos, out.hub)
    else:
        _add_csi_volume(out, site.name, site.config, eos)
        _add_csi_user_mounts(site.config, eos, out.hub)


def _add_daemonset(out: SiteContext, site_name: str, site: SiteConfig, eos: EosConfig,
                   confs: dict[str, str]) -> None:
    labels = common_labels(site_name, "eos")
    ns = eos.namespace
    out.add("infrastructure", NAMESPACE_SECTION, NamespaceVars(name=ns, labels={
        **labels, "pod-security.kubernetes.io/enforce": "privileged",
        "pod-security.kubernetes.io/warn": "privileged"}))
    # eosxd configuration: one fuse.<name>.conf per instance, and the entrypoint script.
    data = {**confs, "entrypoint.sh": payload_text("eosxd_entrypoint.sh")}
    out.add("infrastructure", SECTION, ConfigMapVars(
        name=CONFIGMAP, namespace=ns, labels=labels, data=data))
    mounts = [instance_local_dir(i.name) for i in eos.instances]
    probe = " && ".join(f"grep -q ' {m} fuse' /proc/mounts" for m in mounts)
    volumes: list[dict[str, Any]] = [
        {"name": "fuse-device", "hostPath": {"path": FUSE_DEVICE, "type": "CharDevice"}},
        {"name": HOST_ROOT_VOLUME,
         "hostPath": {"path": eos.host_mount_root, "type": "DirectoryOrCreate"}},
        {"name": "eos-cache", "hostPath": {"path": eos.cache_dir, "type": "DirectoryOrCreate"}},
        {"name": "eos-config", "configMap": {"name": CONFIGMAP, "defaultMode": 0o444}},
    ]
    volume_mounts: list[dict[str, Any]] = [
        {"name": "fuse-device", "mountPath": FUSE_DEVICE},
        {"name": HOST_ROOT_VOLUME, "mountPath": CONTAINER_MOUNT_ROOT,
         "mountPropagation": "Bidirectional"},
        {"name": "eos-cache", "mountPath": "/var/cache/eos"},
        {"name": "eos-config", "mountPath": "/etc/eos", "readOnly": True},
    ]
    if eos.keytab is not None:
        volumes.append({"name": "eos-keytab", "secret": {
            "secretName": eos.keytab.name, "defaultMode": 0o400,
            "items": [{"key": eos.keytab.key, "path": "eos.keytab"}]}})
        volume_mounts.append({"name": "eos-keytab", "mountPath": KEYTAB_PATH,
                              "subPath": "eos.keytab", "readOnly": True})
        out.add_secret(ns, eos.keytab.name, eos.keytab.key,
                       f"DaemonSet {DAEMONSET} volume -> {KEYTAB_PATH}",
                       "EOS sss keytab (mode 0400)")
    assert eos.image is not None  # the site model sets it in daemonset mode
    su = site.singleuser
    out.add("infrastructure", SECTION, EosDaemonSetVars(
        name=DAEMONSET,
        namespace=ns,
        labels=labels,
        selector={"app.kubernetes.io/name": DAEMONSET, SITE_LABEL: site_name},
        image=eos.image.ref(),
        host_pid=eos.host_pid,
        host_network=eos_host_network(eos),
        node_selector=dict(su.node_selector),
        tolerations=[t.model_dump(exclude_none=True) for t in su.tolerations],
        volumes=volumes,
        volume_mounts=volume_mounts,
        command=["/bin/sh", "/etc/eos/entrypoint.sh", *[i.name for i in eos.instances]],
        probe=["/bin/sh", "-c", probe],
        pre_stop=["/bin/sh", "-c", "; ".join(f"umount -l {m} || true" for m in mounts)],
    ))
    # The host folders of the DaemonSet, and of user pods (below the mount root).
    out.mount_host_paths(eos.host_mount_root, eos.cache_dir, FUSE_DEVICE)
    out.fuse_daemonset = (ns, DAEMONSET)


def csi_volume_names(site: SiteConfig) -> tuple[str, str]:
    """(PersistentVolumeClaim, static PersistentVolume) of the EOS volume in csi mode.

    Why the PV name: it is cluster-wide, so it carries the hub namespace (as eosxd-csi's
    example/volume-pv-pvc.yaml does); the PVC lives in the hub namespace.
    """
    return CSI_PVC, f"{CSI_PVC}-{site.namespace}"


def _add_csi_volume(out: SiteContext, site_name: str, site: SiteConfig, eos: EosConfig) -> None:
    """The PVC user pods mount (plus a static PV when the site names no StorageClass).

    Why: eosxd-csi's CSIDriver is Persistent-only (no inline ``csi:`` volumes); its documented
    use is a ReadWriteMany PVC bound through the driver's StorageClass or a static PV
    (example/volume-storageclass-pvc.yaml, example/volume-pv-pvc.yaml; the node plugin
    refuses any access mode but ReadWriteMany, internal/eosxd/node/csiserver.go). The size is
    ignored by the driver but must not be zero. The driver's instance configuration is never
    rendered here: its chart owns ``eos-csi-dir-etc-eos`` (``dlaas-gen eos csi-values``).
    """
    claim, volume = csi_volume_names(site)
    labels = common_labels(site_name, "eos")
    if eos.storage_class is None:
        out.add("apps", SECTION, CsiPersistentVolumeVars(
            name=volume, labels=labels, driver=CSI_DRIVER, handle=volume))
    out.add("apps", SECTION, CsiPersistentVolumeClaimVars(
        name=claim, namespace=site.namespace, labels=labels,
        storage_class=eos.storage_class or "",
        volume_name=volume if eos.storage_class is None else None,
    ))
    if any(i.sss for i in eos.instances):
        out.add_secret(CSI_NAMESPACE, CSI_KEYTAB_SECRET, "eos.keytab",
                       "eosxd-csi node plugin (not rendered)",
                       "EOS sss keytab of the eosxd-csi driver (its chart's Secret, mounted at "
                       f"{KEYTAB_PATH}; in the driver's namespace)")


def _add_csi_user_mounts(site: SiteConfig, eos: EosConfig, hv: HubValues) -> None:
    """User pods mount the EOS PVC read-only with ``HostToContainer`` (no hostPath).

    The instance mounts that propagate into it later carry their own flags (writable, as in
    daemonset mode); the scratch area is a writable sub-path mount of the same volume.

    Why: the driver bind-mounts the autofs root ``/eos`` recursively as a slave
    (internal/eosxd/node/csiserver.go), so instance mounts made later appear in the pod only
    with HostToContainer propagation (example/pod-all-repos-oauth2.yaml).
    """
    if eos.user_mount_path is None:
        return
    claim, _ = csi_volume_names(site)
    hv.add({"singleuser": {"storage": {
        "extraVolumes": [{"name": CSI_VOLUME, "persistentVolumeClaim": {"claimName": claim}}],
        "extraVolumeMounts": [{"name": CSI_VOLUME, "mountPath": eos.user_mount_path,
                               "mountPropagation": "HostToContainer", "readOnly": True}],
    }}})


def csi_chart_values(eos: EosConfig) -> dict[str, Any]:
    """Values for the eosxd-csi chart that make the site's instances appear under ``/eos``.

    Why: the chart owns the ConfigMap ``eos-csi-dir-etc-eos`` (``extraConfigMaps``) with the
    ``fuse.<name>.conf`` files and the autofs map ``auto.eos``; an instance appears at
    ``/eos/<name>`` only when ``auto.eos`` lists it (deployments/helm/eosxd-csi/values.yaml).
    Applying that ConfigMap from here would fight the chart, so the cluster admin merges
    these values into the driver's release.
    """
    confs = {f"fuse.{i.name}.conf": fuse_conf(eos, n) for n, i in enumerate(eos.instances)}
    auto = "".join(f"{i.name} -fstype=eosx,fsname={i.name}  :eosxd\n" for i in eos.instances)
    return {"extraConfigMaps": {CSI_CONFIGMAP: {**confs, "auto.eos": auto}}}


def _add_user_mounts(eos: EosConfig, hv: HubValues) -> None:
    """Mount the host root (not an instance mount point) read-only with HostToContainer.

    Why: an eosxd restart replaces the FUSE mount under the host root; a pod that mounted the
    root sees the new mount, one that mounted the instance folder keeps a dead one.
    """
    if eos.user_mount_path is None:
        return
    hv.add({"singleuser": {"storage": {
        "extraVolumes": [{"name": HOST_ROOT_VOLUME,
                          "hostPath": {"path": eos.host_mount_root, "type": "Directory"}}],
        "extraVolumeMounts": [{"name": HOST_ROOT_VOLUME, "mountPath": eos.user_mount_path,
                               "mountPropagation": "HostToContainer", "readOnly": True}],
    }}})
