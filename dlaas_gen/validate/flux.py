"""Flux kinds (and other CRDs we ship schemas for), validated with jsonschema.

Why: kubernetes-validate has no CRD schemas; the Flux GA schemas are vendored in the package
(copied from the CRDs with ``additionalProperties: false`` below the root, as kubeconform does),
so a misspelt field fails here instead of in the cluster.
"""

from __future__ import annotations

import functools
import json
from typing import Any

import jsonschema

from dlaas_gen.resources import schemas_dir

#: (apiVersion, kind) → schema file under data/schemas/.
FLUX_SCHEMAS = {
    ("source.toolkit.fluxcd.io/v1", "GitRepository"): "flux/json/gitrepository-source-v1.json",
    ("source.toolkit.fluxcd.io/v1", "HelmRepository"): "flux/json/helmrepository-source-v1.json",
    ("source.toolkit.fluxcd.io/v1", "HelmChart"): "flux/json/helmchart-source-v1.json",
    ("source.toolkit.fluxcd.io/v1", "OCIRepository"): "flux/json/ocirepository-source-v1.json",
    ("source.toolkit.fluxcd.io/v1", "Bucket"): "flux/json/bucket-source-v1.json",
    ("helm.toolkit.fluxcd.io/v2", "HelmRelease"): "flux/json/helmrelease-helm-v2.json",
    ("kustomize.toolkit.fluxcd.io/v1", "Kustomization"): "flux/json/kustomization-kustomize-v1.json",
    ("helm.fluxcd.io/v1", "HelmRelease"): "flux-v1/json/helmrelease-helm-v1.json",
}

FLUX_GROUP_SUFFIX = ".toolkit.fluxcd.io/"


def is_flux(doc: dict[str, Any]) -> bool:
    """True for objects of a Flux API group (GA or not)."""
    return FLUX_GROUP_SUFFIX in str(doc.get("apiVersion", ""))


@functools.lru_cache(maxsize=16)
def flux_validator(api_version: str, kind: str) -> jsonschema.protocols.Validator | None:
    """The compiled validator for a Flux kind, or None when no schema is vendored."""
    rel = FLUX_SCHEMAS.get((api_version, kind))
    if rel is None:
        return None
    with (schemas_dir() / rel).open(encoding="utf-8") as handle:
        schema = json.load(handle)
    return jsonschema.Draft7Validator(schema)


def iter_flux_errors(doc: dict[str, Any]) -> list[jsonschema.ValidationError] | None:
    """Schema errors of a Flux object, or None when the kind/version has no schema."""
    validator = flux_validator(str(doc.get("apiVersion")), str(doc.get("kind")))
    if validator is None:
        return None
    errors = list(validator.iter_errors(doc))
    errors.extend(_cel_errors(doc))
    return sorted(errors, key=lambda e: list(map(str, e.absolute_path)))


def _cel_errors(doc: dict[str, Any]) -> list[jsonschema.ValidationError]:
    """Checks JSON Schema cannot express: the HelmRelease CEL rule (exactly one of chart and
    chartRef) and the project rule that a Kustomization path is relative (``./``)."""
    errors = []
    spec = doc.get("spec") or {}
    if doc.get("kind") == "HelmRelease" and str(doc.get("apiVersion")).endswith("/v2"):
        if ("chart" in spec) == ("chartRef" in spec):
            errors.append(jsonschema.ValidationError(
                "either chart or chartRef must be set (exactly one)", path=["spec"]))
    if doc.get("kind") == "Kustomization" and FLUX_GROUP_SUFFIX in str(doc.get("apiVersion")):
        path = spec.get("path")
        if path is not None and not str(path).startswith("./") and path != "":
            errors.append(jsonschema.ValidationError(
                "spec.path should start with './' (relative to the source root)", path=["spec", "path"]))
    return errors
