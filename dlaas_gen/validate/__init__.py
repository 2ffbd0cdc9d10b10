"""Validate a rendered tree offline: core kinds, Flux kinds, chart values, project rules.

Why: every run validates what it is about to write; ``dlaas-gen validate`` runs the same
checks over any tree on disk, including one written by hand.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dlaas_gen import fluxschema, yamlio
from dlaas_gen.defaults import DEFAULT_KUBE_VERSION
from dlaas_gen.manifest import Manifest
from dlaas_gen.problem import WARNING, Problem
from dlaas_gen.validate.kubernetes import UnknownKind, iter_core_errors, resolve_version
from dlaas_gen.validate.policy import PolicySettings, check_policy
from dlaas_gen.validate.positions import error_path
from dlaas_gen.validate.tree_rules import run_rules
from dlaas_gen.validate.values import check_release_values

if TYPE_CHECKING:  # jsonschema is imported only when a document has an error (~60 ms)
    from jsonschema import ValidationError


def _schema_problem(m: Manifest, error: Any, rule: str) -> Problem:
    path = error_path(error)
    line, col = m.locate(path, value=error.validator != "additionalProperties")
    path = list(error.absolute_path)
    where = ".".join(str(p) for p in path) or "(root)"
    return Problem(m.path, line, col, rule=rule, message=f"{m.kind} {where}: {error.message}")


def _relative_path_errors(doc: dict[str, Any]) -> list[ValidationError]:
    """The project rule that a Kustomization's ``spec.path`` is relative (``./``)."""
    spec = doc.get("spec")
    path = spec.get("path") if doc.get("kind") == "Kustomization" and isinstance(spec, dict) \
        else None
    if path is not None and not str(path).startswith("./") and path != "":
        message = "spec.path should start with './' (relative to the source root)"
        from jsonschema import ValidationError  # noqa: PLC0415 - only for an error (slow import)

        return [ValidationError(message, path=["spec", "path"])]
    return []


def check_schema(m: Manifest, kube_version: str) -> list[Problem]:
    """Schema-check one object (none for a folder's ``kustomization.yaml``)."""
    if m.is_kustomize_config:
        return []
    # Rendered and loaded trees are plain data already; only round-trip maps need copying.
    doc = yamlio.plain(m.doc) if isinstance(m.doc, yamlio.CommentedMap) else m.doc
    if not isinstance(doc, dict) or "apiVersion" not in doc or "kind" not in doc:
        line, col = m.locate([])
        return [Problem(m.path, line, col, rule="k8s-object",
                        message="document is not a Kubernetes object (apiVersion/kind)")]
    if fluxschema.is_flux(doc):
        errors = fluxschema.schema_errors(doc)
        if errors is None:
            line, col = m.locate(["apiVersion"])
            return [Problem(m.path, line, col, rule="flux-api",
                            message=f"{doc['kind']} {doc['apiVersion']} is not a current Flux API "
                            "(run `dlaas-gen migrate`)")]
        errors.extend(_relative_path_errors(doc))
        return [_schema_problem(m, e, "flux-schema") for e in errors]
    try:
        errors = iter_core_errors(doc, kube_version)
    except UnknownKind as exc:
        line, col = m.locate(["kind"])
        return [Problem(m.path, line, col, level=WARNING, rule="k8s-schema",
                        message=f"{exc}; not checked")]
    return [_schema_problem(m, e, "k8s-schema") for e in errors]


def validate_tree(
    tree: list[Manifest],
    kube_version: str = DEFAULT_KUBE_VERSION,
    policy: PolicySettings | None = None,
) -> list[Problem]:
    """Run every check over one applied tree and return all problems, sorted by place.

    With `policy` (the site's `PolicySettings`), the security policy lint runs too; its
    ``charts_dir`` is where the chart locks (defaults and schema of the pinned version) are.

    Why the chart values, the rules and the policy see only the objects their schemas
    accepted: they read fields by their schema's types; a hand-written ``metadata: x`` is
    reported once, by the schema, instead of crashing a rule (an internal error) or piling up
    findings that follow from it. Chart values are free-form to the HelmRelease schema, so
    the code reading them takes any shape.
    """
    resolve_version(kube_version)
    charts_dir = policy.charts_dir if policy is not None else None
    problems: list[Problem] = []
    typed: list[Manifest] = []
    for m in tree:
        found = check_schema(m, kube_version)
        problems.extend(found)
        if not any(p.is_error for p in found):
            typed.append(m)
    for m in typed:
        if m.kind == "HelmRelease":
            problems.extend(check_release_values(m, typed, charts_dir))
    problems.extend(run_rules(typed))
    if policy is not None:
        problems.extend(check_policy(typed, policy))
    return sorted(problems)
