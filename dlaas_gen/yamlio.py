"""The only module that configures ruamel.yaml.

Why: one place decides how YAML is read (round-trip, duplicate keys rejected, positions kept)
and written (indent 2, dash offset 2, no key sorting, literal blocks for multi-line strings),
so the bytes in ``rendered/`` never depend on who called the dumper.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import LiteralScalarString

__all__ = [
    "CommentedMap",
    "CommentedSeq",
    "dump_doc",
    "dump_docs",
    "load_roundtrip",
    "load_roundtrip_all",
    "make_roundtrip",
    "plain",
    "position_of",
]


def make_roundtrip() -> YAML:
    """Return a round-trip YAML instance that keeps comments, quotes and positions."""
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096
    return yaml


def _make_dumper() -> YAML:
    yaml = YAML(typ="rt")
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096
    yaml.default_flow_style = False
    yaml.explicit_start = False
    return yaml


def load_roundtrip(text: str) -> Any:
    """Parse one YAML document keeping positions (raises ruamel errors on bad YAML)."""
    return make_roundtrip().load(text)


def load_roundtrip_all(text: str) -> list[Any]:
    """Parse every document of a YAML stream keeping positions."""
    return list(make_roundtrip().load_all(text))


def _prepare(value: Any) -> Any:
    """Convert plain containers to dumpable ones, multi-line strings to literal blocks."""
    if isinstance(value, dict):
        out = CommentedMap()
        for key, item in value.items():
            out[key] = _prepare(item)
        return out
    if isinstance(value, list | tuple):
        return CommentedSeq(_prepare(item) for item in value)
    if isinstance(value, str) and "\n" in value and not value.startswith(" "):
        return LiteralScalarString(value)
    return value


def dump_doc(doc: Any) -> str:
    """Serialise one document deterministically (trailing newline, no ``---``)."""
    stream = io.StringIO()
    _make_dumper().dump(_prepare(plain(doc)), stream)
    return stream.getvalue()


def dump_docs(docs: Iterable[Any]) -> str:
    """Serialise several documents separated by ``---``."""
    return "---\n".join(dump_doc(doc) for doc in docs)


def plain(value: Any) -> Any:
    """Return `value` with ruamel containers and scalar subclasses turned into builtins."""
    if isinstance(value, dict):
        return {str(k) if not isinstance(k, (int, float, bool)) else k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    return value


def position_of(node: Any, loc: Iterable[Any], *, value: bool = False) -> tuple[int, int]:
    """Return the 1-based (line, col) of the deepest existing node along `loc`.

    Why: pydantic and jsonschema report paths, users want positions. A missing key is reported
    at its parent key, which is where the user has to add it. With `value`, a path that exists
    to its end points at the value (where a wrong value must be fixed) instead of the key.
    """
    line, col = 1, 1
    current = node
    keys = list(loc)
    for index, key in enumerate(keys):
        if isinstance(current, CommentedMap) and key in current:
            at_value = value and index == len(keys) - 1
            pos = current.lc.value(key) if at_value else current.lc.key(key)
            if pos is not None:
                line, col = pos[0] + 1, pos[1] + 1
            current = current[key]
        elif isinstance(current, CommentedSeq) and isinstance(key, int) and 0 <= key < len(current):
            pos = current.lc.item(key)
            if pos is not None:
                line, col = pos[0] + 1, pos[1] + 1
            current = current[key]
        else:
            break
    return line, col
