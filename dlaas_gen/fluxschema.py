"""Flux objects checked against the vendored Flux CRD schemas and the CRDs' CEL rules.

Why: kubernetes-validate has no CRD schemas. The Flux GA schemas are vendored in the package
(``data/schemas/flux/json``, converted from the CRDs with ``additionalProperties: false`` below
the root, as kubeconform does), so a misspelt field fails offline instead of in the cluster.
``dlaas-gen validate`` (any tree) and ``dlaas-gen migrate`` (each migrated object) both check
through this module, so they agree on which kinds have a schema and on the CEL rules.
`schema_errors` gives an object to the kind's compiled check first (`dlaas_gen.schemacode`);
only an object it does not accept goes through jsonschema, which reports the errors.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from dlaas_gen import schemacode
from dlaas_gen.resources import schemas_dir

if TYPE_CHECKING:  # jsonschema is imported only when a document is rejected (~60 ms)
    import jsonschema

#: The group suffix every Flux v2 API shares (GA or not).
FLUX_GROUP_SUFFIX = ".toolkit.fluxcd.io/"

#: (apiVersion, kind) of each current Flux API → its schema under ``data/schemas/``.
SCHEMAS: dict[tuple[str, str], str] = {
    ("source.toolkit.fluxcd.io/v1", "GitRepository"): "flux/json/gitrepository-source-v1.json",
    ("source.toolkit.fluxcd.io/v1", "HelmRepository"): "flux/json/helmrepository-source-v1.json",
    ("source.toolkit.fluxcd.io/v1", "HelmChart"): "flux/json/helmchart-source-v1.json",
    ("source.toolkit.fluxcd.io/v1", "OCIRepository"): "flux/json/ocirepository-source-v1.json",
    ("source.toolkit.fluxcd.io/v1", "Bucket"): "flux/json/bucket-source-v1.json",
    ("source.toolkit.fluxcd.io/v1", "ExternalArtifact"):
        "flux/json/externalartifact-source-v1.json",
    ("helm.toolkit.fluxcd.io/v2", "HelmRelease"): "flux/json/helmrelease-helm-v2.json",
    ("kustomize.toolkit.fluxcd.io/v1", "Kustomization"):
        "flux/json/kustomization-kustomize-v1.json",
}

#: The ``validator`` of errors found by a CEL rule (the CRD keyword that holds the rules).
CEL = "x-kubernetes-validations"


def is_flux(doc: Mapping[str, Any]) -> bool:
    """True for objects of a Flux v2 API group (GA or not)."""
    return FLUX_GROUP_SUFFIX in str(doc.get("apiVersion", ""))


def has_schema(api_version: str, kind: str) -> bool:
    """True when a schema is vendored for the apiVersion and kind."""
    return (api_version, kind) in SCHEMAS


@functools.lru_cache(maxsize=16)
def _schema_file(rel: str) -> tuple[bytes, str]:
    """The bytes of a vendored schema and their digest."""
    data = (schemas_dir() / rel).read_bytes()
    return data, schemacode.content_digest(data)


@functools.lru_cache(maxsize=16)
def validator(api_version: str, kind: str) -> jsonschema.protocols.Validator | None:
    """The compiled validator of a Flux kind, or None when no schema is vendored."""
    rel = SCHEMAS.get((api_version, kind))
    if rel is None:
        return None
    from jsonschema import Draft7Validator  # noqa: PLC0415 - see TYPE_CHECKING above

    return Draft7Validator(json.loads(_schema_file(rel)[0]))


def fast_check(api_version: str, kind: str) -> schemacode.Check | None:
    """The compiled check of a Flux kind (`dlaas_gen.schemacode`), or None."""
    rel = SCHEMAS.get((api_version, kind))
    if rel is None:
        return None
    data, digest = _schema_file(rel)
    return schemacode.checker(digest, schemacode.DRAFT7, lambda: (json.loads(data), {}))


def cel_errors(doc: Mapping[str, Any]) -> list[jsonschema.ValidationError]:
    """The CRD CEL rules JSON Schema cannot express, as errors whose ``validator`` is `CEL`.

    Why: the vendored schemas keep the rules under ``x-kubernetes-validations`` but no JSON
    Schema validator runs them. These are the ones a migration or a hand-written tree can get
    wrong (see ``flux/json/helmrelease-helm-v2.json``, ``kustomization-kustomize-v1.json`` and
    ``gitrepository-source-v1.json``): exactly one of ``chart`` and ``chartRef``; exactly one
    of ``kubeConfig.configMapRef`` and ``kubeConfig.secretRef``; ``serviceAccountName`` only
    with the ``azure`` or ``aws`` provider. Messages are ours (shorter than the CRDs').
    """
    raw_spec = doc.get("spec")
    spec: Mapping[str, Any] = raw_spec if isinstance(raw_spec, Mapping) else {}
    kind = doc.get("kind")
    found: list[tuple[list[str | int], str]] = []
    if kind == "HelmRelease" and ("chart" in spec) == ("chartRef" in spec):
        found.append((["spec"], "either chart or chartRef must be set (exactly one)"))
    kube = spec.get("kubeConfig")
    if kind in ("HelmRelease", "Kustomization") and isinstance(kube, Mapping) and (
            ("configMapRef" in kube) == ("secretRef" in kube)):
        found.append((["spec", "kubeConfig"], "exactly one of configMapRef or secretRef"))
    if kind == "GitRepository" and "serviceAccountName" in spec and spec.get("provider") not in (
            "azure", "aws"):
        found.append((["spec", "serviceAccountName"],
                      "serviceAccountName can only be set when provider is 'azure' or 'aws'"))
    if not found:
        return []
    from jsonschema import ValidationError  # noqa: PLC0415 - see TYPE_CHECKING above

    return [ValidationError(message, validator=CEL, path=path) for path, message in found]


def schema_errors(doc: Mapping[str, Any]) -> list[jsonschema.ValidationError] | None:
    """Schema and CEL errors of a Flux object (unsorted), or None when no schema is vendored."""
    api_version, kind = str(doc.get("apiVersion", "")), str(doc.get("kind", ""))
    if not has_schema(api_version, kind):
        return None
    check = fast_check(api_version, kind)
    if check is not None and check(doc):
        return cel_errors(doc)
    checker = validator(api_version, kind)
    return None if checker is None else [*checker.iter_errors(doc), *cel_errors(doc)]
