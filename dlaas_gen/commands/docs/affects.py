"""Find which rendered objects each field changes, by rendering the shipped examples.

Why: a hand-kept "affects" list would drift from the templates; instead each field set in an
example is removed or changed (a valid neighbour value), the site is rendered again, and the
kinds of the objects whose text differs are recorded. Fields no example sets inherit the answer
of the nearest enclosing field; an ``affects`` hint in the model (``json_schema_extra``) wins.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from dlaas_gen import yamlio
from dlaas_gen.commands.docs.fields import MAP_ITEM, FieldDoc
from dlaas_gen.config import SiteConfig
from dlaas_gen.context import SiteInput, build_context
from dlaas_gen.loader import discover_sites, site_name

#: Templates of folder index files (kustomization.yaml lists), not cluster objects.
_INDEX_TEMPLATES = ("kustomize/",)
_LITERAL = re.compile(r'^"[^"]*"( \| "[^"]*")+( \| null)?$')


def _render(name: str, data: Any) -> dict[str, str] | None:
    """``{object label: its template variables as JSON}``, or None when `data` is invalid.

    Why: templates are pure functions of their variables, so comparing the variables of each
    object finds the same changes as comparing rendered text, without Jinja and YAML parsing
    (a few hundred variants must stay fast).
    """
    try:
        config = SiteConfig.model_validate(data)
        ctx = build_context(SiteInput(name, config))
    except Exception:  # noqa: BLE001 - a variant the model or a component rejects says nothing
        return None
    return {
        f"{o.kind}\0{o.folder}/{o.name}":
            json.dumps([o.template, o.vars.variables()], sort_keys=True, default=str)
        for o in ctx.objects if not o.template.startswith(_INDEX_TEMPLATES)
    }


def _changed(base: dict[str, str], other: dict[str, str] | None) -> set[str]:
    if other is None:
        return set()
    keys = set(base) | set(other)
    return {k.split("\0")[0] for k in keys if base.get(k) != other.get(k)}


def _locations(data: Any, doc: FieldDoc) -> list[tuple[Any, ...]]:
    """Where `doc` is set in `data`; a field of a union member only where its ``type`` matches."""
    out = []
    for loc in _concrete(data, doc.loc):
        holder = _value_at(data, loc[:-1])
        if doc.variant is None or not isinstance(holder, dict) or holder.get("type") == doc.variant:
            out.append(loc)
    return out


def _concrete(data: Any, loc: tuple[Any, ...]) -> Iterator[tuple[Any, ...]]:
    """Every real location of `loc` in `data`.

    ``0`` in `loc` stands for any list item, `MAP_ITEM` for any key of a map.
    """
    if not loc:
        yield ()
        return
    for key, item in _children(data, loc[0]):
        for tail in _concrete(item, loc[1:]):
            yield (key, *tail)


def _children(data: Any, head: Any) -> list[tuple[Any, Any]]:
    """The ``(key, value)`` pairs of `data` that the location part `head` stands for."""
    if isinstance(head, int):
        return list(enumerate(data)) if isinstance(data, list) else []
    if head == MAP_ITEM:
        return list(data.items()) if isinstance(data, dict) else []
    return [(head, data[head])] if isinstance(data, dict) and head in data else []


def _variants(value: Any, type_text: str) -> Iterator[Any]:
    """Neighbour values of `value` that may still be valid (the first valid one is used)."""
    if isinstance(value, bool):
        yield not value
    elif isinstance(value, int | float):
        yield value + 1
        yield value * 2
    elif isinstance(value, str):
        if _LITERAL.match(type_text):
            for choice in re.findall(r'"([^"]*)"', type_text):
                if choice != value:
                    yield choice
        yield "1" + value
        yield value + "x"
        yield value + "-x"
    elif isinstance(value, list) and value:
        yield value[:-1]
        yield value + value[-1:]


def _set(data: Any, loc: tuple[Any, ...], value: Any, remove: bool = False) -> Any:
    out = copy.deepcopy(data)
    node = out
    for part in loc[:-1]:
        node = node[part]
    if remove:
        if isinstance(node, dict):
            del node[loc[-1]]
        else:
            node.pop(loc[-1])
    else:
        node[loc[-1]] = value
    return out


def affected_kinds(fields: list[FieldDoc], examples: Path) -> dict[str, list[str] | None]:
    """``{field key: sorted object kinds}``; None for a field no example reaches."""
    found: dict[str, set[str]] = {f.key: set() for f in fields}
    probed: set[str] = set()
    for path in discover_sites(examples):
        _probe_example(path, fields, found, probed)
    _spread_to_sections(fields, found, probed)
    result: dict[str, list[str] | None] = {}
    for doc in fields:  # a field no example reaches shows what its section changes
        if doc.variant and doc.loc[-1] == "type" and doc.parent:  # a union tag: its section
            result[doc.key] = result.get(doc.parent)
        elif found[doc.key] or doc.key in probed:
            result[doc.key] = sorted(found[doc.key])
        else:
            result[doc.key] = result.get(doc.parent) if doc.parent else None
    return result


def _probe_example(path: Path, fields: list[FieldDoc], found: dict[str, set[str]],
                   probed: set[str]) -> None:
    """Probe every field in one example: those it sets, then those it leaves at their default.

    Adds the changed kinds to `found` and the fields some probe rendered to `probed`.
    """
    name = site_name(path)
    data = yamlio.plain(yamlio.load_roundtrip(path.read_text(encoding="utf-8")))
    base = _render(name, data)
    if base is None:
        return
    for doc in fields:
        for loc in _locations(data, doc):
            kinds = _probe(name, data, loc, base, doc.type)
            if kinds is not None:
                probed.add(doc.key)
                found[doc.key] |= kinds
        if doc.key not in probed:
            kinds = _probe_default(name, data, doc, base)
            if kinds is not None:
                probed.add(doc.key)
                found[doc.key] |= kinds


def _probe_default(name: str, data: Any, doc: FieldDoc, base: dict[str, str]) -> set[str] | None:
    """Kinds changed by setting a field the example leaves out; None when nothing renders."""
    if doc.default in (None, "null") or not _has_parent(data, doc):
        return None
    for candidate in _variants(json.loads(doc.default), doc.type):
        rendered = _render(name, _set(data, doc.loc, candidate))
        if rendered is not None:
            return _changed(base, rendered)
    return None


def _spread_to_sections(fields: list[FieldDoc], found: dict[str, set[str]],
                        probed: set[str]) -> None:
    """Apply the model's ``affects`` hints; a section changes what any of its fields changes."""
    for doc in fields:
        if doc.hint:
            found[doc.key] = set(doc.hint)
            probed.add(doc.key)
    hinted = {f.key for f in fields if f.hint}
    for doc in reversed(fields):
        if doc.parent is not None and doc.parent not in hinted:
            found[doc.parent] |= found[doc.key]
            if doc.key in probed:
                probed.add(doc.parent)


