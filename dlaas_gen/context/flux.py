"""Context of the ``flux/`` folder: the site's Flux Kustomizations (and its own source)."""

from __future__ import annotations

import re

from dlaas_gen.config import SiteConfig
from dlaas_gen.context.common import common_labels
from dlaas_gen.context.model import (
    FLUX_FOLDER,
    FOLDER_DEPENDS,
    FOLDER_ORDER,
    ObjectSpec,
    SiteContext,
    SiteInput,
)
from dlaas_gen.context.template_vars import FluxKustomizationVars, GitRepositoryVars

#: The site-file section of the objects below.
SECTION = ("gitops",)


def source_name(site: SiteConfig) -> str:
    """Name of the GitRepository the Kustomizations read."""
    source = site.gitops.source
    return source if isinstance(source, str) else source.name


def contribute(site: SiteInput, out: SiteContext) -> None:
    """Add a Flux Kustomization per applied folder in use, and the site's own GitRepository.

    Each Kustomization depends on others as ``FOLDER_DEPENDS`` says. Runs after every
    component that adds objects to the applied folders.

    Why: ``infrastructure`` (the EOS DaemonSet) is applied with ``wait: true`` and ``apps``
    depends on it, so the hub only rolls out once the FUSE mounts it needs are ready. The XCache
    (``cache``) has its own Kustomization that nothing depends on: the hub works without it.
    """
    config, site_name = site.config, site.name
    gitops = config.gitops
    labels = common_labels(site_name, "flux")
    used = [f for f in FOLDER_ORDER if any(o.folder == f for o in out.objects)]
    for folder in used:
        name = f"{site_name}-{folder}"
        out.add(FLUX_FOLDER, SECTION, FluxKustomizationVars(
            name=name,
            namespace=gitops.namespace,
            labels=labels,
            interval=gitops.interval,
            retry_interval=gitops.retry_interval,
            timeout=folder_timeout(config, [o for o in out.objects if o.folder == folder]),
            path=f"{gitops.path_prefix.rstrip('/')}/{site_name}/{folder}",
            prune=gitops.prune,
            wait=True,
            source_name=source_name(config),
            depends_on=[f"{site_name}-{d}" for d in FOLDER_DEPENDS[folder] if d in used],
        ))
    source = gitops.source
    if not isinstance(source, str):
        out.add(FLUX_FOLDER, SECTION, GitRepositoryVars(
            name=source.name, namespace=gitops.namespace, labels=labels,
            interval=source.interval, url=source.url, branch=source.branch,
            secret_ref=source.secret_ref,
        ))
        if source.secret_ref:
            for key, used_for in git_secret_keys(source.url):
                out.add_secret(gitops.namespace, source.secret_ref, key,
                               f"GitRepository {source.name}.spec.secretRef", used_for)


def git_secret_keys(url: str) -> list[tuple[str, str]]:
    """The keys source-controller reads from a GitRepository's Secret, by URL scheme.

    Why: fluxcd/source-controller docs/spec/v1/gitrepositories.md ("Secret reference"): over
    SSH the Secret holds ``identity`` (the private key) and ``known_hosts``; over HTTPS either
    ``username`` and ``password`` (basic access, also for the OAuth tokens of GitHub/GitLab)
    or ``bearerToken``.
    """
    if url.startswith("ssh://"):
        return [("identity", "Git over SSH: the private key"),
                ("known_hosts", "Git over SSH: the host keys of the Git server (ssh-keyscan)")]
    return [("username", "Git over HTTPS, basic access: user name (or only bearerToken instead)"),
            ("password", "Git over HTTPS, basic access: password or access token "
                         "(or only bearerToken instead)"),
            ("bearerToken", "Git over HTTPS, bearer token: instead of username and password")]


_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
_DURATION_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)")


def duration_seconds(value: str) -> float:
    """Seconds of a Go duration as the site model accepts it (``1h30m``, ``90s``, ``1.5m``)."""
    return sum(float(n) * _UNITS[u] for n, u in _DURATION_PART.findall(value))


def folder_timeout(site: SiteConfig, objects: list[ObjectSpec]) -> str:
    """The Kustomization timeout of one folder: at least the install timeout of its releases.

    Why: with ``wait: true`` the Kustomization is Ready only when its HelmRelease is, and
    helm-controller may take the HelmRelease's ``spec.timeout`` for one install; a shorter
    Kustomization timeout reports a slow first install as a failed Kustomization
    (fluxcd/kustomize-controller docs/spec/v1/kustomizations.md, "Timeout" and "Wait").
    """
    timeout = site.gitops.timeout
    if any(o.kind == "HelmRelease" for o in objects):
        if duration_seconds(site.chart.timeout) > duration_seconds(timeout):
            timeout = site.chart.timeout
    return timeout
