"""Validation of migrated objects against the vendored GA schemas (+ the CEL rules that matter).

Why: JSON Schema cannot run the CRDs' CEL rules, and "exactly one of chart/chartRef" is the one a
migration can get wrong, so it (and two cheap others) are checked by hand.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

from jsonschema import Draft7Validator

from dlaas_gen.commands.migrate.edit import line_of
from dlaas_gen.yamlio import plain

_SCHEMA_DIR = ("data", "schemas", "flux", "json")


def schema_name(api_version: str, kind: str) -> str:
    """Return the kubeconform-style file name ``<kind>-<group label>-<version>.json``."""
    group, _, version = api_version.rpartition("/")
    return f"{kind.lower()}-{group.split('.')[0]}-{version}.json"


@lru_cache(maxsize=32)
def _validator(name: str) -> Draft7Validator | None:
    node = resources.files("dlaas_gen").joinpath(*_SCHEMA_DIR, name)
    if not node.is_file():
        return None
    return Draft7Validator(json.loads(node.read_text(encoding="utf-8")))


def has_schema(api_version: str, kind: str) -> bool:
    """True when a vendored schema exists for the apiVersion and kind."""
    return _validator(schema_name(api_version, kind)) is not None


def _cel(doc: dict[str, Any]) -> list[tuple[list[Any], str]]:
    spec = doc.get("spec") if isinstance(doc.get("spec"), dict) else {}
    kind = doc.get("kind")
    out: list[tuple[list[Any], str]] = []
    if kind == "HelmRelease" and ("chart" in spec) == ("chartRef" in spec):
        out.append((["spec"], "either chart or chartRef must be set (exactly one)"))
    kube = spec.get("kubeConfig")
    if kind in ("HelmRelease", "Kustomization") and isinstance(kube, dict) and (
            ("configMapRef" in kube) == ("secretRef" in kube)):
        out.append((["spec", "kubeConfig"], "exactly one of configMapRef or secretRef"))
    if kind == "GitRepository" and "serviceAccountName" in spec and spec.get("provider") not in (
            "azure", "aws"):
        out.append((["spec", "serviceAccountName"],
                    "serviceAccountName can only be set when provider is 'azure' or 'aws'"))
    return out


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
    validator = _validator(schema_name(str(data.get("apiVersion", "")), str(data.get("kind", ""))))
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
        for loc, message in _cel(data):
            line, col = _position(doc, loc)
            problems.append((line - 1, col, f"{'.'.join(loc)}: {message}"))
    return problems

