"""The policy rules: id, severity, one-line reason, and whether a site may opt out.

Why: a plain table with no imports of the rest of the package, in the base layer, so the site
model (``security.exceptions``) can check rule ids against it without loading the policy
checks, and the rule table in the documentation is generated from the same data.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PolicyRule:
    """One security policy rule of the rendered workloads.

    Attributes:
        id: stable id used in messages and in ``security.exceptions``.
        severity: ``error`` fails the render, ``warning`` is reported.
        reason: why the rule exists, in one line.
        opt_out: what a site can do about it.
    """

    id: str
    severity: str
    reason: str
    opt_out: str = "per-object exception with a justification"


RULES: tuple[PolicyRule, ...] = (
    PolicyRule("PRIV001", "error", "privileged containers own the node; only the EOS FUSE "
               "DaemonSet may be privileged", "exception, and only for the EOS FUSE DaemonSet"),
    PolicyRule("PRIV002", "error", "Bidirectional mount propagation leaks mounts to the host; only "
               "the EOS FUSE DaemonSet needs it", "exception, and only for the EOS FUSE DaemonSet"),
    PolicyRule("PRIV003", "error", "hostIPC and hostPorts bypass pod isolation"),
    PolicyRule("PRIV004", "error", "hostPID shows every process on the node; only the EOS FUSE "
               "DaemonSet needs it (eosxd reads a caller's /proc/<pid>/environ for its token)",
               "exception, and only for the EOS FUSE DaemonSet"),
    PolicyRule("PRIV005", "error", "hostNetwork puts a pod on the node's network; only the EOS "
               "FUSE DaemonSet needs it (sss checks the client address, which source NAT "
               "changes)",
               "exception, and only for the EOS FUSE DaemonSet"),
    PolicyRule("ESC001", "error", "containers must set allowPrivilegeEscalation: false (setuid "
               "binaries cannot gain root)"),
    PolicyRule("CAP001", "error", "containers must drop ALL capabilities and add none"),
    PolicyRule("USER001", "error", "single-user servers must not run as root (singleuser.uid, "
               "runAsUser 0, runAsNonRoot false)"),
    PolicyRule("USER002", "error", "single-user servers must not allow privilege escalation "
               "(singleuser.allowPrivilegeEscalation)"),
    PolicyRule("RES001", "error", "every container needs CPU and memory requests and limits, or "
               "one pod can starve the node"),
    PolicyRule("RES002", "warning", "single-user servers should have CPU and memory limits and "
               "guarantees (singleuser.cpu/memory)"),
    PolicyRule("IMG001", "error", "images in the merged chart values (profiles, overrides) must be "
               "pinned to a tag or digest"),
    PolicyRule("HOST001", "error", "hostPath volumes only under configured roots "
               "(eos.host_mount_root, eos.cache_dir, xcache.disks)"),
    PolicyRule("NET001", "error", "the chart's NetworkPolicies (hub, proxy, singleuser) must stay "
               "enabled"),
    PolicyRule("NET002", "warning", "single-user egress should be limited to the site's services "
               "(security.egress CIDRs) instead of the whole internet"),
    PolicyRule("SA001", "error", "pods that do not call the Kubernetes API must not mount a "
               "ServiceAccount token"),
    PolicyRule("RBAC001", "error", "Roles and ClusterRoles must not use '*' in apiGroups, "
               "resources, verbs or nonResourceURLs"),
    PolicyRule("PSA001", "error", "each namespace is labelled for Pod Security Admission at the "
               "lowest level its pods allow"),
    PolicyRule("TOK001", "error", "token and Secret files are owner-only (mode 0600 or stricter)"),
)
BY_ID = {r.id: r for r in RULES}
#: Rules whose exception may only name the EOS FUSE DaemonSet.
FUSE_ONLY = frozenset({"PRIV001", "PRIV002", "PRIV004", "PRIV005"})
