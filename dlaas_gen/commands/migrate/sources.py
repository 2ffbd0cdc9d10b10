"""Source objects a Helm Operator release needs under Flux v2.

HelmRepository, GitRepository, OCIRepository: one per distinct URL, shared by every release of
the run.

Why: the Helm Operator fetched charts itself from a URL in each release; helm-controller needs a
named source object. Reusing one object per URL (also one already in the repository) avoids a
dozen copies of the same HelmRepository, and deriving the name from the host makes it readable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from dlaas_gen.commands.migrate.edit import cmap, get_path
from dlaas_gen.commands.migrate.model import DEFAULT_INTERVAL

SOURCE_API = "source.toolkit.fluxcd.io/v1"
_SCP = re.compile(r"^(?P<user>[^@/]+@)?(?P<host>[^:/]+):(?P<path>(?!//).+)$")
_COMMIT = re.compile(r"^[0-9a-f]{40}$")
_TAG = re.compile(r"^v?\d+\.\d+(\.\d+)?([-+].*)?$")
_RANGE = re.compile(r"[\^~*><=|xX, ]|^$")


def normalise_url(url: str) -> str:
    """Comparison key of a chart repository URL (the Helm Operator's CleanRepoURL, lower host)."""
    parts = urlsplit(url.strip())
    path = parts.path.rstrip("/")
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}{path}"


def dns_name(text: str, limit: int = 63) -> str:
    """Turn text into a DNS-1123 label."""
    name = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")
    name = re.sub(r"-{2,}", "-", name)
    return name[:limit].rstrip("-") or "source"


def git_url(url: str) -> tuple[str, bool]:
    """Return the Flux form of a Git URL (scp-like ``git@host:org/repo`` → ``ssh://``).

    Returns:
        ``(url, converted)``.
    """
    if "://" not in url:
        match = _SCP.match(url)
        if match:
            user = match.group("user") or ""
            return f"ssh://{user}{match.group('host')}/{match.group('path')}", True
    return url, False


def git_ref(ref: str) -> tuple[str, str]:
    """Return the GitRepository ``spec.ref`` field for a Helm Operator ``ref``."""
    if _COMMIT.match(ref):
        return "commit", ref
    if _TAG.match(ref):
        return "tag", ref
    return "branch", ref


def is_version_range(version: str) -> bool:
    """True when a chart version is a semver range rather than one version."""
    return bool(_RANGE.search(version))


@dataclass
class SourceRef:
    """A source object and where it lives."""

    kind: str
    name: str
    namespace: str | None
    created: bool
    doc: Any = None
    defined_in: str = ""
    placed: bool = False


