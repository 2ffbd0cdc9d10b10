"""HelmRelease values for the z2jh chart, computed as helm-controller does and schema-checked.

Why: the chart only ever sees the merged document (valuesFrom in order, inline values, then
targetPath entries, over the chart defaults); validating the inline values alone would miss a
profile list in the wrong place or a typo in a ConfigMap. The merged values go to the chart
schema's compiled check first (`dlaas_gen.schemacode`, keyed by the schema's content: a chart
lock may bring any schema); only values it does not accept go through jsonschema.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dlaas_gen import schemacode
from dlaas_gen.chart_lock import VENDORED_CHARTS, ChartFiles, ChartLockError, load_chart
from dlaas_gen.helmvalues import BAD_YAML, NO_KEY, NO_SOURCE, coalesce, resolve_values
from dlaas_gen.manifest import ChartValues, Manifest
from dlaas_gen.problem import WARNING, Problem
from dlaas_gen.validate.positions import error_path

if TYPE_CHECKING:  # jsonschema is imported only when values are rejected (~60 ms)
    import jsonschema

__all__ = ["VENDORED_CHARTS", "chart_files", "chart_of", "chart_values", "check_release_values",
           "release_values"]


def chart_files(chart: str, version: str, charts_dir: Path | None) -> ChartFiles | None:
    """The chart version's defaults and schema (lock, else vendored); None when neither."""
    try:
        return load_chart(chart, version, charts_dir)
    except ChartLockError:
        return None


def _compiled(files: ChartFiles) -> jsonschema.protocols.Validator:
    """One compiled validator per chart schema (cached on the frozen `ChartFiles`)."""
    cached = _COMPILED.get(id(files))
    if cached is None or cached[0] is not files:
        from jsonschema import Draft7Validator  # noqa: PLC0415 - see TYPE_CHECKING above

        cached = _COMPILED[id(files)] = (files, Draft7Validator(files.schema))
    return cached[1]


_COMPILED: dict[int, tuple[ChartFiles, jsonschema.protocols.Validator]] = {}


def _fast_check(files: ChartFiles) -> schemacode.Check | None:
    """The chart schema's compiled check, or None (its content digest cached on `files`)."""
    cached = _DIGESTS.get(id(files))
    if cached is None or cached[0] is not files:
        try:
            digest: str | None = schemacode.json_digest(files.schema)
        except (TypeError, ValueError):  # not JSON data: jsonschema alone checks it
            digest = None
        cached = _DIGESTS[id(files)] = (files, digest)
    if cached[1] is None:
        return None
    return schemacode.checker(cached[1], schemacode.DRAFT7, lambda: (files.schema, {}))


_DIGESTS: dict[int, tuple[ChartFiles, str | None]] = {}


def chart_of(release: Mapping[str, Any]) -> tuple[str, str]:
    """Chart name and version of a HelmRelease (empty strings when absent)."""
    spec = ((release.get("spec") or {}).get("chart") or {}).get("spec") or {}
    return str(spec.get("chart", "")), str(spec.get("version", ""))


def release_values(release: Manifest, tree: list[Manifest]) -> tuple[dict[str, Any], list[Problem]]:
    """Merge a HelmRelease's values from the objects in `tree` (without chart defaults).

    The merge is `dlaas_gen.helmvalues.resolve_values` (the one ``diff`` shows); this turns
    its notes into problems: a ConfigMap missing from the tree is a warning (its values are
    not checked), a missing key of a required entry an error, and so is a source that is not
    YAML. Secret values are never read.
    """
    ns = (release.doc.get("metadata") or {}).get("namespace")
    configmaps = {
        (str(m.doc["metadata"].get("namespace") or ""), str(m.doc["metadata"].get("name") or "")): m
        for m in tree
        if m.kind == "ConfigMap" and isinstance(m.doc.get("metadata"), Mapping)
    }

    def lookup(kind: str, namespace: str, name: str) -> Mapping[str, Any] | None:
        source = configmaps.get((namespace, name)) if kind == "ConfigMap" else None
        return source.doc if source is not None else None

    values, notes = resolve_values(release.doc, lookup)
    problems: list[Problem] = []
    for note in notes:
        if note.outcome == NO_SOURCE:
            line, col = release.locate(["spec", "valuesFrom", note.index])
            problems.append(Problem(release.path, line, col, level=WARNING, rule="values-from",
                                    message=f"ConfigMap {ns}/{note.name} is not in this tree; its "
                                    "values are not checked"))
        elif note.outcome == NO_KEY and not note.optional:
            line, col = release.locate(["spec", "valuesFrom", note.index])
            problems.append(Problem(release.path, line, col, rule="values-from",
                                    message=f"ConfigMap {ns}/{note.name} has no key {note.key!r}"))
        elif note.outcome == BAD_YAML:
            source = configmaps[(note.namespace, note.name)]
            problems.append(Problem(source.path, 0, 0, rule="values-from",
                                    message=f"{note.key} is not valid YAML: {note.detail}"))
    return values, problems


def chart_values(
    release: Manifest, tree: list[Manifest], charts_dir: Path | None = None
) -> tuple[dict[str, Any], list[Problem]]:
    """Merged values over the chart defaults (when known), computed once per release.

    Why cached on the manifest: the schema check and several policy rules all need the values
    the chart sees; merging over the chart defaults deep-copies a large document.
    """
    cached = release.chart_values
    if cached is None:
        merged, problems = release_values(release, tree)
        chart, version = chart_of(release.doc)
        files = chart_files(chart, version, charts_dir) if chart in VENDORED_CHARTS else None
        if files is not None:
            merged = coalesce(files.defaults, merged)
        cached = release.chart_values = ChartValues(merged, tuple(problems), files is not None)
    return cached.values, list(cached.problems)


def chart_known(release: Manifest, tree: list[Manifest], charts_dir: Path | None = None) -> bool:
    """True when the release's merged values include its chart's defaults.

    Why: without the defaults, a value the chart enables by default reads as unset, and the
    policy would report it as disabled (a false NET001); such releases are not policy-checked.
    """
    chart_values(release, tree, charts_dir)
    return release.chart_values is not None and release.chart_values.chart_known


def check_release_values(
    release: Manifest, tree: list[Manifest], charts_dir: Path | None = None
) -> Iterator[Problem]:
    """Validate the merged values of a HelmRelease against its chart version's schema."""
    chart, version = chart_of(release.doc)
    if chart not in VENDORED_CHARTS:
        return
    final, problems = chart_values(release, tree, charts_dir)
    yield from problems
    try:
        files = load_chart(chart, version, charts_dir)
    except ChartLockError as exc:
        line, col = release.locate(["spec", "chart", "spec", "version"])
        why = (f"{chart} chart {version} is not locked (no charts/{chart}-{version}/ here): run "
               "`dlaas-gen chart pull`" if exc.missing else exc.problem.format())
        yield Problem(release.path, line, col, rule="chart-lock", message=(
            f"{why}; without the chart's defaults and schema its values and the security "
            "policy are not checked"))
        return
    check = _fast_check(files)
    if check is not None and check(final):
        return
    errors = sorted(_compiled(files).iter_errors(final),
                    key=lambda e: list(map(str, e.absolute_path)))
    for error in errors:
        path = list(error.absolute_path)
        line, col = release.locate(["spec", "values", *error_path(error)],
                                       value=error.validator != "additionalProperties")
        where = ".".join(str(p) for p in path) or "(root)"
        yield Problem(release.path, line, col, rule="values-schema",
                      message=f"chart values {where}: {error.message}")
