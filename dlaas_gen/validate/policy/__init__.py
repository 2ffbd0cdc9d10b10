"""Security policy lint of rendered workloads, with justified per-object exceptions.

Each rule has an id, a severity and a one-line reason (`dlaas_gen.policy_catalog.RULES`); a
site opts one object out of one rule in ``security.exceptions`` with a written justification.
Privileged containers and Bidirectional propagation can only be excepted for the EOS FUSE
DaemonSet. The settings (`PolicySettings`) are passed in by whoever validates: this package
reads no site file.
"""

from __future__ import annotations

from dlaas_gen.manifest import Manifest
from dlaas_gen.policy_catalog import BY_ID, FUSE_ONLY, RULES
from dlaas_gen.problem import Problem
from dlaas_gen.validate.policy import checks, psa
from dlaas_gen.validate.policy.settings import PolicySettings
from dlaas_gen.validate.workloads import get

#: The check modules, each registering its checks in `checks.CHECKS` when imported.
MODULES = (checks, psa)

__all__ = ["MODULES", "RULES", "PolicySettings", "check_policy"]


def check_policy(tree: list[Manifest], settings: PolicySettings) -> list[Problem]:
    """Run every policy rule; excepted findings are dropped, the rest become problems."""
    problems: list[Problem] = []
    for check in checks.CHECKS:
        for m, loc, rule_id, message in check(tree, settings):
            ns = str(get(m.doc, "metadata", "namespace") or "")
            name = str(get(m.doc, "metadata", "name") or "")
            excepted = (rule_id, m.kind, ns, name) in settings.exceptions
            if rule_id in FUSE_ONLY and (ns, name) != settings.fuse_daemonset:
                excepted = False
                message += " (only the EOS FUSE DaemonSet may, with an exception)"
            elif rule_id in FUSE_ONLY and not excepted:
                message += (f"; add a security.exceptions entry ({rule_id}, DaemonSet "
                            f"{ns}/{name}) with a justification")
            if excepted:
                continue
            line, col = m.locate(list(loc))
            problems.append(Problem(m.path, line, col, level=BY_ID[rule_id].severity, rule=rule_id,
                                    message=f"{m.kind} {ns + '/' if ns else ''}{name}: {message}"))
    return problems
