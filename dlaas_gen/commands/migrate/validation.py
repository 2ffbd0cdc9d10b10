"""Migrated objects checked against the vendored GA schemas and the CRDs' CEL rules.

Why: the schemas and the rules are `dlaas_gen.fluxschema` (shared with ``validate``); this
module places each finding on the line of the migrated document (nodes the migration
inserted have no position of their own) and words it without the offending value.
"""

from __future__ import annotations

from typing import Any

from dlaas_gen import fluxschema
from dlaas_gen.commands.migrate.edit import line_of
from dlaas_gen.yamlio import plain


def has_schema(api_version: str, kind: str) -> bool:
    """True when a vendored schema exists for the apiVersion and kind."""
    return fluxschema.has_schema(api_version, kind)


def _position(doc: Any, loc: list[Any]) -> tuple[int, int]:
    """1-based (line, col) of the deepest node along `loc` that has a known position.

    Why: nodes the migration inserted carry no position; `yamlio.position_of` expects every
    key to have one.
    """
    line, col, node = (line_of(doc) or 0) + 1, 1, doc
    for key in loc:
        if not isinstance(node, dict | list):
            break
        try:
            child = node[key]
        except (KeyError, IndexError, TypeError):
            break
        rel = line_of(node, key)
        if rel is not None:
            line = rel + 1
        node = child
    return line, col


def _message(error: Any) -> str:
    """A jsonschema error without the offending value (jsonschema's own messages quote it)."""
    validator, expected, instance = error.validator, error.validator_value, error.instance
    if validator == "required" and isinstance(instance, dict):
        missing = [k for k in expected if k not in instance]
        return f"missing required field(s) {', '.join(missing)}"
    if validator == "additionalProperties" and isinstance(instance, dict):
        known = set(error.schema.get("properties", {}))
        extra = [str(k) for k in instance if k not in known]
        return f"unknown field(s) {', '.join(extra)}"
    if validator == "type":
        return f"must be of type {expected}"
    if validator in ("enum", "const"):
        return f"must be one of {expected}" if validator == "enum" else f"must be {expected}"
    if validator in ("oneOf", "anyOf"):
        return "matches none of the allowed forms"
    return f"does not satisfy {validator}: {expected}"


def validate_object(doc: Any, *, partial: bool = False) -> list[tuple[int, int, str]]:
    """Validate one migrated object; return ``(line, col, message)`` per problem (0-based line).

    Args:
        doc: the migrated object (ruamel round-trip, for positions).
        partial: a kustomize patch document: missing required fields and CEL rules are ignored.
    """
    data = plain(doc)
    validator = fluxschema.validator(str(data.get("apiVersion", "")), str(data.get("kind", "")))
    if validator is None:
        return []
    problems: list[tuple[int, int, str]] = []
    for error in sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path)):
        if partial and error.validator == "required":
            continue
        loc = list(error.absolute_path)
        line, col = _position(doc, loc)
        where = ".".join(str(p) for p in loc) or "(root)"
        problems.append((line - 1, col, f"{where}: {_message(error)}"))
    if not partial:
        for error in fluxschema.cel_errors(data):
            loc = list(error.absolute_path)
            line, col = _position(doc, loc)
            problems.append((line - 1, col, f"{'.'.join(map(str, loc))}: {error.message}"))
    return problems
