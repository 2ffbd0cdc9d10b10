"""Derived paths and numbers shared by the data-lake checks and context builders.

Why: a host path, a mount path and ``path_begins_at`` must agree everywhere they appear; they
are computed by one function each and used by both the checks and the templates' context.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from dlaas_gen.config.eos import EosConfig
from dlaas_gen.config.site import SiteConfig

CONTAINER_MOUNT_ROOT = "/eos"
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def instance_local_dir(name: str) -> str:
    """Where eosxd mounts an instance inside the DaemonSet container (``/eos/<name>``)."""
    return f"{CONTAINER_MOUNT_ROOT}/{name}"


def eos_host_path(eos: EosConfig, instance: str, sub_path: str = "") -> str:
    """Host folder showing `sub_path` of an instance: host root + local mount dir − ``/eos``."""
    path = PurePosixPath(eos.host_mount_root) / instance
    if sub_path:
        path = path / sub_path
    return str(path)


def remote_dir(eos: EosConfig, instance: str) -> str | None:
    """The EOS directory an instance mounts."""
    for inst in eos.instances:
        if inst.name == instance:
            return inst.remote_mount_dir
    return None


def rse_location(site: SiteConfig, mount_path: str) -> tuple[str, str] | None:
    """(instance, sub-path) an in-pod path shows, when it lies under the user EOS mount."""
    if site.eos is None or site.eos.user_mount_path is None:
        return None
    root = PurePosixPath(site.eos.user_mount_path)
    path = PurePosixPath(mount_path)
    if root not in path.parents:
        return None
    parts = path.relative_to(root).parts
    if parts[0] not in [i.name for i in site.eos.instances]:
        return None
    return parts[0], "/".join(parts[1:])


def path_begins_at(site: SiteConfig, mount_path: str) -> int | None:
    """PFN components to drop so that PFN paths land under `mount_path` (domain.md 9.4).

    The RSE prefix is the instance's remote dir plus the sub-path the mount shows; the
    extension keeps what follows it, so the count is the number of components of that prefix.
    """
    location = rse_location(site, mount_path)
    if site.eos is None or location is None:
        return None
    instance, sub_path = location
    remote = remote_dir(site.eos, instance) or ""
    return len([p for p in remote.split("/") if p]) + len([p for p in sub_path.split("/") if p])


def mgm_in_cluster(mgm: str) -> bool:
    """True when an MGM ``host[:port]`` names a Service of this cluster.

    Why: a bare Service name or a ``*.svc[.<cluster domain>]`` name is reached pod-to-Service
    without source NAT; any other host is outside, and pod traffic to it leaves the node with the
    node's address.
    """
    host = mgm.rsplit(":", 1)[0] if mgm.count(":") == 1 else mgm
    return "." not in host or host.endswith(".svc") or ".svc." in host


def eos_oauth2_external(eos: EosConfig) -> list[int]:
    """Indexes of oauth2 instances whose MGM is outside the cluster."""
    return [n for n, inst in enumerate(eos.instances)
            if inst.oauth2 and not mgm_in_cluster(inst.mgm)]


def eos_host_network(eos: EosConfig) -> bool:
    """Whether eosxd runs with hostNetwork: the site's choice, else needed by sss's address check.

    Why: oauth2 tokens reach the MGM as sss endorsements, and the sss server compares the
    client's own address with the connection's source unless the key name ends in ``+``
    (xrootd ``XrdSecProtocolsss::Authenticate``, ``XrdSecsssKT::ktDecode0``); eosxd-csi's chart
    enables hostNetwork for the same reason ("SSS reports IP address mismatch").
    """
    if eos.host_network is not None:
        return eos.host_network
    noipck = eos.keytab is not None and eos.keytab.noipck
    return eos.mode == "daemonset" and not noipck and bool(eos_oauth2_external(eos))


def under(child: str, parent: str) -> bool:
    """True when the POSIX path `child` is `parent` or lies inside it."""
    child_path, parent_path = PurePosixPath(child), PurePosixPath(parent)
    return child_path == parent_path or parent_path in child_path.parents


def mounted_eos_dir(site: SiteConfig, mount_path: str) -> str | None:
    """The EOS directory an in-pod path shows (instance remote dir + sub-path), or None."""
    location = rse_location(site, mount_path)
    if site.eos is None or location is None:
        return None
    instance, sub_path = location
    remote = PurePosixPath(remote_dir(site.eos, instance) or "/")
    return str(remote / sub_path) if sub_path else str(remote)


def pod_path(site: SiteConfig, eos_path: str) -> str | None:
    """Where a file's EOS path appears in user pods (under ``eos.user_mount_path``), or None.

    Why: eosxd shows ``remotemountdir`` at ``localmountdir`` (``/eos/<instance>`` in its
    container), which user pods see under ``user_mount_path/<instance>``.
    """
    if site.eos is None or site.eos.user_mount_path is None:
        return None
    path = PurePosixPath(eos_path)
    for inst in site.eos.instances:
        remote = PurePosixPath(inst.remote_mount_dir)
        if path == remote or remote in path.parents:
            root = PurePosixPath(site.eos.user_mount_path)
            return str(root / inst.name / path.relative_to(remote))
    return None


def scratch_host_path(site: SiteConfig) -> str:
    """Host folder of the scratch area."""
    assert site.scratch is not None and site.eos is not None
    return eos_host_path(site.eos, site.scratch.eos_instance, site.scratch.sub_path)


def lifetime_seconds(value: str) -> int:
    """``30d`` → 2592000; a bare number is seconds."""
    unit = value[-1]
    if unit in _UNITS:
        return int(value[:-1]) * _UNITS[unit]
    return int(value)
