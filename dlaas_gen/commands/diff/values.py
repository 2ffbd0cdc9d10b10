"""The values a HelmRelease's chart receives, resolved from one side of a diff.

Why: a profile edited in the profiles ConfigMap changes what JupyterHub runs although the
HelmRelease file is untouched; diffing the merged values shows that change under the release
it affects. The resolution is `dlaas_gen.helmvalues.resolve_values` (the one ``validate``
checks); this adapts it to a side's objects, keyed by `ResourceKey`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dlaas_gen.helmvalues import ResolvedValues, is_helmrelease, resolve_values
from dlaas_gen.manifest import ResourceKey

__all__ = ["ResolvedValues", "is_helmrelease", "side_values"]


def side_values(
    release: Mapping[str, Any], objects: Mapping[ResourceKey, Mapping[str, Any]]
) -> ResolvedValues:
    """The merged values of `release` with its sources taken from `objects` (one tree, one site)."""

    def lookup(kind: str, namespace: str, name: str) -> Mapping[str, Any] | None:
        return objects.get(ResourceKey("", kind, namespace, name))

    return resolve_values(release, lookup)
