"""The merge as helm-controller and Helm document it."""

from __future__ import annotations

from dlaas_gen.helmvalues import coalesce, compute_values, merge_maps, set_path, split_target_path


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
    assert compute_values(layers, inline)["singleuser"]["profileList"] == [{"display_name": "inline"}]


def test_target_path_escaped_dot() -> None:
    assert split_target_path(r"ingress.annotations.cert-manager\.io/issuer") == [
        "ingress", "annotations", "cert-manager.io/issuer"]
    values: dict = {"a": 1}
    set_path(values, "a.b", 2)  # a scalar on the way is replaced by a map
    assert values == {"a": {"b": 2}}


def test_defaults_applied_last() -> None:
    result = compute_values([], {"a": {"b": None}}, defaults={"a": {"b": 1, "c": 2}})
    assert result == {"a": {"c": 2}}
