"""The policy checks: each yields findings ``(manifest, path, rule id, message)``.

Why: findings carry the object and the path, not a position or a severity; the package entry
point applies exceptions, severities and positions in one place.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Callable, Iterator
from typing import Any

from dlaas_gen.manifest import Manifest
from dlaas_gen.validate.policy.settings import PolicySettings
from dlaas_gen.validate.workloads import (
    as_list,
    as_map,
    containers,
    get,
    image_problem,
    workloads,
    z2jh_releases,
)

Finding = tuple[Manifest, tuple[Any, ...], str, str]


Check = Callable[[list[Manifest], PolicySettings], Iterator[Finding]]
CHECKS: list[Check] = []
BASELINE_CAPS = frozenset({"AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL",
                           "MKNOD", "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID",
                           "SYS_CHROOT"})


def check(func: Check) -> Check:
    """Register a policy check."""
    CHECKS.append(func)
    return func


def _ctx(container: dict[str, Any], key: str) -> Any:
    return get(container, "securityContext", key)


@check
def privileged(tree: list[Manifest], settings: PolicySettings) -> Iterator[Finding]:
    """PRIV001-PRIV005: privileged containers, Bidirectional, host namespaces and ports.

    Why hostPID and hostNetwork have rules of their own: the EOS FUSE DaemonSet needs both
    (see ``context/eos.py``), so each is excepted for that DaemonSet alone, with a written
    reason, while hostIPC and hostPorts stay refused for every workload.
    """
    for m, base, spec in workloads(tree):
        for key, rule_id in HOST_NAMESPACES:
            if spec.get(key) is True:
                yield m, (*base, key), rule_id, f"pod uses {key}"
        for path, container in containers(spec, base):
            yield from _privileged_container(m, path, container)
    for m, values in z2jh_releases(tree, settings.charts_dir):
        yield from _privileged_singleuser(m, values)


#: The pod fields that share a host namespace, and the rule of each.
HOST_NAMESPACES = (("hostPID", "PRIV004"), ("hostNetwork", "PRIV005"), ("hostIPC", "PRIV003"))


def _privileged_container(m: Manifest, path: tuple[Any, ...],
                          container: dict[str, Any]) -> Iterator[Finding]:
    """PRIV001 (privileged), PRIV002 (Bidirectional mounts), PRIV003 (hostPort) of a container."""
    if _ctx(container, "privileged") is True:
        yield m, (*path, "securityContext", "privileged"), "PRIV001", \
            f"container {container.get('name')!r} is privileged"
    for index, mount in enumerate(as_list(container.get("volumeMounts"))):
        if get(mount, "mountPropagation") == "Bidirectional":
            yield m, (*path, "volumeMounts", index, "mountPropagation"), "PRIV002", \
                f"volume mount {get(mount, 'mountPath')!r} uses Bidirectional propagation"
    for index, port in enumerate(as_list(container.get("ports"))):
        if get(port, "hostPort"):
            yield m, (*path, "ports", index, "hostPort"), "PRIV003", "container uses a hostPort"


def _privileged_singleuser(m: Manifest, values: dict[str, Any]) -> Iterator[Finding]:
    """PRIV001 in the merged single-user values: iptables init container, privileged extras."""
    if get(values, "singleuser", "cloudMetadata", "blockWithIptables") is True:
        yield m, ("spec", "values", "singleuser"), "PRIV001", (
            "singleuser.cloudMetadata.blockWithIptables adds a privileged init container to "
            "every user pod; block the metadata server with the NetworkPolicy instead")
    for key in ("initContainers", "extraContainers"):
        for index, container in enumerate(as_list(get(values, "singleuser", key))):
            if _ctx(container, "privileged") is True:
                yield m, ("spec", "values", "singleuser", key, index), "PRIV001", \
                    f"singleuser.{key}[{index}] is privileged"


@check
def escalation_and_capabilities(
    tree: list[Manifest], _settings: PolicySettings
) -> Iterator[Finding]:
    """ESC001, CAP001 for containers of workloads dlaas-gen renders (privileged ones excepted)."""
    for m, base, spec in workloads(tree):
        for path, container in containers(spec, base):
            if _ctx(container, "privileged") is True:
                continue  # covered by PRIV001; a privileged container has every capability
            name = container.get("name")
            if _ctx(container, "allowPrivilegeEscalation") is not False:
                yield m, (*path, "securityContext"), "ESC001", \
                    f"container {name!r} does not set allowPrivilegeEscalation: false"
            capabilities = get(container, "securityContext", "capabilities")
            drop = [str(c).upper() for c in as_list(get(capabilities, "drop"))]
            add = as_list(get(capabilities, "add"))
            if "ALL" not in drop or add:
                yield m, (*path, "securityContext"), "CAP001", \
                    f"container {name!r} must drop ALL capabilities and add none"


@check
def singleuser_identity(tree: list[Manifest], settings: PolicySettings) -> Iterator[Finding]:
    """USER001, USER002, RES002 on the merged single-user values."""
    for m, values in z2jh_releases(tree, settings.charts_dir):
        su = as_map(get(values, "singleuser"))
        where = ("spec", "values", "singleuser")
        run_as = get(su, "extraPodConfig", "securityContext", "runAsUser")
        if su.get("uid") == 0 or run_as == 0:
            yield m, (*where, "uid"), "USER001", "single-user servers would run as root (uid 0)"
        if get(su, "extraPodConfig", "securityContext", "runAsNonRoot") is False:
            yield m, (*where, "extraPodConfig"), "USER001", \
                "single-user pods set runAsNonRoot: false"
        if su.get("allowPrivilegeEscalation") is not False:
            yield m, (*where, "allowPrivilegeEscalation"), "USER002", \
                "singleuser.allowPrivilegeEscalation must be false"
        for kind in ("cpu", "memory"):
            block = as_map(su.get(kind))
            missing = [k for k in ("limit", "guarantee") if block.get(k) in (None, "")]
            if missing:
                yield m, (*where, kind), "RES002", \
                    f"singleuser.{kind} has no {' and no '.join(missing)}"


@check
def resources(tree: list[Manifest], _settings: PolicySettings) -> Iterator[Finding]:
    """RES001: CPU and memory requests and limits on every container."""
    for m, base, spec in workloads(tree):
        for path, container in containers(spec, base):
            res = container.get("resources") or {}
            missing = [f"{kind}.{what}" for kind in ("requests", "limits")
                       for what in ("cpu", "memory") if get(res, kind, what) in (None, "")]
            if missing:
                yield m, (*path, "resources"), "RES001", \
                    f"container {container.get('name')!r} has no {', '.join(missing)}"


@check
def chart_images(tree: list[Manifest], settings: PolicySettings) -> Iterator[Finding]:
    """IMG001: images in the merged chart values (profile overrides included)."""
    for m, values in z2jh_releases(tree, settings.charts_dir):
        su = as_map(get(values, "singleuser"))
        image = su.get("image") or {}
        unpinned = str(get(image, "tag") or "") in ("", "latest")
        if isinstance(image, dict) and image.get("name") and unpinned:
            yield m, ("spec", "values", "singleuser", "image"), "IMG001", \
                f"singleuser image {image.get('name')!r} is not pinned"
        for index, profile in enumerate(as_list(su.get("profileList"))):
            override = get(profile, "kubespawner_override", "image")
            why = image_problem(str(override)) if isinstance(override, str) else None
            if why:
                yield m, ("spec", "values", "singleuser", "profileList", index,
                          "kubespawner_override", "image"), "IMG001", f"profile #{index + 1}: {why}"


def _under(path: str, roots: tuple[str, ...]) -> bool:
    norm = posixpath.normpath(path)
    if not path.startswith("/") or ".." in path.split("/"):
        return False
    return any(norm == r or norm.startswith(r.rstrip("/") + "/")
               for r in (posixpath.normpath(root) for root in roots))


def _volume_sets(
    tree: list[Manifest], settings: PolicySettings
) -> Iterator[tuple[Manifest, tuple[Any, ...], list[Any]]]:
    for m, base, spec in workloads(tree):
        yield m, (*base, "volumes"), as_list(spec.get("volumes"))
    for m, values in z2jh_releases(tree, settings.charts_dir):
        yield m, ("spec", "values", "singleuser", "storage", "extraVolumes"), \
            as_list(get(values, "singleuser", "storage", "extraVolumes"))


@check
def host_paths(tree: list[Manifest], settings: PolicySettings) -> Iterator[Finding]:
    """HOST001: hostPath volumes only under the configured roots."""
    for m, path, volumes in _volume_sets(tree, settings):
        for index, volume in enumerate(volumes):
            host = get(volume, "hostPath", "path")
            if host is not None and not _under(str(host), settings.host_roots):
                roots = ", ".join(settings.host_roots) or "none configured"
                yield m, (*path, index, "hostPath", "path"), "HOST001", \
                    f"hostPath {str(host)!r} is outside the configured roots ({roots})"


@check
def network_policies(tree: list[Manifest], settings: PolicySettings) -> Iterator[Finding]:
    """NET001 (policies enabled) and NET002 (single-user egress limited)."""
    for m, values in z2jh_releases(tree, settings.charts_dir):
        for part in (("hub",), ("singleuser",), ("proxy", "chp")):
            if get(values, *part, "networkPolicy", "enabled") is not True:
                yield m, ("spec", "values", *part, "networkPolicy"), "NET001", \
                    f"{'.'.join(part)}.networkPolicy is disabled"
        rules = as_map(get(values, "singleuser", "networkPolicy", "egressAllowRules"))
        open_rules = [k for k in ("nonPrivateIPs", "privateIPs") if rules.get(k) is not False]
        wide = [r for r in as_list(get(values, "singleuser", "networkPolicy", "egress"))
                if not get(r, "to") or any(get(t, "ipBlock", "cidr") in ("0.0.0.0/0", "::/0")
                                           for t in as_list(get(r, "to")))]
        if open_rules or wide:
            what = ", ".join(open_rules) + (" and an egress rule to any address" if wide else "")
            yield m, ("spec", "values", "singleuser", "networkPolicy"), "NET002", \
                f"single-user egress is open ({what.strip(', ')}); list the site's services in " \
                "security.egress"


@check
def service_account_tokens(tree: list[Manifest], _settings: PolicySettings) -> Iterator[Finding]:
    """SA001: no ServiceAccount token in pods whose account has no RBAC binding in the tree."""
    bound = set()
    for m in tree:
        if m.kind in ("RoleBinding", "ClusterRoleBinding") and isinstance(m.doc, dict):
            for subject in as_list(m.doc.get("subjects")):
                if get(subject, "kind") == "ServiceAccount":
                    ns = get(subject, "namespace") or get(m.doc, "metadata", "namespace")
                    bound.add((ns, get(subject, "name")))
    for m, base, spec in workloads(tree):
        account = spec.get("serviceAccountName") or "default"
        ns = get(m.doc, "metadata", "namespace")
        if spec.get("automountServiceAccountToken") is not False and (ns, account) not in bound:
            yield m, (*base, "automountServiceAccountToken"), "SA001", (
                f"pod mounts the token of ServiceAccount {account!r}, which has no role here; "
                "set automountServiceAccountToken: false")


@check
def rbac_wildcards(tree: list[Manifest], _settings: PolicySettings) -> Iterator[Finding]:
    """RBAC001: no '*' in Role and ClusterRole rules."""
    for m in tree:
        if m.kind not in ("Role", "ClusterRole") or not isinstance(m.doc, dict):
            continue
        for index, rule_ in enumerate(as_list(m.doc.get("rules"))):
            for key in ("apiGroups", "resources", "verbs", "nonResourceURLs"):
                if any("*" in str(v) for v in as_list(get(rule_, key))):
                    yield m, ("rules", index, key), "RBAC001", f"rules[{index}].{key} uses '*'"


def _mode_ok(mode: Any) -> bool:
    return not isinstance(mode, int) or isinstance(mode, bool) or (mode & 0o077) == 0


@check
def token_file_modes(tree: list[Manifest], settings: PolicySettings) -> Iterator[Finding]:
    """TOK001: Secret volumes owner-only; the token renewer writes its files 0600."""
    for m, path, volumes in _volume_sets(tree, settings):
        for index, volume in enumerate(volumes):
            yield from _secret_volume_modes(m, (*path, index), volume)
    for m in tree:
        if m.kind != "ConfigMap" or not isinstance(m.doc, dict):
            continue
        for key, text in (m.doc.get("data") or {}).items():
            if str(key).startswith("token-renewer") and isinstance(text, str):
                yield from _renewer_modes(m, key, text)


def _secret_volume_modes(m: Manifest, path: tuple[Any, ...], volume: Any) -> Iterator[Finding]:
    """TOK001 for one Secret volume: its default mode and each item's mode."""
    secret = get(volume, "secret")
    if not isinstance(secret, dict):
        return
    name = get(volume, "name")
    mode = secret.get("defaultMode", 0o644)
    if not _mode_ok(mode):
        yield m, (*path, "secret"), "TOK001", \
            f"Secret volume {name!r} has mode {oct(mode)[2:]} (use 0400 or 0600)"
    for item_index, item in enumerate(as_list(secret.get("items"))):
        if not _mode_ok(get(item, "mode")):
            yield m, (*path, "secret", "items", item_index, "mode"), "TOK001", \
                f"Secret volume {name!r} item has a group/other readable mode"


def _renewer_modes(m: Manifest, key: str, text: str) -> Iterator[Finding]:
    try:
        config = json.loads(text)
    except ValueError:
        return
    for entry in as_list(get(config, "files")):
        mode = get(entry, "mode")
        if mode is None:
            continue
        value = int(mode, 8) if isinstance(mode, str) and mode.isdigit() else mode
        if not isinstance(value, int) or value & 0o177:
            yield m, ("data", key), "TOK001", \
                f"token file {get(entry, 'path')!r} mode {mode!r} is not 0600"
