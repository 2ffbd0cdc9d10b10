"""What happened to each full Flux object, so that its kustomize patches can follow it.

Why: an overlay patch and its base must end on the same apiVersion, or kustomize stops with
``no matches for Id HelmRelease.v2.helm.toolkit.fluxcd.io/...``. Full objects are converted
first and their fate recorded here; patches (patch documents, inline patch texts, patch targets
and fieldSpecs) are converted afterwards and move only when their target moved.
kustomize matches a strategic-merge patch by kind and name (and namespace when the patch sets
one), so the lookup uses the same keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Fate:
    """One full object and where it ended.

    Attributes:
        kind: object kind.
        name: metadata.name.
        namespace: metadata.namespace when written in the object, else None.
        old_api: apiVersion found.
        new_api: apiVersion written ('' when the object stays on `old_api`).
        path: file of the object.
        line: line of its apiVersion.
        reason: why it stays (empty when it moved).
    """

    kind: str
    name: str
    namespace: str | None
    old_api: str
    new_api: str
    path: str
    line: int
    reason: str = ""

    @property
    def stays(self) -> bool:
        """True when the object keeps its old apiVersion."""
        return not self.new_api

    def where(self) -> str:
        """``path:line`` of the object."""
        return f"{self.path}:{self.line}"


@dataclass
class Fates:
    """Fates of the run's full objects, by kind and name."""

    by_name: dict[tuple[str, str], list[Fate]] = field(default_factory=dict)

    def add(self, fate: Fate) -> None:
        """Record one object's fate."""
        self.by_name.setdefault((fate.kind, fate.name), []).append(fate)

    def targets(self, kind: str, name: str, namespace: str | None = None) -> list[Fate]:
        """Objects a patch of `kind`/`name` (with an explicit `namespace` or None) applies to."""
        found = self.by_name.get((kind, name), [])
        if namespace:
            found = [f for f in found if f.namespace in (None, namespace)]
        return found

    def matching(self, kind: str | None, api_prefix: str) -> list[Fate]:
        """Objects found on an apiVersion starting with `api_prefix` (of `kind`, or any)."""
        return [f for fates in self.by_name.values() for f in fates
                if f.old_api.startswith(api_prefix) and (kind is None or f.kind == kind)]

    def landing(self, kind: str | None, api_prefix: str) -> list[Fate]:
        """Objects that end on an apiVersion starting with `api_prefix` (of `kind`, or any)."""
        return [f for fates in self.by_name.values() for f in fates
                if (f.new_api or f.old_api).startswith(api_prefix)
                and (kind is None or f.kind == kind)]
