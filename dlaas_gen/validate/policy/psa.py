"""PSA001: each namespace's Pod Security Admission level is the lowest its pods allow.

Why: a level too low rejects the pods at admission (a broken deploy), a level too high admits
pods that should have been refused; both are visible only in the cluster, so the level is
computed here from the pod specs (the Kubernetes Pod Security Standards, simplified).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from dlaas_gen.manifest import Manifest
from dlaas_gen.validate.policy.checks import BASELINE_CAPS, Finding, check
from dlaas_gen.validate.policy.settings import PolicySettings
from dlaas_gen.validate.workloads import (
    as_list,
    as_map,
    containers,
    get,
    release_namespace,
    unknown_chart_releases,
    workloads,
    z2jh_releases,
)

LEVELS = ("restricted", "baseline", "privileged")
ENFORCE = "pod-security.kubernetes.io/enforce"
RESTRICTED_VOLUMES = frozenset({"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral",
                                "persistentVolumeClaim", "projected", "secret", "name"})


def pod_level(spec: dict[str, Any]) -> str:
    """The lowest Pod Security level that admits a pod spec."""
    if any(spec.get(k) is True for k in ("hostNetwork", "hostPID", "hostIPC")):
        return "privileged"
    if any("hostPath" in v for v in as_list(spec.get("volumes")) if isinstance(v, dict)):
        return "privileged"
    pod_ctx = spec.get("securityContext") or {}
    restricted = all(set(v) <= RESTRICTED_VOLUMES for v in as_list(spec.get("volumes"))
                     if isinstance(v, dict))
    for _, c in containers(spec, ()):
        ctx = c.get("securityContext") or {}
        added = {str(x).upper() for x in as_list(get(ctx, "capabilities", "add"))}
        if ctx.get("privileged") is True or added - BASELINE_CAPS:
            return "privileged"
        if any(get(p, "hostPort") for p in as_list(c.get("ports"))):
            return "privileged"
        drops = {str(x).upper() for x in as_list(get(ctx, "capabilities", "drop"))}
        non_root = ctx.get("runAsNonRoot", pod_ctx.get("runAsNonRoot")) is True
        seccomp = get(ctx, "seccompProfile", "type") or get(pod_ctx, "seccompProfile", "type")
        if (ctx.get("allowPrivilegeEscalation") is not False or "ALL" not in drops
                or added - {"NET_BIND_SERVICE"} or not non_root
                or seccomp not in ("RuntimeDefault", "Localhost")
                or ctx.get("runAsUser", pod_ctx.get("runAsUser")) == 0):
            restricted = False
    return "restricted" if restricted else "baseline"


def singleuser_level(values: dict[str, Any]) -> str:
    """The level the z2jh pods of a release need.

    Baseline (the chart's pods), privileged with hostPath volumes or a privileged container in
    user pods.
    """
    su = as_map(get(values, "singleuser"))
    volumes = as_list(get(su, "storage", "extraVolumes"))
    if any("hostPath" in v for v in volumes if isinstance(v, dict)):
        return "privileged"
    if get(su, "cloudMetadata", "blockWithIptables") is True:
        return "privileged"
    return "baseline"


@check
def namespace_levels(tree: list[Manifest], settings: PolicySettings) -> Iterator[Finding]:
    """PSA001 for every Namespace object of the tree."""
    needed: dict[str, str] = {}

    def need(ns: str, level: str) -> None:
        current = needed.get(ns, "restricted")
        needed[ns] = max(current, level, key=LEVELS.index)

    for m, _, spec in workloads(tree):
        need(str(get(m.doc, "metadata", "namespace") or ""), pod_level(spec))
    for m, values in z2jh_releases(tree, settings.charts_dir):
        need(release_namespace(m), singleuser_level(values))
    # Without the chart's defaults the user pods' level is unknown (reported as chart-lock).
    unknown = {release_namespace(m) for m in unknown_chart_releases(tree, settings.charts_dir)}
    for m in tree:
        if m.kind != "Namespace" or not isinstance(m.doc, dict):
            continue
        name = str(get(m.doc, "metadata", "name") or "")
        if name in unknown:
            continue
        level = needed.get(name, "restricted")
        have = get(m.doc, "metadata", "labels", ENFORCE)
        if have is None:
            yield m, ("metadata", "labels"), "PSA001", \
                f"namespace {name!r} has no {ENFORCE} label (its pods allow {level!r})"
        elif have != level:
            yield m, ("metadata", "labels", ENFORCE), "PSA001", \
                f"namespace {name!r} is labelled {have!r}; the lowest level its pods allow is " \
                f"{level!r}"
