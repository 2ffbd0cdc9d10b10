"""Core kinds against kubernetes-validate's strict schemas: every error, compiled once per kind."""

from __future__ import annotations

import kubernetes_validate
import pytest

from dlaas_gen.validate.kubernetes import UnknownKind, iter_core_errors, validator_for

DEPLOYMENT = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "app", "namespace": "apps"},
    "spec": {
        "selector": {"matchLabels": {"app": "app"}},
        "template": {
            "metadata": {"labels": {"app": "app"}},
            "spec": {"containers": [{"name": "main", "image": "example.org/app:1.0"}]},
        },
    },
}


def _broken() -> dict:
    doc = {**DEPLOYMENT, "spec": {**DEPLOYMENT["spec"], "replicas": "two", "paused": "no"}}
    doc["spec"]["template"] = {
        "metadata": {"labels": {"app": "app"}},
        "spec": {"containers": [{"name": "main", "image": "x", "imagePullPolicy": 3}],
                 "notAField": True},
    }
    return doc


def test_a_valid_object_has_no_errors() -> None:
    assert iter_core_errors(DEPLOYMENT, "1.33") == []


def test_every_error_is_reported_in_path_order() -> None:
    found = [(list(map(str, e.absolute_path)), e.validator) for e in iter_core_errors(
        _broken(), "1.33")]
    assert found == [
        (["spec", "paused"], "type"),
        (["spec", "replicas"], "type"),
        (["spec", "template", "spec"], "additionalProperties"),
        (["spec", "template", "spec", "containers", "0", "imagePullPolicy"], "type"),
    ]


def test_same_verdict_as_kubernetes_validate() -> None:
    """The library's own entry point, on the same schemas, agrees: valid passes, broken fails."""
    kubernetes_validate.validate(DEPLOYMENT, "1.33.0", strict=True)
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(_broken(), "1.33.0", strict=True)


def test_validators_are_compiled_once_per_kind() -> None:
    assert validator_for("1.33.0", "apps/v1", "Deployment") is validator_for(
        "1.33.0", "apps/v1", "Deployment")


@pytest.mark.parametrize(("api_version", "kind"), [
    ("helm.toolkit.fluxcd.io/v2", "HelmRelease"), ("apps/v1", "NoSuchKind"), ("v9", "Pod")])
def test_a_kind_without_a_bundled_schema_is_unknown(api_version: str, kind: str) -> None:
    with pytest.raises(UnknownKind, match=f"no Kubernetes 1.33.0 schema for {kind} {api_version}"):
        iter_core_errors({"apiVersion": api_version, "kind": kind, "metadata": {"name": "x"}},
                         "1.33")


def test_grouped_api_versions_find_their_schema() -> None:
    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": {"name": "r", "namespace": "n"},
            "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]}
    assert iter_core_errors(role, "1.33") == []
    role["rules"][0]["verbs"] = "get"
    [error] = iter_core_errors(role, "1.33")
    assert list(error.absolute_path) == ["rules", 0, "verbs"]
