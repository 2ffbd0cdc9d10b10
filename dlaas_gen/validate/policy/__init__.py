"""Security policy lint of rendered workloads, with justified per-object exceptions.

Each rule has an id, a severity and a one-line reason (`dlaas_gen.policy_catalog.RULES`); a
site opts one object out of one rule in ``security.exceptions`` with a written justification.
Privileged containers and Bidirectional propagation can only be excepted for the EOS FUSE
DaemonSet.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dlaas_gen.manifest import Manifest
from dlaas_gen.policy_catalog import BY_ID, FUSE_ONLY, RULES
from dlaas_gen.problem import Problem
from dlaas_gen.validate.policy import psa as _psa  # noqa: F401 - registers PSA001
from dlaas_gen.validate.policy.checks import CHECKS
from dlaas_gen.validate.policy.settings import PolicySettings
from dlaas_gen.validate.workloads import get

__all__ = ["RULES", "PolicySettings", "check_policy", "policy_for_folder", "settings_for", "site_for_folder"]

FUSE_DAEMONSET_NAME = "eosxd"


def settings_for(site: Any, charts_dir: Path | None = None) -> PolicySettings:
    """The policy settings of a `SiteConfig`: hostPath roots, FUSE DaemonSet, exceptions.

    `charts_dir` is the repository's chart lock folder (the chart defaults of the pinned version).
    """
    roots: list[str] = []
    fuse = None
    if site.eos is not None and site.eos.mode == "daemonset":  # csi mode: no hostPath at all
        roots += [site.eos.host_mount_root, site.eos.cache_dir, "/dev/fuse"]
        fuse = (site.eos.namespace, FUSE_DAEMONSET_NAME)
    xcache = getattr(site, "xcache", None)
    if xcache is not None:
        roots += [*xcache.disks.data, xcache.disks.meta]
    exceptions = {(e.rule, e.kind, e.namespace or "", e.name): e.justification
                  for e in site.security.exceptions}
    return PolicySettings(host_roots=tuple(roots), fuse_daemonset=fuse, exceptions=exceptions,
                          charts_dir=charts_dir)


def site_for_folder(folder: Path, sites_dir: Path) -> Any:
    """The site of ``rendered/<site>`` (``<sites_dir>/<site>.yaml``), None when it does not load.

    Why: ``validate`` checks a rendered tree against what its site says (policy exceptions,
    ``kubernetes_version``); a tree written by hand has no site.
    """
    from dlaas_gen.errors import DlaasGenError
    from dlaas_gen.loader import load_site

    path = sites_dir / f"{folder.resolve().name}.yaml"
    if not path.is_file():
        return None
    try:
        return load_site(path).config
    except DlaasGenError:
        return None


def policy_for_folder(folder: Path, sites_dir: Path) -> PolicySettings:
    """Settings for ``rendered/<site>``: from ``<sites_dir>/<site>.yaml`` when it loads.

    Why: a tree without a readable site file (written by hand, or a broken site) gets the
    strictest settings: no exceptions and no hostPath roots.
    """
    from dlaas_gen.chart_lock import charts_dir_for

    charts_dir = charts_dir_for(sites_dir)
    site = site_for_folder(folder, sites_dir)
    if site is None:
        return PolicySettings(charts_dir=charts_dir)
    return settings_for(site, charts_dir)


def check_policy(tree: list[Manifest], settings: PolicySettings) -> list[Problem]:
    """Run every policy rule; excepted findings are dropped, the rest become problems."""
    problems: list[Problem] = []
    for check in CHECKS:
        for m, loc, rule_id, message in check(tree, settings):
            ns = str(get(m.doc, "metadata", "namespace") or "")
            name = str(get(m.doc, "metadata", "name") or "")
            excepted = (rule_id, m.kind, ns, name) in settings.exceptions
            if rule_id in FUSE_ONLY and (ns, name) != settings.fuse_daemonset:
                excepted = False
                message += " (only the EOS FUSE DaemonSet may, with an exception)"
            elif rule_id in FUSE_ONLY and not excepted:
                message += f"; add a security.exceptions entry ({rule_id}, DaemonSet {ns}/{name}) " \
                    "with a justification"
            if excepted:
                continue
            line, col = m.locate(list(loc))
            problems.append(Problem(m.path, line, col, level=BY_ID[rule_id].severity, rule=rule_id,
                                    message=f"{m.kind} {ns + '/' if ns else ''}{name}: {message}"))
    return problems
