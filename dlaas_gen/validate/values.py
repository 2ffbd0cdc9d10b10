"""HelmRelease values for the z2jh chart, computed as helm-controller does and schema-checked.

Why: the chart only ever sees the merged document (valuesFrom in order, inline values, then
targetPath entries, over the chart defaults); validating the inline values alone would miss a
profile list in the wrong place or a typo in a ConfigMap.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator, Mapping
from typing import Any

import jsonschema
from ruamel.yaml.error import YAMLError

from dlaas_gen import yamlio
from dlaas_gen.helmvalues import coalesce, compute_values
from dlaas_gen.manifest import Manifest
from dlaas_gen.problem import WARNING, Problem
from dlaas_gen.resources import schemas_dir
from dlaas_gen.validate.positions import error_path

#: chart name → {version: (schema file, defaults file)} vendored in data/schemas.
VENDORED_CHARTS = {"jupyterhub": {"4.4.0": ("z2jh/values.schema.json", "z2jh/values.yaml")}}
SECRET_PLACEHOLDER = "<from-secret>"


@functools.lru_cache(maxsize=4)
def _chart_files(chart: str, version: str) -> tuple[jsonschema.protocols.Validator, dict[str, Any]]:
    schema_rel, defaults_rel = VENDORED_CHARTS[chart][version]
    with (schemas_dir() / schema_rel).open(encoding="utf-8") as handle:
        schema = json.load(handle)
    defaults = yamlio.load_fast((schemas_dir() / defaults_rel).read_text("utf-8"))
    return jsonschema.Draft7Validator(schema), defaults


def chart_of(release: Mapping[str, Any]) -> tuple[str, str]:
    """Chart name and version of a HelmRelease (empty strings when absent)."""
    spec = ((release.get("spec") or {}).get("chart") or {}).get("spec") or {}
    return str(spec.get("chart", "")), str(spec.get("version", ""))


def release_values(release: Manifest, tree: list[Manifest]) -> tuple[dict[str, Any], list[Problem]]:
    """Merge a HelmRelease's values from the objects in `tree` (without chart defaults).

    Secret values are never read: a targetPath from a Secret gets a placeholder string.
    """
    spec = release.doc.get("spec") or {}
    ns = (release.doc.get("metadata") or {}).get("namespace")
    problems: list[Problem] = []
    layers: list[tuple[str | None, Any]] = []
    configmaps = {
        (m.doc["metadata"].get("namespace"), m.doc["metadata"].get("name")): m
        for m in tree
        if m.kind == "ConfigMap" and isinstance(m.doc.get("metadata"), Mapping)
    }
    for index, entry in enumerate(spec.get("valuesFrom") or []):
        kind, name = entry.get("kind"), entry.get("name")
        key = entry.get("valuesKey") or "values.yaml"
        target = entry.get("targetPath")
        if kind == "Secret":
            layers.append((target, SECRET_PLACEHOLDER if target else {}))
            continue
        source = configmaps.get((ns, name))
        if source is None:
            line, col = release.locate(["spec", "valuesFrom", index])
            problems.append(Problem(release.path, line, col, level=WARNING, rule="values-from",
                                    message=f"ConfigMap {ns}/{name} is not in this tree; its "
                                    "values are not checked"))
            continue
        raw = (source.doc.get("data") or {}).get(key)
        if raw is None:
            if not entry.get("optional"):
                line, col = release.locate(["spec", "valuesFrom", index])
                problems.append(Problem(release.path, line, col, rule="values-from",
                                        message=f"ConfigMap {ns}/{name} has no key {key!r}"))
            continue
        if target:
            layers.append((target, str(raw)))
            continue
        try:
            content = yamlio.load_fast(str(raw))
        except YAMLError as exc:
            problems.append(Problem(source.path, 0, 0, rule="values-from",
                                    message=f"{key} is not valid YAML: {str(exc).splitlines()[0]}"))
            continue
        layers.append((None, content or {}))
    return compute_values(layers, yamlio.plain(spec.get("values") or {})), problems


def chart_values(release: Manifest, tree: list[Manifest]) -> tuple[dict[str, Any], list[Problem]]:
    """Merged values over the chart defaults (when vendored), computed once per release.

    Why cached on the manifest: the schema check and several policy rules all need the values
    the chart sees; merging over the chart defaults deep-copies a large document.
    """
    cached = release.extra.get("_chart_values")
    if cached is None:
        merged, problems = release_values(release, tree)
        chart, version = chart_of(release.doc)
        if version in VENDORED_CHARTS.get(chart, {}):
            merged = coalesce(_chart_files(chart, version)[1], merged)
        cached = release.extra["_chart_values"] = (merged, problems)
    return cached


def check_release_values(release: Manifest, tree: list[Manifest]) -> Iterator[Problem]:
    """Validate the merged values of a HelmRelease against its chart's vendored schema."""
    chart, version = chart_of(release.doc)
    if chart not in VENDORED_CHARTS:
        return
    final, problems = chart_values(release, tree)
    yield from problems
    if version not in VENDORED_CHARTS[chart]:
        line, col = release.locate(["spec", "chart", "spec", "version"])
        known = ", ".join(VENDORED_CHARTS[chart])
        yield Problem(release.path, line, col, level=WARNING, rule="values-schema",
                      message=f"no values schema vendored for {chart} {version} (have {known}); "
                      "values are unchecked")
        return
    validator, _ = _chart_files(chart, version)
    for error in sorted(validator.iter_errors(final), key=lambda e: list(map(str, e.absolute_path))):
        path = list(error.absolute_path)
        line, col = release.locate(["spec", "values", *error_path(error)],
                                       value=error.validator != "additionalProperties")
        where = ".".join(str(p) for p in path) or "(root)"
        yield Problem(release.path, line, col, rule="values-schema",
                      message=f"chart values {where}: {error.message}")
