"""Core Kubernetes kinds, validated offline with kubernetes-validate's strict schemas.

Why: ``kubernetes_validate.validate()`` re-reads its 5 MB definitions file and rebuilds the
validator for every document and stops at the first error. We use the same bundled schemas
and the same look-up rule, but compile each validator once per run and report every error.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any

import jsonschema
from referencing import Registry, Resource

from dlaas_gen.kube_versions import resolve_version, schema_root


class UnknownKind(Exception):
    """No bundled schema for this kind/apiVersion."""


@functools.lru_cache(maxsize=4)
def _registry(version: str) -> Registry:
    folder = schema_root() / f"v{version}-local-strict"
    with (folder / "_definitions.json").open(encoding="utf-8") as handle:
        definitions = json.load(handle)
    return Resource.from_contents(definitions) @ Registry()


@functools.lru_cache(maxsize=256)
def validator_for(version: str, api_version: str, kind: str) -> jsonschema.protocols.Validator:
    """Return the compiled strict validator for one kind (cached for the run).

    Raises:
        UnknownKind: no schema is bundled for this kind and apiVersion.
    """
    api = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    path = schema_root() / f"v{version}-local-strict" / f"{kind.lower()}-{api}.json"
    if not path.is_file():
        raise UnknownKind(f"no Kubernetes {version} schema for {kind} {api_version}")
    with path.open(encoding="utf-8") as handle:
        schema = json.load(handle)
    registry = Resource.from_contents(schema) @ _registry(version)
    return jsonschema.Draft202012Validator(schema, registry=registry)


def iter_core_errors(doc: dict[str, Any], kube_version: str) -> list[jsonschema.ValidationError]:
    """Every schema error of one core object (raises `UnknownKind` for unknown kinds)."""
    validator = validator_for(resolve_version(kube_version), doc["apiVersion"], doc["kind"])
    return sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))
