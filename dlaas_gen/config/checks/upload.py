"""Checks of ``upload:``: the ``datalakectl`` mode has what it needs, lifetimes fit.

Why: ``register`` mode registers files in place, so scratch must be an RSE; ``copy`` mode needs
a destination; both need ``rucio:`` and ``scratch:``.
"""

from __future__ import annotations

from collections.abc import Iterator

from dlaas_gen.config.checks.finding import Finding
from dlaas_gen.config.derived import lifetime_seconds
from dlaas_gen.config.site import SiteConfig


def check_upload(site: SiteConfig) -> Iterator[Finding]:
    """The upload mode has its scratch RSE or upload RSE, and lifetimes fit."""
    upload = site.upload
    if upload is None:
        return
    if site.scratch is None:
        yield (("upload",), "error", "the upload command needs `scratch:`")
    elif upload.mode == "register" and not site.scratch.rse:
        yield (("upload", "mode"), "error", "register mode needs a scratch RSE (scratch.rse); "
               "use mode: copy when scratch is not an RSE")
    if upload.mode == "copy" and not upload.upload_rse:
        yield (("upload", "mode"), "error", "copy mode needs upload.upload_rse")
    if site.rucio is None:
        yield (("upload",), "error", "the upload command needs `rucio:`")
    if lifetime_seconds(upload.default_lifetime) > lifetime_seconds(upload.max_lifetime):
        yield (("upload", "default_lifetime"), "error", "default_lifetime exceeds max_lifetime")
