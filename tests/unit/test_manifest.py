"""The resource model: objects identified by (group, kind, namespace, name), located lazily."""

from __future__ import annotations

import pytest

from dlaas_gen import yamlio
from dlaas_gen.manifest import KUSTOMIZE_CONFIG_API, Manifest, ResourceKey, api_group


@pytest.mark.parametrize(("api_version", "group"), [
    ("v1", ""), ("apps/v1", "apps"), ("helm.toolkit.fluxcd.io/v2", "helm.toolkit.fluxcd.io"),
    ("", ""),
])
def test_api_group(api_version: str, group: str) -> None:
    assert api_group(api_version) == group


def test_key_of_an_object() -> None:
    doc = {"apiVersion": "apps/v1", "kind": "Deployment",
           "metadata": {"name": "hub", "namespace": "jhub"}}
    key = ResourceKey.of(doc)
    assert key == ResourceKey("apps", "Deployment", "jhub", "hub")
    assert str(key) == "Deployment jhub/hub"


def test_key_of_a_cluster_object_and_of_a_broken_one() -> None:
    assert str(ResourceKey.of({"apiVersion": "v1", "kind": "Namespace",
                               "metadata": {"name": "jhub"}})) == "Namespace jhub"
    assert ResourceKey.of({"metadata": None}) == ResourceKey("", "", "", "")
    assert ResourceKey.of({"kind": 5, "metadata": {"name": 7}}) == ResourceKey("", "5", "", "7")


def test_the_file_name_is_no_part_of_the_identity() -> None:
    doc = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "n"}}
    one = Manifest(doc=doc, text="", path="apps/configmap-a.yaml")
    other = Manifest(doc=dict(doc), text="", path="elsewhere/a.yaml")
    assert one.key == other.key
    secret = ResourceKey("", "Secret", "n", "b")
    assert sorted([secret, one.key]) == [one.key, secret]  # group, kind, namespace, name


def test_kind_api_version_and_kustomize_config() -> None:
    config = Manifest(doc={"apiVersion": KUSTOMIZE_CONFIG_API, "kind": "Kustomization"},
                      text="", path="apps/kustomization.yaml")
    flux = Manifest(doc={"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization"},
                    text="", path="flux/kustomization-a.yaml")
    assert (config.kind, config.api_version, config.is_kustomize_config) == (
        "Kustomization", KUSTOMIZE_CONFIG_API, True)
    assert flux.is_kustomize_config is False


def test_display_path() -> None:
    m = Manifest(doc={}, text="", path="apps/x.yaml")
    assert m.display_path == "apps/x.yaml"
    m.shown = "rendered/site/apps/x.yaml"
    assert m.display_path == "rendered/site/apps/x.yaml"


SOURCE = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: first}
---
# a comment
apiVersion: v1
kind: ConfigMap
metadata:
  name: second
data:
  key: value
"""


def test_locate_in_one_document_of_a_multi_document_file() -> None:
    docs = yamlio.load_fast_all(SOURCE)
    second = Manifest(doc=docs[1], text="", path="x.yaml", source_text=SOURCE, doc_index=1)
    assert second.locate(("data", "key")) == (11, 3)
    assert second.locate(("data", "key"), value=True) == (11, 8)
    assert second.locate(("metadata", "name"), value=True) == (9, 9)
    located = second.located_doc()
    assert located is second.located_doc()  # parsed once
    assert located["metadata"]["name"] == "second"


def test_locate_in_its_own_text_and_when_the_document_is_gone() -> None:
    text = "kind: A\nspec:\n  x: 1\n"
    own = Manifest(doc=yamlio.load_fast(text), text=text, path="a.yaml")
    assert own.locate(("spec", "x")) == (3, 3)
    gone = Manifest(doc={}, text="", path="a.yaml", source_text="kind: A\n", doc_index=3)
    assert gone.located_doc() is None
    assert gone.locate(("spec",)) == (1, 1)


def test_a_round_trip_document_is_its_own_located_document() -> None:
    doc = yamlio.load_roundtrip("kind: A\nspec:\n  x: 1\n")
    m = Manifest(doc=doc, text="ignored", path="a.yaml")
    assert m.located_doc() is doc
