"""Where in the site file a rendered object (or a place inside it) comes from.

Why: ``render`` validates objects before writing them; a problem found in a rendered object
must point at the line of the site file the user edits (the rendered file may never be
written, or be written elsewhere), and name the rendered object so the finding can be traced.
The mapping is by the section the object was rendered from (`Manifest.section`, set by the
context component that made it) and, for the z2jh HelmRelease, by values path: a value set
through ``extra_values`` maps to its own line there.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from dlaas_gen.manifest import Manifest
from dlaas_gen.yamlio import CommentedMap, CommentedSeq

Loc = tuple[Any, ...]

#: Top-level z2jh values key → the site section that sets it.
VALUES_SECTIONS: dict[str, Loc] = {
    "singleuser": ("singleuser",),
    "hub": ("hub",),
    "ingress": ("ingress",),
    "proxy": ("ingress",),
    "cull": ("chart",),
}


def object_loc_at(m: Manifest, line: int) -> Loc:
    """The path of the innermost key or item of `m` written at or before `line`."""
    doc = m.located_doc()  # parses the text with positions once (cached on the manifest)
    best: Loc = ()
    for loc, at in _walk(doc, ()):
        if at > line:
            break
        best = loc
    return best


def _walk(node: Any, loc: Loc) -> Iterator[tuple[Loc, int]]:
    """Every (path, 1-based line) of `node`'s keys and items, in text order."""
    if isinstance(node, CommentedMap):
        for key, value in node.items():
            pos = _line(node.lc.key, key)
            if pos is not None:
                yield (*loc, key), pos
            yield from _walk(value, (*loc, key))
    elif isinstance(node, CommentedSeq):
        for index, value in enumerate(node):
            pos = _line(node.lc.item, index)
            if pos is not None:
                yield (*loc, index), pos
            yield from _walk(value, (*loc, index))


def _line(lookup: Any, key: Any) -> int | None:
    try:
        pos = lookup(key)
    except (KeyError, IndexError, TypeError):
        return None
    return pos[0] + 1 if pos and pos[0] is not None else None


def site_loc_for(m: Manifest, loc: Loc, site: Any) -> Loc:
    """The site-file path that produced `loc` of the rendered object `m`.

    `site` is the site file as parsed (a mapping). A HelmRelease value that ``extra_values``
    sets maps to the deepest key of it there; other values to the section that sets them;
    anything else to the section the object was rendered from. A section the file does not write
    falls back to the nearest enclosing one that exists (or the top of the file).
    """
    if m.template == "jupyterhub/helmrelease.yaml.j2" and loc[:2] == ("spec", "values"):
        values = loc[2:]
        extra = _deepest(site.get("extra_values"), values) if isinstance(site, dict) else ()
        if extra:
            return ("extra_values", *extra)
        if values and str(values[0]) in VALUES_SECTIONS:
            found = _existing(site, VALUES_SECTIONS[str(values[0])])
            if found:
                return found
    return _existing(site, m.section)


def _deepest(node: Any, loc: Loc) -> Loc:
    """The longest prefix of `loc` that exists in `node`."""
    found: list[Any] = []
    for key in loc:
        if isinstance(node, dict) and key in node:
            node = node[key]
        elif isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node):
            node = node[key]
        else:
            break
        found.append(key)
    return tuple(found)


def _existing(site: Any, loc: Loc) -> Loc:
    return _deepest(site, loc)


def describe(m: Manifest) -> str:
    """``HelmRelease jhub/jhub`` for a message."""
    meta = m.doc.get("metadata") if isinstance(m.doc, dict) else None
    name = str(meta.get("name", "")) if isinstance(meta, dict) else ""
    namespace = str(meta.get("namespace", "") or "") if isinstance(meta, dict) else ""
    return f"{m.kind} {namespace + '/' if namespace else ''}{name}".strip()
