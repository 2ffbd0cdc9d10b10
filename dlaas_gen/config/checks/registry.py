"""The site checks, in the order they run.

Why a list rather than registration on import: the order is the order of the warnings a user
sees, and a list shows it in one place; every section's checks live in the module named after
the section, and none of them imports another.
"""

from __future__ import annotations

from dlaas_gen.config import SiteConfig
from dlaas_gen.config.checks import (
    auth,
    eos,
    images,
    kubernetes,
    profiles,
    rucio,
    scratch,
    storage,
    upload,
    xcache,
)
from dlaas_gen.config.checks.finding import Check, Finding

CHECKS: tuple[Check, ...] = (
    profiles.check_profiles,
    storage.check_static_storage_slugs,
    kubernetes.check_kubernetes_version,
    auth.check_auth,
    rucio.check_rucio,
    eos.check_eos,
    scratch.check_scratch,
    upload.check_upload,
    xcache.check_origin_mode,
    xcache.check_exports,
    xcache.check_cache_tuning,
    xcache.check_site_name,
    xcache.check_site_name_unique,
    xcache.check_cluster_only,
    images.check_built_images,
    images.check_image_refs,
    profiles.check_kubespawner_override,
    profiles.check_extended_resources,
)


def run_checks(site: SiteConfig) -> list[Finding]:
    """Run every check and return its findings in order."""
    findings: list[Finding] = []
    for check in CHECKS:
        findings.extend(check(site))
    return findings