def _has_parent(data: Any, doc: FieldDoc) -> bool:
    """True when the mapping that would hold `doc` exists (only its own key is missing)."""
    try:
        node = _value_at(data, doc.loc[:-1])
    except (KeyError, IndexError, TypeError):
        return False
    if doc.variant is not None and isinstance(node, dict) and node.get("type") != doc.variant:
        return False
    return isinstance(node, dict)


def _probe(name: str, data: Any, loc: tuple[Any, ...], base: dict[str, str],
           type_text: str) -> set[str] | None:
    """Kinds changed by removing or changing the value at `loc`; None when no probe renders.

    Why: a value that cannot be removed or changed to a neighbour (a reference to another
    entry, e.g. ``image: {build: <name>}``) says nothing; its section's answer is shown instead.
    """
    removed = _render(name, _set(data, loc, None, remove=True))
    kinds = _changed(base, removed)
    rendered_any = removed is not None
    value = _value_at(data, loc)
    for candidate in _variants(value, type_text):
        rendered = _render(name, _set(data, loc, candidate))
        if rendered is not None:
            kinds |= _changed(base, rendered)
            rendered_any = True
            break
    return kinds if rendered_any else None


def _value_at(data: Any, loc: tuple[Any, ...]) -> Any:
    for part in loc:
        data = data[part]
    return data


def example_value(fields: list[FieldDoc], examples: Path) -> dict[str, str]:
    """``{field key: "value (from <example>)"}`` for fields set in a shipped example."""
    out: dict[str, str] = {}
    for path in sorted(discover_sites(examples), key=lambda p: (site_name(p) != "escape", p.name)):
        data = yamlio.plain(yamlio.load_roundtrip(path.read_text(encoding="utf-8")))
        for doc in fields:
            if doc.key in out:
                continue
            for loc in _locations(data, doc):
                value = _value_at(data, loc)
                if isinstance(value, dict | list):
                    continue
                out[doc.key] = f"`{json.dumps(value)}` ({site_name(path)})"
                break
    return out
