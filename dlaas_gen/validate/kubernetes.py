"""Core Kubernetes kinds, validated offline with kubernetes-validate's strict schemas.

Why: ``kubernetes_validate.validate()`` re-reads its 5 MB definitions file and rebuilds the
validator for every document and stops at the first error. We use the same bundled schemas
and the same look-up rule, but compile each validator once per run and report every error.
A document is first given to the kind's compiled check (`dlaas_gen.schemacode`), when there is
one; only a document it does not accept goes through jsonschema, which reports the errors.
"""

from __future__ import annotations

import functools
import json
import re
from typing import TYPE_CHECKING, Any

from dlaas_gen import schemacode
from dlaas_gen.kube_versions import resolve_version, schema_root

if TYPE_CHECKING:  # jsonschema is imported only when a document is rejected (~60 ms)
    import jsonschema
    from referencing import Registry


class UnknownKind(Exception):
    """No bundled schema for this kind/apiVersion."""


@functools.lru_cache(maxsize=4)
def _definitions_file(version: str) -> bytes:
    return (schema_root() / f"v{version}-local-strict" / "_definitions.json").read_bytes()


@functools.lru_cache(maxsize=4)
def _definitions(version: str) -> dict[str, Any]:
    definitions: dict[str, Any] = json.loads(_definitions_file(version))
    return definitions


@functools.lru_cache(maxsize=4)
def _definitions_digest(version: str) -> str:
    return schemacode.content_digest(_definitions_file(version))


@functools.lru_cache(maxsize=4)
def _registry(version: str) -> Registry:
    from referencing import Registry, Resource  # noqa: PLC0415 - see TYPE_CHECKING above

    return Resource.from_contents(_definitions(version)) @ Registry()


@functools.lru_cache(maxsize=256)
def _kind_file(version: str, api_version: str, kind: str) -> tuple[bytes, str]:
    """The bytes of a kind's schema file and their digest with the definitions'.

    Raises:
        UnknownKind: no schema is bundled for this kind and apiVersion.
    """
    api = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    path = schema_root() / f"v{version}-local-strict" / f"{kind.lower()}-{api}.json"
    if not path.is_file():
        raise UnknownKind(f"no Kubernetes {version} schema for {kind} {api_version}")
    data = path.read_bytes()
    return data, schemacode.content_digest(data, _definitions_digest(version).encode())


@functools.lru_cache(maxsize=256)
def validator_for(version: str, api_version: str, kind: str) -> jsonschema.protocols.Validator:
    """Return the compiled strict validator for one kind (cached for the run).

    Raises:
        UnknownKind: no schema is bundled for this kind and apiVersion.
    """
    from jsonschema import Draft202012Validator  # noqa: PLC0415 - see TYPE_CHECKING above
    from referencing import Resource  # noqa: PLC0415

    schema = json.loads(_kind_file(version, api_version, kind)[0])
    registry = Resource.from_contents(schema) @ _registry(version)
    return Draft202012Validator(schema, registry=registry)


def fast_check(version: str, api_version: str, kind: str) -> schemacode.Check | None:
    """The compiled check of one kind (`dlaas_gen.schemacode`), or None.

    Raises:
        UnknownKind: no schema is bundled for this kind and apiVersion.
    """
    data, digest = _kind_file(version, api_version, kind)

    def load() -> schemacode.Schema:
        definitions = _definitions(version)
        return json.loads(data), {str(definitions.get("$id", "")): definitions}

    return schemacode.checker(digest, schemacode.DRAFT202012, load)


def iter_core_errors(doc: dict[str, Any], kube_version: str) -> list[jsonschema.ValidationError]:
    """Every schema error of one core object (raises `UnknownKind` for unknown kinds)."""
    version = resolve_version(kube_version)
    check = fast_check(version, doc["apiVersion"], doc["kind"])
    if check is not None and check(doc):
        return []
    validator = validator_for(version, doc["apiVersion"], doc["kind"])
    return sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))
