"""Checks of ``storage:``, the users' home directories.

Why: with a shared (static) share, the folder a user lands in is the path-safe form of the user
name, and KubeSpawner 7 (chart 4.x) forms it differently from older charts; an unnamed scheme
would silently move users into empty folders.
"""

from __future__ import annotations

from collections.abc import Iterator

from dlaas_gen.config.checks.finding import Finding
from dlaas_gen.config.site import SiteConfig


def check_static_storage_slugs(site: SiteConfig) -> Iterator[Finding]:
    """A static home share with per-user sub-paths names its slug scheme."""
    storage = site.storage
    if storage.type != "static" or storage.slug_scheme is not None:
        return
    if "{username}" in storage.sub_path:
        yield (
            ("storage", "type"),
            "warning",
            "shared home share with '{username}' sub-paths: KubeSpawner 7 (chart 4.x) makes "
            "names path-safe differently than older charts, so users of a share filled by an "
            "older chart land in empty folders; set storage.slug_scheme: escape to keep the old "
            "folders, or slug_scheme: safe to confirm the new scheme",
        )
