"""Helm values as helm-controller computes them.

Why: what the chart sees is not the inline ``values`` alone. helm-controller merges the
``valuesFrom`` entries in order, then the inline ``values``, then applies ``targetPath``
entries last; Helm then coalesces that over the chart defaults (maps merge, lists replace,
``null`` deletes a default). Validating anything else validates the wrong document.
"""

from __future__ import annotations

import copy
import itertools
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from ruamel.yaml.error import YAMLError

from dlaas_gen import yamlio


def merge_maps(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Merge `override` into a copy of `base`: maps recurse, anything else replaces.

    This is helm-controller's ``MergeMaps`` (used for valuesFrom and inline values): lists are
    replaced wholesale and a ``None`` in `override` is kept as ``None``.
    """
    out: dict[str, Any] = {k: copy.deepcopy(v) for k, v in base.items()}
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge_maps(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def coalesce(defaults: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """Coalesce user `values` over chart `defaults` as Helm does.

    Maps merge, lists and scalars replace, and a ``None`` user value deletes the key.

    Why no deep copy of the defaults: the chart defaults are a large document merged for every
    release; subtrees the user does not touch are shared with `defaults`, so treat the result
    as read-only (every caller only reads it).
    """
    out: dict[str, Any] = dict(defaults)
    for key, value in values.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = coalesce(out[key], value)
        elif isinstance(value, Mapping):
            out[key] = _drop_nulls(value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _drop_nulls(value: Mapping[str, Any]) -> dict[str, Any]:
    return {
        k: (_drop_nulls(v) if isinstance(v, Mapping) else copy.deepcopy(v))
        for k, v in value.items()
        if v is not None
    }


def set_path(values: dict[str, Any], path: str, value: Any) -> None:
    r"""Set a dotted ``targetPath`` (``hub.config.X.client_id``) inside `values`.

    ``\.`` escapes a literal dot in a key; ``name[N]`` sets list item N (the list is created
    or padded with nulls, as Helm's ``--set`` does).
    """
    steps: list[str | int] = []
    for part in split_target_path(path):
        match = _INDEXED.match(part)
        if match is None:
            steps.append(part)
        else:
            steps.append(match.group(1))
            steps.extend(int(i) for i in re.findall(r"\[(\d+)\]", match.group(2)))
    node: Any = values
    for step, following in itertools.pairwise(steps):
        node = _child(node, step, [] if isinstance(following, int) else {})
    _put(node, steps[-1], value)


_INDEXED = re.compile(r"^(.+?)((?:\[\d+\])+)$")


def _put(node: Any, step: str | int, value: Any) -> None:
    if isinstance(step, int):
        node.extend([None] * (step + 1 - len(node)))
    node[step] = value


def _child(node: Any, step: str | int, empty: dict[str, Any] | list[Any]) -> Any:
    child = node[step] if isinstance(step, int) and step < len(node) else (
        None if isinstance(step, int) else node.get(step))
    if not isinstance(child, type(empty)):
        child = empty
        _put(node, step, child)
    return child


def split_target_path(path: str) -> list[str]:
    """Split a Helm ``--set`` style path on unescaped dots."""
    parts: list[str] = []
    current = ""
    escaped = False
    for char in path:
        if escaped:
            current += char
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == ".":
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return parts


def compute_values(
    layers: Iterable[tuple[str | None, Any]],
    inline: Mapping[str, Any] | None,
    defaults: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Compute the values the chart receives.

    Args:
        layers: the resolved ``valuesFrom`` entries in order, each ``(targetPath, content)``;
            without a targetPath `content` is a mapping merged at the root.
        inline: the HelmRelease's inline ``values``.
        defaults: the chart's ``values.yaml``; when given, the result is coalesced over it.

    Returns:
        The final values document.
    """
    merged: dict[str, Any] = {}
    targeted: list[tuple[str, Any]] = []
    for target, content in layers:
        if target:
            targeted.append((target, content))
        elif isinstance(content, Mapping):
            merged = merge_maps(merged, content)
    merged = merge_maps(merged, inline or {})
    for target, content in targeted:
        set_path(merged, target, content)
    return coalesce(defaults, merged) if defaults is not None else merged


# --- valuesFrom -------------------------------------------------------------------------------

#: The key of a ``valuesFrom`` source when the entry names none.
DEFAULT_VALUES_KEY = "values.yaml"

#: What became of one ``valuesFrom`` entry (`ValuesNote.outcome`).
MERGED = "merged"
SECRET = "secret"
UNSUPPORTED = "unsupported-kind"
NO_SOURCE = "no-source"
NO_KEY = "no-key"
BAD_YAML = "bad-yaml"
NOT_MAPPING = "not-a-mapping"

#: ``(kind, namespace, name)`` → the object of the same tree, None when it is not there.
Lookup = Callable[[str, str, str], Mapping[str, Any] | None]


@dataclass(frozen=True)
class ValuesNote:
    """What became of one ``valuesFrom`` entry of a HelmRelease.

    Attributes:
        index: the entry's place in ``spec.valuesFrom``.
        kind: the source kind (``ConfigMap``, ``Secret``, anything else is unsupported).
        namespace: the release's namespace (sources are looked up there).
        name: the source's name.
        key: the data key read (``valuesKey``, default ``values.yaml``).
        target: the ``targetPath``, None when the content is merged at the root.
        optional: the entry's ``optional`` flag.
        outcome: `MERGED`, `SECRET`, `UNSUPPORTED`, `NO_SOURCE`, `NO_KEY`, `BAD_YAML` or
            `NOT_MAPPING`.
        detail: the first line of the YAML error (`BAD_YAML` only).
    """

    index: int
    kind: str
    namespace: str
    name: str
    key: str
    target: str | None
    optional: bool
    outcome: str
    detail: str = ""

    def describe(self) -> str:
        """One line saying where the entry's values came from, or why they are missing."""
        where = f"{self.kind} {self.namespace + '/' if self.namespace else ''}{self.name}"
        where += f" key {self.key}"
        into = f" into {self.target}" if self.target else ""
        if self.outcome == SECRET:
            return (f"{where}{into}: not read (Secret), shown as a placeholder" if self.target
                    else f"{where}: not read (Secret), its values are not shown")
        if self.outcome == UNSUPPORTED:
            return f"{where}: unsupported valuesFrom kind, ignored"
        if self.outcome in (NO_SOURCE, NO_KEY):
            missing = "not in this tree" if self.outcome == NO_SOURCE else f"has no key {self.key}"
            fate = "optional" if self.optional else "helm-controller would fail"
            return f"{where}: {missing} ({fate})"
        if self.outcome == BAD_YAML:
            return f"{where}: not valid YAML, ignored"
        if self.outcome == NOT_MAPPING:
            return f"{where}: not a mapping, ignored"
        return f"{where}{into}"


class ResolvedValues(NamedTuple):
    """The merged values of one HelmRelease and a note per ``valuesFrom`` entry."""

    values: dict[str, Any]
    notes: list[ValuesNote]


def is_helmrelease(doc: Mapping[str, Any]) -> bool:
    """True for a Flux v2 HelmRelease (any ``helm.toolkit.fluxcd.io`` version)."""
    return doc.get("kind") == "HelmRelease" and str(doc.get("apiVersion", "")).startswith(
        "helm.toolkit.fluxcd.io/")


def secret_placeholder(name: str, key: str) -> str:
    """The string that stands for a value read from a Secret (which is never read)."""
    return f"<from Secret {name} key {key}>"


def resolve_values(release: Mapping[str, Any], lookup: Lookup) -> ResolvedValues:
    """The values of `release` with its ``valuesFrom`` sources taken from one tree.

    Why: helm-controller reads each ``valuesFrom`` entry from the release's namespace and
    fails on a missing source or key unless the entry is ``optional`` (``internal/chartutil/
    values.go``, ``ChartValuesFromReferences``, in fluxcd/helm-controller). Secrets are never
    read: a ``targetPath`` from a Secret gets `secret_placeholder`, a whole Secret adds
    nothing. The merge itself is `compute_values` (without chart defaults).

    Args:
        release: the HelmRelease (plain data).
        lookup: finds a source object of the same tree by kind, namespace and name.

    Returns:
        The merged values and one note per ``valuesFrom`` entry, in order.
    """
    raw_spec = release.get("spec")
    spec: Mapping[str, Any] = raw_spec if isinstance(raw_spec, Mapping) else {}
    meta = release.get("metadata")
    namespace = str((meta if isinstance(meta, Mapping) else {}).get("namespace") or "")
    layers: list[tuple[str | None, Any]] = []
    notes: list[ValuesNote] = []
    for index, ref in enumerate(spec.get("valuesFrom") or []):
        if not isinstance(ref, Mapping):
            continue
        layer, note = _resolve_ref(index, ref, namespace, lookup)
        notes.append(note)
        if layer is not None:
            layers.append(layer)
    inline = spec.get("values")
    return ResolvedValues(
        compute_values(layers, yamlio.plain(inline) if isinstance(inline, Mapping) else None),
        notes)


def _resolve_ref(
    index: int, ref: Mapping[str, Any], namespace: str, lookup: Lookup
) -> tuple[tuple[str | None, Any] | None, ValuesNote]:
    """The layer one ``valuesFrom`` entry adds (None: nothing) and its note."""
    kind, name = str(ref.get("kind") or ""), str(ref.get("name") or "")
    key = str(ref.get("valuesKey") or DEFAULT_VALUES_KEY)
    target = str(ref["targetPath"]) if ref.get("targetPath") else None

    def note(outcome: str, detail: str = "") -> ValuesNote:
        return ValuesNote(index, kind, namespace, name, key, target, bool(ref.get("optional")),
                          outcome, detail)

    if kind == "Secret":
        return ((target, secret_placeholder(name, key)) if target else None), note(SECRET)
    if kind != "ConfigMap":
        return None, note(UNSUPPORTED)
    source = lookup(kind, namespace, name)
    if source is None:
        return None, note(NO_SOURCE)
    data = source.get("data")
    raw = data.get(key) if isinstance(data, Mapping) else None
    if raw is None:
        return None, note(NO_KEY)
    if target:
        return (target, str(raw)), note(MERGED)
    try:
        content = yamlio.load_fast(str(raw))
    except YAMLError as exc:
        return None, note(BAD_YAML, str(exc).splitlines()[0])
    if content is None:
        content = {}
    if not isinstance(content, Mapping):
        return None, note(NOT_MAPPING)
    return (None, content), note(MERGED)
