from __future__ import annotations

import pytest

from dlaas_gen.commands.diff import Side, compare_sides, diff_dirs
from dlaas_gen.manifest import Manifest
from tests.support import diff_fixtures as fx


@pytest.fixture(scope="module")
def items(tmp_path_factory):
    old, new = fx.write_pair(tmp_path_factory.mktemp("pair"))
    return diff_dirs(old, new).attention


def find(items, rule, name, text=""):
    return [a for a in items if a.rule == rule and a.key.name == name and text in a.message]


def side(docs):
    return Side("x", [Manifest(doc=d, text="", path=p) for p, ds in docs.items() for d in ds])


def test_most_severe_first(items):
    order = {"danger": 0, "warning": 1, "info": 2}
    ranks = [order[a.severity] for a in items]
    assert ranks == sorted(ranks)


def test_prune_with_owning_kustomization(items):
    (item,) = find(items, "prune", "obsolete")
    assert item.severity == "danger"
    assert "Kustomization flux-system/apps has prune: true" in item.message
    (ns,) = find(items, "prune", "legacy")
    assert "prune disabled" in ns.message


def test_prune_without_known_kustomization():
    result = compare_sides(side({"x/ns.yaml": [{"apiVersion": "v1", "kind": "Namespace",
                                                "metadata": {"name": "n"}}]}), side({}))
    (item,) = result.attention
    assert "if the Kustomization applying this folder has prune: true" in item.message
    assert "deletes every object in it" in item.message


@pytest.mark.parametrize(("name", "field"), [
    ("gateway", "spec.selector"), ("gateway", "spec.clusterIP"), ("migrate", "spec.template"),
    ("grow", "PersistentVolumeClaim spec"), ("shrink", "cannot shrink"),
])
def test_immutable(items, name, field):
    assert find(items, "immutable", name, field)


def test_pvc_grow_is_info_not_immutable_when_only_size():
    def claim(size):
        return fx.pvc("c", size, "standard")
    result = compare_sides(side({"p.yaml": [claim("1Gi")]}), side({"p.yaml": [claim("2Gi")]}))
    assert [(a.rule, a.severity) for a in result.attention] == [("volume-resize", "info")]


@pytest.mark.parametrize(("before", "after", "rule"), [
    ("1Ei", "512Pi", "immutable"), ("1E", "1Ei", "volume-resize"), ("2000m", "1", "immutable"),
    ("1e12", "1T", "volume-resize"),
])
def test_pvc_sizes_compare_with_every_suffix(before, after, rule):
    result = compare_sides(side({"p.yaml": [fx.pvc("c", before, "standard")]}),
                           side({"p.yaml": [fx.pvc("c", after, "standard")]}))
    assert [a.rule for a in result.attention] == [rule]


def test_statefulset_and_bindings_and_immutable_configmap():
    def sts(claim_size):
        return {"apiVersion": "apps/v1", "kind": "StatefulSet",
                "metadata": {"name": "db", "namespace": "n"},
                "spec": {"selector": {"matchLabels": {"a": "b"}}, "serviceName": "db",
                         "volumeClaimTemplates": [{"metadata": {"name": "d"}, "spec": {
                             "resources": {"requests": {"storage": claim_size}}}}]}}

    def binding(role):
        return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                "metadata": {"name": "rb", "namespace": "n"},
                "roleRef": {"kind": "Role", "name": role}}

    def cm(value):
        return {**fx.cm("frozen", "n", {"k": value}), "immutable": True}

    old = side({"a.yaml": [sts("1Gi"), binding("r1"), cm("1")]})
    new = side({"a.yaml": [sts("2Gi"), binding("r2"), cm("2")]})
    messages = [a.message for a in compare_sides(old, new).attention]
    assert any(m.startswith("spec.volumeClaimTemplates is immutable") for m in messages)
    assert any(m.startswith("roleRef is immutable") for m in messages)
    assert any("immutable: true and its data changed" in m for m in messages)


def test_helmrelease_rules(items):
    (reinstall,) = find(items, "helm-reinstall", "jupyterhub")
    assert (reinstall.old, reinstall.new) == ("(unset)", "hub")
    assert find(items, "helm-reinstall", "monitoring", "targetNamespace")
    (major,) = find(items, "chart-version", "jupyterhub")
    assert major.severity == "warning" and "major" in major.message
    (minor,) = find(items, "chart-version", "monitoring")
    assert minor.severity == "info"
    assert find(items, "suspended", "monitoring")


def test_storage_namespace_and_downgrade():
    old = fx.helmrelease("r", "n", "2.1.0", {}, storageNamespace="a")
    new = fx.helmrelease("r", "n", "2.0.9", {}, storageNamespace="b")
    items = compare_sides(side({"h.yaml": [old]}), side({"h.yaml": [new]})).attention
    assert {a.message.split(":")[0] for a in items} >= {"spec.storageNamespace changed",
                                                         "chart version downgrade"}


def test_kustomization_rules(items):
    messages = [a.message for a in find(items, "kustomization", "infrastructure")]
    assert any(m.startswith("spec.path changed") for m in messages)
    assert any(m.startswith("spec.targetNamespace changed") for m in messages)
    assert any(m.startswith("spec.prune changed") for m in messages)


def test_images_old_to_new(items):
    pairs = {(a.key.name, a.old, a.new) for a in items if a.rule == "image"}
    assert ("gateway", "ghcr.io/org/gateway:1.4.0", "ghcr.io/org/gateway:1.5.0") in pairs
    assert ("jupyterhub", "quay.io/jupyterhub/k8s-hub:3.3.8",
            "quay.io/jupyterhub/k8s-hub:4.4.0") in pairs
    assert ("jupyterhub", "registry.example.org/notebook:2024.1",
            "registry.example.org/notebook:2025.2") in pairs
    assert ("agent", "(none)", "ghcr.io/org/agent:0.9") in pairs
    # unchanged image of the proxy is not listed
    assert not any("chp" in (a.message or "") for a in items)


def test_privilege_changes(items):
    messages = [a.message for a in items if a.rule == "privilege"]
    assert any(m.startswith("privileged changed") and "gateway" in m for m in messages)
    assert any(m.startswith("hostPath changed") for m in messages)
    assert any(m.startswith("mountPropagation changed") for m in messages)
    assert any(m.startswith("hostNetwork changed") for m in messages)


def test_secret_data_keys_named_image_are_not_reported():
    def secret(value):
        return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
                "stringData": {"image": value, "privileged": value}}
    result = compare_sides(side({"s.yaml": [secret("aaa-old")]}),
                           side({"s.yaml": [secret("bbb-new")]}))
    assert result.attention == []


def test_dropping_cluster_ip_is_not_immutable_change():
    def svc(spec):
        return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s", "namespace": "n"},
                "spec": {"ports": [{"port": 80}], **spec}}
    dropped = compare_sides(side({"s.yaml": [svc({"clusterIP": "10.0.0.1"})]}),
                            side({"s.yaml": [svc({})]}))
    assert dropped.attention == []
    headless = compare_sides(side({"s.yaml": [svc({})]}),
                             side({"s.yaml": [svc({"clusterIP": "None"})]}))
    assert [a.rule for a in headless.attention] == ["immutable"]
