"""The one Flux schema check (vendored GA schemas, the CRDs' CEL rules) of validate and migrate."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dlaas_gen import fluxschema
from dlaas_gen.commands.migrate.validation import validate_object
from dlaas_gen.resources import schemas_dir
from dlaas_gen.tree import load_tree
from dlaas_gen.validate import validate_tree
from dlaas_gen.yamlio import load_roundtrip

RELEASE = {"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
           "metadata": {"name": "hub", "namespace": "jhub"},
           "spec": {"interval": "5m", "chart": {"spec": {"chart": "jupyterhub",
                                                         "sourceRef": {"kind": "HelmRepository",
                                                                       "name": "jh"}}}}}


def _cel(doc: dict[str, Any]) -> list[tuple[list[Any], str]]:
    return [(list(e.absolute_path), e.message) for e in fluxschema.cel_errors(doc)]


def _with_spec(doc: dict[str, Any], **spec: Any) -> dict[str, Any]:
    return {**doc, "spec": {**doc["spec"], **spec}}


def test_every_listed_schema_is_vendored_and_compiles() -> None:
    for (api_version, kind), rel in fluxschema.SCHEMAS.items():
        assert (schemas_dir() / rel).is_file(), rel
        assert fluxschema.validator(api_version, kind) is not None
        assert fluxschema.is_flux({"apiVersion": api_version})
    vendored = {p.name for p in (schemas_dir() / "flux" / "json").glob("*.json")}
    assert vendored == {Path(rel).name for rel in fluxschema.SCHEMAS.values()}


def test_old_or_unknown_versions_have_no_schema() -> None:
    old = {**RELEASE, "apiVersion": "helm.toolkit.fluxcd.io/v2beta1"}
    assert fluxschema.schema_errors(old) is None
    assert not fluxschema.has_schema("helm.fluxcd.io/v1", "HelmRelease")
    assert not fluxschema.is_flux({"apiVersion": "helm.fluxcd.io/v1"})


def test_a_valid_release_has_no_error() -> None:
    assert fluxschema.schema_errors(RELEASE) == []


def test_chart_xor_chart_ref() -> None:
    both = _with_spec(RELEASE, chartRef={"kind": "OCIRepository", "name": "jh"})
    neither = {**RELEASE, "spec": {"interval": "5m"}}
    expected = [(["spec"], "either chart or chartRef must be set (exactly one)")]
    assert _cel(both) == expected
    assert _cel(neither) == expected
    assert all(e.validator == fluxschema.CEL for e in fluxschema.cel_errors(both))


@pytest.mark.parametrize("kube", [{}, {"configMapRef": {"name": "a"}, "secretRef": {"name": "b"}}])
def test_kube_config_takes_exactly_one_reference(kube: dict[str, Any]) -> None:
    expected = [(["spec", "kubeConfig"], "exactly one of configMapRef or secretRef")]
    assert _cel(_with_spec(RELEASE, kubeConfig=kube)) == expected
    kustomization = {"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
                     "spec": {"kubeConfig": kube}}
    assert _cel(kustomization) == expected
    assert _cel(_with_spec(RELEASE, kubeConfig={"secretRef": {"name": "b"}})) == []


def test_git_service_account_needs_a_cloud_provider() -> None:
    repo = {"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
            "spec": {"serviceAccountName": "sa"}}
    assert _cel(repo) == [(["spec", "serviceAccountName"],
                           "serviceAccountName can only be set when provider is 'azure' or 'aws'")]
    assert _cel({**repo, "spec": {"serviceAccountName": "sa", "provider": "azure"}}) == []


@pytest.mark.parametrize(("rel", "path"), [
    ("flux/json/helmrelease-helm-v2.json", ["spec"]),
    ("flux/json/helmrelease-helm-v2.json", ["spec", "kubeConfig"]),
    ("flux/json/kustomization-kustomize-v1.json", ["spec", "kubeConfig"]),
    ("flux/json/gitrepository-source-v1.json", ["spec"]),
])
def test_each_hand_written_rule_is_a_rule_of_the_vendored_crd(rel: str, path: list[str]) -> None:
    node = json.loads((schemas_dir() / rel).read_text(encoding="utf-8"))
    for key in path:
        node = node["properties"][key]
    assert node.get(fluxschema.CEL), f"{rel} has no CEL rule at {'.'.join(path)}"


def test_validate_and_migrate_report_the_same_rule(tmp_path: Path) -> None:
    text = ("apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: hub\n"
            "  namespace: jhub\nspec:\n  interval: 5m\n")
    (tmp_path / "hr.yaml").write_text(text)
    found = [(p.line, p.col, p.rule, p.message) for p in validate_tree(load_tree(tmp_path))
             if p.rule == "flux-schema"]
    # validate points at the value of spec (line 7), migrate at the key (0-based line 5).
    assert found == [(7, 3, "flux-schema",
                      "HelmRelease spec: either chart or chartRef must be set (exactly one)")]
    assert validate_object(load_roundtrip(text)) == [
        (5, 1, "spec: either chart or chartRef must be set (exactly one)")]


def test_external_artifact_is_a_current_flux_api(tmp_path: Path) -> None:
    (tmp_path / "ea.yaml").write_text(
        "apiVersion: source.toolkit.fluxcd.io/v1\nkind: ExternalArtifact\nmetadata:\n"
        "  name: a\n  namespace: b\nspec:\n  sourceRef: {kind: Bucket, name: x}\n  bogus: 1\n")
    found = [(p.line, p.rule) for p in validate_tree(load_tree(tmp_path)) if p.is_error]
    assert found == [(8, "flux-schema")]
