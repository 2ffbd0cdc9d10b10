"""The merge as helm-controller and Helm document it."""

from __future__ import annotations

from dlaas_gen.helmvalues import (
    BAD_YAML,
    MERGED,
    NO_KEY,
    NO_SOURCE,
    NOT_MAPPING,
    SECRET,
    UNSUPPORTED,
    ValuesNote,
    coalesce,
    compute_values,
    is_helmrelease,
    merge_maps,
    resolve_values,
    secret_placeholder,
    set_path,
    split_target_path,
)


def test_maps_merge_lists_replace() -> None:
    base = {"a": {"b": 1, "c": [1, 2]}, "d": 1}
    override = {"a": {"c": [3]}, "e": 2}
    assert merge_maps(base, override) == {"a": {"b": 1, "c": [3]}, "d": 1, "e": 2}
    assert base == {"a": {"b": 1, "c": [1, 2]}, "d": 1}  # inputs untouched


def test_merge_keeps_null_for_helm_to_delete() -> None:
    assert merge_maps({"a": 1}, {"a": None}) == {"a": None}


def test_coalesce_null_deletes_chart_default() -> None:
    defaults = {"singleuser": {"cmd": "jupyterhub-singleuser", "uid": 1000}}
    assert coalesce(defaults, {"singleuser": {"cmd": None}}) == {"singleuser": {"uid": 1000}}


def test_coalesce_list_replaces_default_list() -> None:
    assert coalesce({"hosts": ["a", "b"]}, {"hosts": ["c"]}) == {"hosts": ["c"]}


def test_coalesce_nested_nulls_in_new_map_are_dropped() -> None:
    assert coalesce({}, {"a": {"b": None, "c": 1}}) == {"a": {"c": 1}}


def test_values_from_in_order_then_inline_then_target_paths() -> None:
    layers = [
        (None, {"x": 1, "y": {"z": 1}}),
        ("hub.config.A.client_id", "from-secret"),
        (None, {"x": 2}),
    ]
    inline = {"x": 3, "hub": {"config": {"A": {"client_id": "inline"}}}}
    result = compute_values(layers, inline)
    assert result["x"] == 3  # inline wins over valuesFrom
    assert result["y"] == {"z": 1}
    assert result["hub"]["config"]["A"]["client_id"] == "from-secret"  # targetPath wins over all


def test_profile_list_inline_replaces_configmap_list() -> None:
    layers = [(None, {"singleuser": {"profileList": [{"display_name": "cm"}]}})]
    inline = {"singleuser": {"profileList": [{"display_name": "inline"}]}}
    merged = compute_values(layers, inline)
    assert merged["singleuser"]["profileList"] == [{"display_name": "inline"}]


def test_target_path_escaped_dot() -> None:
    assert split_target_path(r"ingress.annotations.cert-manager\.io/issuer") == [
        "ingress", "annotations", "cert-manager.io/issuer"]
    values: dict = {"a": 1}
    set_path(values, "a.b", 2)  # a scalar on the way is replaced by a map
    assert values == {"a": {"b": 2}}


def test_defaults_applied_last() -> None:
    result = compute_values([], {"a": {"b": None}}, defaults={"a": {"b": 1, "c": 2}})
    assert result == {"a": {"c": 2}}


# --- valuesFrom resolution (shared by validate and diff) -------------------------------------


def _release(*refs: dict, values: dict | None = None) -> dict:
    return {"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
            "metadata": {"name": "hub", "namespace": "jhub"},
            "spec": {"valuesFrom": list(refs), "values": values or {}}}


def _tree(**configmaps: dict) -> dict:
    return {("ConfigMap", "jhub", name): {"data": data} for name, data in configmaps.items()}


def _resolve(release: dict, tree: dict) -> tuple[dict, list[ValuesNote]]:
    seen: list[tuple[str, str, str]] = []

    def lookup(kind: str, namespace: str, name: str) -> dict | None:
        seen.append((kind, namespace, name))
        return tree.get((kind, namespace, name))

    values, notes = resolve_values(release, lookup)
    assert all(kind == "ConfigMap" and ns == "jhub" for kind, ns, _ in seen), seen
    return values, notes