@dataclass
class SourceRegistry:
    """Sources of the run, keyed by ``(kind, normalised URL, extra)``."""

    by_key: dict[tuple[str, str, str], list[SourceRef]] = field(default_factory=dict)
    names: set[tuple[str, str, str]] = field(default_factory=set)
    interval: str = DEFAULT_INTERVAL
    #: set by the caller before creating: write metadata.namespace on the new object.
    explicit_ns: bool = True
    #: only hand out sources of the release's own namespace (``--no-cross-namespace-refs``).
    same_namespace: bool = False

    def _find(self, key: tuple[str, str, str], namespace: str | None) -> SourceRef | None:
        """The source for `key`: one in `namespace` first, else (when allowed) any."""
        found = self.by_key.get(key, [])
        for ref in found:
            if (ref.namespace or "") == (namespace or ""):
                return ref
        if found and not self.same_namespace:
            return found[0]
        return None

    def register_existing(self, doc: Any, namespace: str | None) -> None:
        """Remember a source object already present in the scanned files."""
        kind = str(doc.get("kind", ""))
        url, name = get_path(doc, "spec", "url"), get_path(doc, "metadata", "name")
        if kind not in ("HelmRepository", "GitRepository", "OCIRepository") or not url or not name:
            return
        extra = ""
        if kind in ("GitRepository", "OCIRepository"):
            raw_ref = get_path(doc, "spec", "ref")
            ref: dict[str, Any] = raw_ref if isinstance(raw_ref, dict) else {}
            extra = "/".join(f"{k}={v}" for k, v in sorted(ref.items()))
        key = (kind, normalise_url(git_url(str(url))[0]), extra)
        self.by_key.setdefault(key, []).append(SourceRef(kind, str(name), namespace, False))
        self.names.add((kind, namespace or "", str(name)))

    def _unique(self, kind: str, namespace: str | None, candidates: list[str]) -> str:
        for cand in candidates:
            if (kind, namespace or "", cand) not in self.names:
                return cand
        base, n = candidates[-1], 2
        while (kind, namespace or "", f"{base}-{n}") in self.names:
            n += 1
        return f"{base}-{n}"

    def _new(self, key: tuple[str, str, str], kind: str, names: list[str], namespace: str | None,
             spec: Any) -> SourceRef:
        name = self._unique(kind, namespace, [dns_name(n) for n in names])
        self.names.add((kind, namespace or "", name))
        meta = cmap(("name", name), ("namespace", namespace if self.explicit_ns else None))
        doc = cmap(("apiVersion", SOURCE_API), ("kind", kind), ("metadata", meta), ("spec", spec))
        ref = SourceRef(kind, name, namespace, True, doc)
        self.by_key.setdefault(key, []).append(ref)
        return ref

    def helm_repository(self, url: str, namespace: str | None, secret: str | None) -> SourceRef:
        """Return (creating if needed) the HelmRepository of a chart repository URL."""
        key = ("HelmRepository", normalise_url(url), "")
        existing = self._find(key, namespace)
        if existing is not None:
            return existing
        parts = urlsplit(url)
        host = parts.hostname or "charts"
        path = parts.path.strip("/").replace("/", "-")
        spec = cmap(("interval", self.interval), ("url", url.strip()),
                    ("secretRef", cmap(("name", secret)) if secret else None))
        return self._new(key, "HelmRepository", [host, f"{host}-{path}" if path else host],
                         namespace, spec)

    def git_repository(self, url: str, ref: str, namespace: str | None,
                       secret: str | None) -> SourceRef:
        """Return (creating if needed) the GitRepository of a chart Git URL and ref."""
        flux_url, _ = git_url(url)
        ref_kind, ref_value = git_ref(ref)
        key = ("GitRepository", normalise_url(flux_url), f"{ref_kind}={ref_value}")
        existing = self._find(key, namespace)
        if existing is not None:
            return existing
        parts = urlsplit(flux_url)
        repo = parts.path.rstrip("/").rsplit("/", 1)[-1].removesuffix(".git") or "charts"
        host = parts.hostname or "git"
        spec = cmap(("interval", self.interval), ("url", flux_url),
                    ("ref", cmap((ref_kind, ref_value))),
                    ("secretRef", cmap(("name", secret)) if secret else None))
        return self._new(key, "GitRepository",
                         [repo, f"{repo}-{ref_value}", f"{host}-{parts.path}-{ref_value}"],
                         namespace, spec)

    def oci_repository(self, url: str, chart: str, version: str,
                       namespace: str | None, secret: str | None) -> SourceRef:
        """Return (creating if needed) the OCIRepository of one OCI chart and version."""
        full = f"{url.rstrip('/')}/{chart}"
        ref = (cmap(("semver", version or "*")) if is_version_range(version)
               else cmap(("tag", version)))
        extra = "/".join(f"{k}={v}" for k, v in sorted(ref.items()))
        key = ("OCIRepository", normalise_url(full), extra)
        existing = self._find(key, namespace)
        if existing is not None:
            return existing
        host = urlsplit(full).hostname or "oci"
        spec = cmap(("interval", self.interval), ("url", full), ("ref", ref),
                    ("secretRef", cmap(("name", secret)) if secret else None))
        return self._new(key, "OCIRepository", [chart, f"{host}-{chart}", f"{chart}-{version}"],
                         namespace, spec)
