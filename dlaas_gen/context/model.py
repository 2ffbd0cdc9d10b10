"""Data classes of the render context: what a component reads, and the builder it writes to.

Why one shape for every component: each component is ``contribute(site, out)`` with `SiteInput`
and `SiteContext` (`dlaas_gen.context.site.COMPONENTS` lists them in order), so a new component
needs no new wiring, and what a component may read and write is visible in its signature.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dlaas_gen.config import SiteConfig
from dlaas_gen.context.hub_values import HubValues
from dlaas_gen.context.template_vars import ObjectVars

#: The site-file section of the Namespaces the components add (the hub's, EOS's, XCache's): a
#: problem in one is reported at the site's ``namespace`` (as the template mapping did).
NAMESPACE_SECTION = ("namespace",)
#: Applied folders, one Flux Kustomization each, in listing order.
FOLDER_ORDER = ("infrastructure", "apps", "cache")
#: The folders whose Kustomization each folder's Kustomization dependsOn (when present).
#: ``apps`` (the hub) waits for ``infrastructure`` (EOS: user pods mount it); ``cache`` (XCache)
#: is on its own, so a failing cache never blocks the hub.
FOLDER_DEPENDS: dict[str, tuple[str, ...]] = {
    "infrastructure": (),
    "apps": ("infrastructure",),
    "cache": (),
}
FLUX_FOLDER = "flux"


@dataclass(frozen=True)
class SiteInput:
    """What the context stage reads: the validated site and what was read beside it.

    Components read nothing else (no files, no network), so the stage raises no load errors.

    Attributes:
        name: the site's name (its file name without ``.yaml``).
        config: the validated site file.
        cric_origins: the XCache origins of the site's origins file (checked against the site's
            ``xcache.origins.cric``), by protocol; None when it was not read (no CRIC origins,
            or a command that only lists what a site needs).
        chart_defaults: the pinned chart version's ``values.yaml``; None when not known.
    """

    name: str
    config: SiteConfig
    cric_origins: Mapping[str, list[str]] | None = None
    chart_defaults: Mapping[str, Any] | None = None


@dataclass(frozen=True, order=True)
class SecretKeyUse:
    """One Secret key the rendered site refers to (a row of ``dlaas-gen secrets``)."""

    namespace: str
    name: str
    key: str
    used_for: str
    target: str


@dataclass(frozen=True)
class ObjectSpec:
    """One object to render: its typed template variables and the folder it goes to.

    The template, kind and name come from the variables (`ObjectVars`), so an object cannot
    be paired with the wrong template.

    Attributes:
        folder: ``flux``, ``infrastructure``, ``apps`` or ``cache``.
        vars: the variables of the object's template.
        section: the site-file section the object renders (where a problem found in the
            rendered object is reported, `dlaas_gen.origin`); ``()``: the top of the file.
        filename: override of the file name (default ``<kind>-<name>.yaml`` lower-case).
    """

    folder: str
    vars: ObjectVars
    section: tuple[str, ...] = ()
    filename: str | None = None

    @property
    def template(self) -> str:
        """Template path under ``templates/``, e.g. ``jupyterhub/helmrelease.yaml.j2``."""
        return self.vars.TEMPLATE

    @property
    def kind(self) -> str:
        """The object's kind (checked against the rendered document)."""
        return self.vars.KIND

    @property
    def name(self) -> str:
        """The object's metadata.name (checked against the rendered document)."""
        return self.vars.name

    @property
    def path(self) -> str:
        """Output path relative to the site folder."""
        return f"{self.folder}/{self.filename or f'{self.kind.lower()}-{self.name}.yaml'}"


@dataclass(frozen=True)
class BuiltImage:
    """One rendered build context and the tag derived from it.

    Attributes:
        name: the key under ``images:``.
        repository: ``<registry>/<name>``.
        tag: ``ctx-`` and the first hex digits of the digest of `files`.
        parent: the image it is built on (a name under ``images:``), if any.
        level: 0 on a base, parent's level + 1 (CI builds level by level).
        python: ``X.Y`` of the image's Python.
        files: ``{file name: text}`` of the context.
    """

    name: str
    repository: str
    tag: str
    parent: str | None
    level: int
    python: str
    files: dict[str, str] = field(default_factory=dict)

    @property
    def ref(self) -> str:
        """``<registry>/<name>:<tag>``."""
        return f"{self.repository}:{self.tag}"

    @property
    def folder(self) -> str:
        """The context folder relative to the site folder (``images/<name>``)."""
        return f"{IMAGES_FOLDER}/{self.name}"


IMAGES_FOLDER = "images"


@dataclass
class SiteContext:
    """Everything the templates of one site need; what every component writes to.

    Attributes:
        site: the site's name.
        hub: the hub release's values, contributed to by every component.
        objects: the objects to render, in order.
        secrets: the Secret keys the objects refer to.
        images: the site's built images by name, parents first.
        host_paths: the host folders the objects mount (``hostPath``), as each component
            declares them; the security policy allows hostPath volumes at or below these.
        fuse_daemonset: (namespace, name) of the EOS FUSE DaemonSet, the one workload that
            may be privileged (with an exception in the site file); None when there is none.
    """

    site: str
    hub: HubValues = field(default_factory=HubValues)
    objects: list[ObjectSpec] = field(default_factory=list)
    secrets: list[SecretKeyUse] = field(default_factory=list)
    images: dict[str, BuiltImage] = field(default_factory=dict)
    host_paths: list[str] = field(default_factory=list)
    fuse_daemonset: tuple[str, str] | None = None

    def add(self, folder: str, section: tuple[str, ...], variables: ObjectVars,
            filename: str | None = None) -> None:
        """Add an object to render into `folder`, made from the site file's `section`."""
        self.objects.append(ObjectSpec(folder, variables, section, filename))

    def add_secret(self, namespace: str, secret: str, key: str, target: str, purpose: str) -> None:
        """Record a Secret key the rendered objects refer to."""
        self.secrets.append(SecretKeyUse(namespace, secret, key, purpose, target))

    def mount_host_paths(self, *paths: str) -> None:
        """Declare host folders the component's objects mount."""
        self.host_paths.extend(paths)

    @property
    def host_roots(self) -> tuple[str, ...]:
        """The declared host folders without those at or below an earlier one, in order."""
        roots: list[str] = []
        for path in self.host_paths:
            norm = posixpath.normpath(path)
            if not any(norm == root or norm.startswith(root.rstrip("/") + "/")
                       for root in map(posixpath.normpath, roots)):
                roots.append(path)
        return tuple(roots)

    def context_files(self) -> dict[str, str]:
        """``{path: text}`` of the image build contexts (not Kubernetes objects, never applied)."""
        return {f"{image.folder}/{file}": text for image in self.images.values()
                for file, text in sorted(image.files.items())}
