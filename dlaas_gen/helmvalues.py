"""Helm values as helm-controller computes them.

Why: what the chart sees is not the inline ``values`` alone. helm-controller merges the
``valuesFrom`` entries in order, then the inline ``values``, then applies ``targetPath``
entries last; Helm then coalesces that over the chart defaults (maps merge, lists replace,
``null`` deletes a default). Validating anything else validates the wrong document.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Mapping
from typing import Any


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
    """Set a dotted ``targetPath`` (``hub.config.X.client_id``) inside `values`.

    ``\\.`` escapes a literal dot in a key; ``name[N]`` sets list item N (the list is created
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
    for step, following in zip(steps, steps[1:]):
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