def test_configmaps_merge_in_order_then_inline_values() -> None:
    release = _release({"kind": "ConfigMap", "name": "a"},
                       {"kind": "ConfigMap", "name": "b", "valuesKey": "more.yaml"},
                       values={"x": {"inline": True}})
    tree = _tree(a={"values.yaml": "x: {a: 1, b: 1}\nl: [1]\n"},
                 b={"more.yaml": "x: {b: 2}\nl: [2]\n"})
    values, notes = _resolve(release, tree)
    assert values == {"x": {"a": 1, "b": 2, "inline": True}, "l": [2]}
    assert [(n.index, n.outcome, n.key) for n in notes] == [
        (0, MERGED, "values.yaml"), (1, MERGED, "more.yaml")]
    assert [n.describe() for n in notes] == ["ConfigMap jhub/a key values.yaml",
                                             "ConfigMap jhub/b key more.yaml"]


def test_secrets_are_never_read_and_leave_one_placeholder() -> None:
    release = _release(
        {"kind": "Secret", "name": "oauth", "valuesKey": "id", "targetPath": "hub.config.A.id"},
        {"kind": "Secret", "name": "whole"})

    def lookup(kind: str, namespace: str, name: str) -> dict | None:
        raise AssertionError(f"{kind} {namespace}/{name} was read")

    values, notes = resolve_values(release, lookup)
    assert values == {"hub": {"config": {"A": {"id": secret_placeholder("oauth", "id")}}}}
    assert secret_placeholder("oauth", "id") == "<from Secret oauth key id>"
    assert [n.outcome for n in notes] == [SECRET, SECRET]
    assert notes[0].describe() == ("Secret jhub/oauth key id into hub.config.A.id: not read "
                                   "(Secret), shown as a placeholder")
    assert notes[1].describe() == ("Secret jhub/whole key values.yaml: not read (Secret), its "
                                   "values are not shown")


def test_missing_sources_and_keys_say_whether_helm_controller_fails() -> None:
    release = _release({"kind": "ConfigMap", "name": "gone"},
                       {"kind": "ConfigMap", "name": "a", "valuesKey": "nope", "optional": True},
                       {"kind": "ConfigMap", "name": "a", "valuesKey": "nope"})
    values, notes = _resolve(release, _tree(a={"values.yaml": "x: 1\n"}))
    assert values == {}
    assert [(n.outcome, n.optional) for n in notes] == [
        (NO_SOURCE, False), (NO_KEY, True), (NO_KEY, False)]
    assert [n.describe() for n in notes] == [
        "ConfigMap jhub/gone key values.yaml: not in this tree (helm-controller would fail)",
        "ConfigMap jhub/a key nope: has no key nope (optional)",
        "ConfigMap jhub/a key nope: has no key nope (helm-controller would fail)"]


def test_bad_sources_are_ignored_with_the_reason() -> None:
    release = _release({"kind": "ConfigMap", "name": "a"}, {"kind": "ConfigMap", "name": "b"},
                       {"kind": "Bucket", "name": "c"}, {"kind": "ConfigMap", "name": "e"})
    tree = _tree(a={"values.yaml": "x: [\n"}, b={"values.yaml": "- 1\n"}, e={"values.yaml": ""})
    values, notes = _resolve(release, tree)
    assert values == {}
    assert [n.outcome for n in notes] == [BAD_YAML, NOT_MAPPING, UNSUPPORTED, MERGED]
    assert notes[0].detail == "while parsing a flow node"
    assert notes[2].describe() == (
        "Bucket jhub/c key values.yaml: unsupported valuesFrom kind, ignored")


def test_target_path_from_a_configmap_is_set_as_text() -> None:
    release = _release({"kind": "ConfigMap", "name": "a", "valuesKey": "n", "targetPath": "a.b"},
                       values={"a": {"c": 1}})
    values, notes = _resolve(release, _tree(a={"n": 3}))
    assert values == {"a": {"b": "3", "c": 1}}
    assert notes[0].describe() == "ConfigMap jhub/a key n into a.b"


def test_is_helmrelease_means_flux_v2() -> None:
    assert is_helmrelease(_release())
    assert not is_helmrelease({**_release(), "apiVersion": "helm.fluxcd.io/v1"})
