"""Check of ``kubernetes_version``, the Kubernetes minor version the site targets."""

from __future__ import annotations

from collections.abc import Iterator

from dlaas_gen.config.checks.finding import Finding
from dlaas_gen.config.site import SiteConfig
from dlaas_gen.kube_versions import UnsupportedKubeVersion, newer_than_bundled


def check_kubernetes_version(site: SiteConfig) -> Iterator[Finding]:
    """The target version has bundled schemas.

    Why: the objects are checked against kubernetes-validate's bundled schemas; a version
    older than those cannot be checked (an error), a newer one is checked as the newest (a
    warning naming it).
    """
    try:
        newer = newer_than_bundled(site.kubernetes_version)
    except UnsupportedKubeVersion as exc:
        yield ("kubernetes_version",), "error", str(exc)
        return
    if newer:
        yield ("kubernetes_version",), "warning", newer
