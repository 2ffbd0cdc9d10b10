"""The values a HelmRelease's chart receives, resolved from one tree.

Why: a profile edited in the profiles ConfigMap changes what JupyterHub runs although the
HelmRelease file is untouched; diffing the merged values (``valuesFrom`` ConfigMaps of the same
tree, then inline ``values``, then ``targetPath`` entries, as helm-controller does through
`dlaas_gen.helmvalues.compute_values`) shows that change under the release it affects.
Secrets referenced by ``valuesFrom`` are never read: a placeholder stands for them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml.error import YAMLError

from dlaas_gen import yamlio
from dlaas_gen.helmvalues import compute_values
from dlaas_gen.manifest import ResourceKey

DEFAULT_VALUES_KEY = "values.yaml"


@dataclass
class ResolvedValues:
    """Merged values of one HelmRelease.

    Attributes:
        values: the merged document (Secret sources replaced by placeholders).
        notes: one line per ``valuesFrom`` entry saying where it came from or why it is missing.
        secret_refs: keys of the Secrets the release reads values from.
        configmap_refs: keys of the ConfigMaps the release reads values from.
    """

    values: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    secret_refs: list[ResourceKey] = field(default_factory=list)
    configmap_refs: list[ResourceKey] = field(default_factory=list)


def is_helmrelease(doc: Mapping[str, Any]) -> bool:
    """True for a Flux v2 HelmRelease (any helm.toolkit.fluxcd.io version)."""
    return doc.get("kind") == "HelmRelease" and str(doc.get("apiVersion", "")).startswith(
        "helm.toolkit.fluxcd.io/"
    )


def resolve_values(
    release: Mapping[str, Any], lookup: Mapping[ResourceKey, Mapping[str, Any]]
) -> ResolvedValues:
    """Compute the merged values of `release` with ConfigMaps taken from `lookup`.

    Args:
        release: the HelmRelease object (plain data).
        lookup: objects of the same tree and site, by key.

    Returns:
        The merged values and notes about each source.
    """
    spec = release.get("spec")
    spec = spec if isinstance(spec, Mapping) else {}
    meta = release.get("metadata")
    meta = meta if isinstance(meta, Mapping) else {}
    namespace = str(meta.get("namespace") or "")
    result = ResolvedValues(values={})
    layers: list[tuple[str | None, Any]] = []
    for ref in spec.get("valuesFrom") or []:
        if not isinstance(ref, Mapping):
            continue
        layer = _resolve_ref(ref, namespace, lookup, result)
        if layer is not None:
            layers.append(layer)
    inline = spec.get("values")
    result.values = compute_values(layers, inline if isinstance(inline, Mapping) else None)
    return result


def _resolve_ref(
    ref: Mapping[str, Any],
    namespace: str,
    lookup: Mapping[ResourceKey, Mapping[str, Any]],
    result: ResolvedValues,
) -> tuple[str | None, Any] | None:
    kind = str(ref.get("kind", ""))
    name = str(ref.get("name", ""))
    values_key = str(ref.get("valuesKey") or DEFAULT_VALUES_KEY)
    target = str(ref["targetPath"]) if ref.get("targetPath") else None
    optional = bool(ref.get("optional"))
    where = f"{kind} {namespace + '/' if namespace else ''}{name} key {values_key}"
    into = f" into {target}" if target else ""
    key = ResourceKey("", kind, namespace, name)
    if kind == "Secret":
        result.secret_refs.append(key)
        if target:
            result.notes.append(f"{where}{into}: not read (Secret), shown as a placeholder")
            return target, f"<from Secret {name} key {values_key}>"
        result.notes.append(f"{where}: not read (Secret), its values are not shown")
        return None
    if kind != "ConfigMap":
        result.notes.append(f"{where}: unsupported valuesFrom kind, ignored")
        return None
    result.configmap_refs.append(key)
    source = lookup.get(key)
    data = source.get("data") if isinstance(source, Mapping) else None
    if not isinstance(data, Mapping) or values_key not in data:
        missing = "not in this tree" if source is None else f"has no key {values_key}"
        suffix = " (optional)" if optional else " (helm-controller would fail)"
        result.notes.append(f"{where}: {missing}{suffix}")
        return None
    raw = data[values_key]
    if target:
        result.notes.append(f"{where}{into}")
        return target, raw
    try:
        content = yamlio.plain(yamlio.load_roundtrip(str(raw)))
    except YAMLError:
        result.notes.append(f"{where}: not valid YAML, ignored")
        return None
    if content is None:
        content = {}
    if not isinstance(content, Mapping):
        result.notes.append(f"{where}: not a mapping, ignored")
        return None
    result.notes.append(where)
    return None, content
