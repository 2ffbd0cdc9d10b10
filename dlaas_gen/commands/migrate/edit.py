"""Small in-place edits on ruamel round-trip maps that keep positions and comments.

Why: rebuilding a HelmRelease spec from scratch would drop every comment; editing the parsed map
in place (rename at the same index, keep a renamed key's comment) keeps what the user wrote
around the fields we touch.
"""

from __future__ import annotations

from typing import Any

from ruamel.yaml.comments import CommentedMap


def line_of(node: Any, key: Any = None) -> int | None:
    """Return the 0-based line of `key` in `node` (or of `node` itself), None when unknown."""
    lc = getattr(node, "lc", None)
    if lc is None:
        return None
    try:
        if key is not None:
            return lc.key(key)[0] if isinstance(node, CommentedMap) else lc.item(key)[0]
        return lc.line
    except (KeyError, IndexError, TypeError):
        return lc.line


def get_path(node: Any, *keys: Any) -> Any:
    """Return the value at `keys` or None (non-mapping steps give None)."""
    for key in keys:
        if isinstance(node, dict) and key in node:
            node = node[key]
        elif isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node):
            node = node[key]
        else:
            return None
    return node


def delete_key(cmap: CommentedMap, key: Any) -> Any:
    """Remove `key` and its attached comment; return its value.

    The comment lines around it are not lost: the emitter keeps the comment lines of a removed
    entry in place (`emit.Emitter`), which ruamel would otherwise attach to the wrong key.
    """
    cmap.ca.items.pop(key, None)
    return cmap.pop(key)


def replace_key(cmap: CommentedMap, old: Any, new: Any, value: Any) -> None:
    """Put `new: value` where `old` was, keeping `old`'s comment; `old` may equal `new`."""
    keys = list(cmap.keys())
    idx = keys.index(old)
    comment = cmap.ca.items.pop(old, None)
    cmap.pop(old)
    if new in cmap:
        cmap.pop(new)
        keys = list(cmap.keys())
        idx = min(idx, len(keys))
    cmap.insert(idx, new, value)
    if comment is not None:
        cmap.ca.items[new] = comment


def insert_key(
    cmap: CommentedMap, key: Any, value: Any, *, after: Any = None, before: Any = None
) -> None:
    """Insert `key` after/before an existing key (append when neither exists).

    An existing `key` is replaced in place.
    """
    if key in cmap:
        cmap[key] = value
        return
    keys = list(cmap.keys())
    if after is not None and after in cmap:
        cmap.insert(keys.index(after) + 1, key, value)
    elif before is not None and before in cmap:
        cmap.insert(keys.index(before), key, value)
    else:
        cmap[key] = value


def ensure_map(cmap: CommentedMap, key: Any, *, before: Any = None) -> CommentedMap:
    """Return the map at `key`, creating an empty one (inserted before `before`) if needed."""
    value = cmap.get(key)
    if not isinstance(value, CommentedMap):
        value = CommentedMap()
        if key in cmap:
            cmap[key] = value
        else:
            insert_key(cmap, key, value, before=before)
    return value


def cmap(*pairs: tuple[str, Any]) -> CommentedMap:
    """Build a CommentedMap from pairs, skipping None values."""
    out = CommentedMap()
    for key, value in pairs:
        if value is not None:
            out[key] = value
    return out
