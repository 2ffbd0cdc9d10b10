"""Match the objects of two sides by identity and describe each difference.

Why: objects are matched by (site, API group, kind, namespace, name), never by file name, so
moving an object between files is reported as a move and not as a removal plus an addition,
and two sites rendering the same release name are never confused.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dlaas_gen.commands.diff import attention
from dlaas_gen.commands.diff.charts import ChartArchives, ChartDiff, chart_diffs
from dlaas_gen.commands.diff.index import Entry, Index, index_side
from dlaas_gen.commands.diff.model import (
    ADDED,
    CHANGED,
    MOVED,
    REMOVED,
    DiffOptions,
    DiffResult,
    ResourceChange,
    Side,
)
from dlaas_gen.commands.diff.normalize import (
    MISSING,
    redact_pair,
    secret_keys,
    strip_metadata,
    to_text,
)
from dlaas_gen.commands.diff.values import ResolvedValues, is_helmrelease, side_values
from dlaas_gen.manifest import ResourceKey


def unified(old: str, new: str, old_name: str, new_name: str, context: int) -> str:
    """Unified diff of two texts; ``""`` when equal."""
    if old == new:
        return ""
    lines = difflib.unified_diff(
        old.splitlines(), new.splitlines(), old_name, new_name, n=context, lineterm=""
    )
    return "\n".join(lines) + "\n"


@dataclass
class _Prepared:
    obj: Any = MISSING
    values: ResolvedValues | None = None


def _prepare(entry: Entry | None, lookup: Mapping[ResourceKey, Any], opts: DiffOptions) -> Any:
    if entry is None:
        return _Prepared()
    doc = strip_metadata(entry.doc, opts.ignore_labels, opts.ignore_annotations)
    prepared = _Prepared(obj=doc)
    if is_helmrelease(entry.doc):
        prepared.values = side_values(entry.doc, lookup)
        spec = doc.get("spec")
        if isinstance(spec, dict):
            spec.pop("values", None)
    return prepared


def _by_site(index: Index) -> dict[str, dict[ResourceKey, Any]]:
    out: dict[str, dict[ResourceKey, Any]] = {}
    for (site, key), entry in index.items():
        out.setdefault(site, {})[key] = entry.doc
    return out


def compare_sides(
    old: Side, new: Side, options: DiffOptions | None = None,
    charts: tuple[ChartArchives, ChartArchives] | None = None,
) -> DiffResult:
    """Compare two loaded sides.

    Args:
        old: the base side.
        new: the side under review.
        options: noise control and context size.
        charts: where each side's locked chart archives are; with them, the chart objects of
            changed HelmReleases are rendered and compared too (`dlaas_gen.commands.diff.charts`).

    Returns:
        The changes, the attention items and notes, in stable order.

    Raises:
        UsageError: an object is defined twice on one side.
    """
    opts = options or DiffOptions()
    old_index, old_notes = index_side(old)
    new_index, new_notes = index_side(new)
    old_lookup = _by_site(old_index)
    new_lookup = _by_site(new_index)
    changes: list[ResourceChange] = []
    pairs: list[attention.Pair] = []
    unchanged = 0
    for site, key in sorted(set(old_index) | set(new_index), key=_order):
        o_entry = old_index.get((site, key))
        n_entry = new_index.get((site, key))
        o = _prepare(o_entry, old_lookup.get(site, {}), opts)
        n = _prepare(n_entry, new_lookup.get(site, {}), opts)
        o_obj, n_obj = redact_pair(o.obj, n.obj)
        o_path = o_entry.path if o_entry else None
        n_path = n_entry.path if n_entry else None
        diff = unified(
            to_text(o_obj),
            to_text(n_obj),
            f"a/{o_path}" if o_path else "/dev/null",
            f"b/{n_path}" if n_path else "/dev/null",
            opts.context,
        )
        o_vals, n_vals = MISSING, MISSING
        values_diff = ""
        notes: list[str] = []
        if o.values or n.values:
            o_vals, n_vals = redact_pair(
                o.values.values if o.values else MISSING, n.values.values if n.values else MISSING
            )
            values_diff = unified(
                to_text(o_vals),
                to_text(n_vals),
                f"a/{o_path} (merged values)" if o_path else "/dev/null",
                f"b/{n_path} (merged values)" if n_path else "/dev/null",
                opts.context,
            )
            resolved = n.values or o.values
            notes = [note.describe() for note in resolved.notes] if resolved else []
        if o_entry is None:
            status = ADDED
        elif n_entry is None:
            status = REMOVED
        elif diff or values_diff:
            status = CHANGED
        elif o_path != n_path:
            status = MOVED
        else:
            unchanged += 1
            continue
        change = ResourceChange(
            status=status,
            site=site,
            key=key,
            old_path=o_path,
            new_path=n_path,
            diff=diff if status != MOVED else "",
            values_diff=values_diff,
            values_notes=notes,
        )
        if key.kind == "Secret" and key.group == "":
            change.secret_keys = secret_keys(
                o_entry.doc if o_entry else {}, n_entry.doc if n_entry else {}
            )
        changes.append(change)
        pairs.append(attention.Pair(change, o_obj, n_obj, o_vals, n_vals))
    _note_indirect(changes, old_index, new_index)
    items = attention.collect(pairs, old_index)
    chart_results: list[ChartDiff] = []
    chart_notes: list[str] = []
    if charts is not None:
        chart_results, chart_notes = chart_diffs(changes, old_lookup, new_lookup, charts, opts,
                                                 compare_sides)
    return DiffResult(
        old_label=old.label,
        new_label=new.label,
        changes=changes,
        unchanged=unchanged,
        attention=items,
        notes=[*old.notes, *new.notes, *old_notes, *new_notes, *chart_notes],
        charts=chart_results,
    )


def _order(item: tuple[str, ResourceKey]) -> tuple[str, str, str, str, str]:
    site, key = item
    return (site, key.kind, key.namespace, key.name, key.group)


def _note_indirect(changes: list[ResourceChange], old_index: Index, new_index: Index) -> None:
    """Tell under each HelmRelease which of its ``valuesFrom`` sources changed in this diff."""
    changed = {(c.site, c.key): c for c in changes if c.status in (CHANGED, ADDED, REMOVED)}
    for change in changes:
        entry = new_index.get((change.site, change.key)) or old_index.get(
            (change.site, change.key)
        )
        if entry is None or not is_helmrelease(entry.doc):
            continue
        spec = entry.doc.get("spec") if isinstance(entry.doc.get("spec"), Mapping) else {}
        seen: set[ResourceKey] = set()
        for ref in (spec or {}).get("valuesFrom") or []:
            if not isinstance(ref, Mapping):
                continue
            ref_key = ResourceKey(
                "", str(ref.get("kind", "")), change.key.namespace, str(ref.get("name", ""))
            )
            source = changed.get((change.site, ref_key))
            if source is None or ref_key in seen:
                continue
            seen.add(ref_key)
            line = f"valuesFrom source {ref_key} is {source.status} in this diff"
            if source.secret_keys:
                line += f" (Secret keys changed: {_keys(source.secret_keys)})"
            change.values_notes.append(line)


def _keys(keys: Any) -> str:
    parts: list[str] = []
    for label, names in (("+", keys.added), ("-", keys.removed), ("~", keys.changed)):
        parts.extend(f"{label}{n}" for n in names)
    return ", ".join(parts)
