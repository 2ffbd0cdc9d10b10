"""Cross-field checks of a validated `SiteConfig`, reported with a location.

Why: pydantic model validators lose the position of the offending item; these checks return
the path (``loc``) of what is wrong, so the loader can point at the exact line, and each check
stays a small named function.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from dlaas_gen.config.site import SiteConfig

Loc = tuple[Any, ...]
Finding = tuple[Loc, str, str]  # (loc, level, message)
Check = Callable[[SiteConfig], Iterator[Finding]]

CHECKS: list[Check] = []


def check(func: Check) -> Check:
    """Register a cross-field check."""
    CHECKS.append(func)
    return func


@check
def _check_profiles(site: SiteConfig) -> Iterator[Finding]:
    first_default: int | None = None
    for index, profile in enumerate(site.profiles):
        if profile.default:
            if first_default is not None:
                yield (
                    ("profiles", index, "default"),
                    "error",
                    f"profile {profile.slug!r} is a second default (first: "
                    f"{site.profiles[first_default].slug!r}); at most one profile may be default",
                )
            else:
                first_default = index
    for attr in ("slug", "display_name"):
        seen: dict[str, int] = {}
        for index, profile in enumerate(site.profiles):
            value = getattr(profile, attr)
            if value in seen:
                yield (
                    ("profiles", index, attr),
                    "error",
                    f"profile {attr} {value!r} is already used by profile #{seen[value] + 1}",
                )
            else:
                seen[value] = index


@check
def _check_static_storage_slugs(site: SiteConfig) -> Iterator[Finding]:
    storage = site.storage
    if storage.type == "static" and storage.slug_scheme is None and "{username}" in storage.sub_path:
        yield (
            ("storage", "type"),
            "warning",
            "shared home share with '{username}' sub-paths: KubeSpawner 7 (chart 4.x) makes "
            "names path-safe differently than older charts, so users of a share filled by an "
            "older chart land in empty folders; set storage.slug_scheme: escape to keep the old "
            "folders, or slug_scheme: safe to confirm the new scheme",
        )


@check
def _check_kubernetes_version(site: SiteConfig) -> Iterator[Finding]:
    """Why: the objects are checked against kubernetes-validate's bundled schemas; a version
    older than those cannot be checked (an error), a newer one is checked as the newest (a
    warning naming it)."""
    from dlaas_gen.validate.kubernetes import UnsupportedKubeVersion, newer_than_bundled

    try:
        newer = newer_than_bundled(site.kubernetes_version)
    except UnsupportedKubeVersion as exc:
        yield ("kubernetes_version",), "error", str(exc)
        return
    if newer:
        yield ("kubernetes_version",), "warning", newer


def run_checks(site: SiteConfig) -> list[Finding]:
    """Run every registered check and return its findings in order."""
    findings: list[Finding] = []
    for func in CHECKS:
        findings.extend(func(site))
    return findings
from dlaas_gen.config import checks_datalake as _checks_datalake  # noqa: E402,F401  (registers checks)
from dlaas_gen.config import checks_xcache as _checks_xcache  # noqa: E402,F401  (registers checks)
from dlaas_gen.config import checks_images as _checks_images  # noqa: E402,F401  (registers checks)
from dlaas_gen.config import checks_profiles as _checks_profiles  # noqa: E402,F401  (registers checks)
