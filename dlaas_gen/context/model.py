"""Data classes of the render context."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

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
class ObjectSpec:
    """One object to render: which template, into which folder, with which variables.

    Attributes:
        template: template path under ``templates/``, e.g. ``jupyterhub/helmrelease.yaml.j2``.
        folder: ``flux``, ``infrastructure``, ``apps`` or ``cache``.
        kind: the object's kind (checked against the rendered document).
        name: the object's metadata.name (checked against the rendered document).
        vars: template variables.
        filename: override of the file name (default ``<kind>-<name>.yaml`` lower-case).
    """

    template: str
    folder: str
    kind: str
    name: str
    vars: dict[str, Any] = field(default_factory=dict)
    filename: str | None = None

    @property
    def path(self) -> str:
        """Output path relative to the site folder."""
        return f"{self.folder}/{self.filename or f'{self.kind.lower()}-{self.name}.yaml'}"


@dataclass
class SiteContext:
    """Everything the templates of one site need."""

    site: str
    objects: list[ObjectSpec] = field(default_factory=list)
    secrets: list[dict[str, str]] = field(default_factory=list)
    #: Built single-user images (`dlaas_gen.context.images.BuiltImage`) by name, parents first.
    images: dict[str, Any] = field(default_factory=dict)

    def context_files(self) -> dict[str, str]:
        """``{path: text}`` of the image build contexts (not Kubernetes objects, never applied)."""
        return {f"{image.folder}/{file}": text for image in self.images.values()
                for file, text in sorted(image.files.items())}

    def add(self, spec: ObjectSpec) -> None:
        """Append an object."""
        self.objects.append(spec)
