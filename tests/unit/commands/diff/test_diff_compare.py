from __future__ import annotations

import json

import pytest

from dlaas_gen.commands.diff import (
    DiffOptions,
    Side,
    compare_sides,
    diff_dirs,
    render_json,
    render_markdown,
    render_text,
)
from dlaas_gen.commands.diff.index import site_of
from dlaas_gen.errors import UsageError
from dlaas_gen.manifest import Manifest
from tests.support import diff_fixtures as fx


@pytest.fixture()
def result(tmp_path):
    old, new = fx.write_pair(tmp_path)
    return diff_dirs(old, new)


def by_name(result, kind, name):
    return next(c for c in result.changes if c.key.kind == kind and c.key.name == name)


def side(label, docs_by_path):
    return Side(label, [Manifest(doc=d, text="", path=p) for p, docs in docs_by_path.items()
                        for d in docs])


def test_statuses_cover_every_category(result):
    statuses = {(c.key.kind, c.key.name): c.status for c in result.changes}
    assert statuses[("ConfigMap", "obsolete")] == "removed"
    assert statuses[("Namespace", "legacy")] == "removed"
    assert statuses[("ConfigMap", "fresh")] == "added"
    assert statuses[("DaemonSet", "agent")] == "added"
    assert statuses[("ConfigMap", "moved")] == "moved"
    assert statuses[("HelmRelease", "jupyterhub")] == "changed"
    # label churn only (helm.sh/chart) is not a change
    assert ("ConfigMap", "churn") not in statuses
    # kustomize config files are not cluster objects
    assert not any(c.key.group == "kustomize.config.k8s.io" for c in result.changes)
    assert result.unchanged == 2
    assert result.has_differences


def test_moved_has_no_diff(result):
    moved = by_name(result, "ConfigMap", "moved")
    assert moved.diff == ""
    assert moved.old_path == "apps/configmap-moved.yaml"
    assert moved.new_path == "apps/configmap-renamed-file.yaml"


def test_profiles_change_shows_under_helmrelease(result):
    hr = by_name(result, "HelmRelease", "jupyterhub")
    assert "+      image: registry.example.org/notebook:2025.2" in hr.values_diff
    assert "+      cpu_limit: 2" in hr.values_diff
    assert "spec.values" not in hr.diff and "values:\n" not in hr.diff
    assert any("ConfigMap jhub/profiles is changed" in n for n in hr.values_notes)
    assert "<from Secret hub-oauth key client_secret>" in hr.values_diff


def test_profiles_change_alone_marks_release_changed(tmp_path):
    old = fx.old_tree()
    new = fx.old_tree()
    new["apps/configmap-profiles.yaml"] = [fx.cm("profiles", "jhub",
                                                 {"values.yaml": fx.PROFILES_NEW})]
    result = diff_dirs(fx.write_tree(tmp_path / "o", old), fx.write_tree(tmp_path / "n", new))
    hr = by_name(result, "HelmRelease", "jupyterhub")
    assert hr.status == "changed" and hr.diff == "" and hr.values_diff


def test_secret_values_never_appear(result):
    outputs = render_text(result) + render_markdown(result) + render_json(result)
    outputs += render_text(result, color=True)
    for value in fx.SECRET_VALUES:
        assert value not in outputs
    secret = by_name(result, "Secret", "hub-oauth")
    assert secret.secret_keys.added == ("added",)
    assert secret.secret_keys.removed == ("dropped",)
    assert secret.secret_keys.changed == ("client_secret",)
    assert "client_secret: '<redacted: changed>'" in secret.diff
    assert "keep: <redacted>" in secret.diff


def test_embedded_secret_in_configmap_redacted(result):
    extra = by_name(result, "ConfigMap", "extra-manifests")
    assert "password: '<redacted: changed>'" in extra.diff
    assert "embedded-pw" not in extra.diff


def test_secret_inside_helm_values_redacted():
    def hr(pw):
        return fx.helmrelease("x", "ns", "1.0.0", {"extraObjects": [
            {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
             "data": {"token": pw}}]})
    result = compare_sides(side("a", {"a/hr.yaml": [hr("T0xE")]}),
                           side("b", {"a/hr.yaml": [hr("TkVX")]}))
    text = render_text(result) + render_json(result)
    assert "T0xE" not in text and "TkVX" not in text
    assert "token: '<redacted: changed>'" in result.changes[0].values_diff


def test_secret_key_changed_between_data_and_stringdata():
    old = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
           "data": {"a": "eA=="}}
    new = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
           "stringData": {"a": "x"}}
    result = compare_sides(side("a", {"s.yaml": [old]}), side("b", {"s.yaml": [new]}))
    keys = result.changes[0].secret_keys
    assert keys.changed == ("a",) and not keys.added and not keys.removed
    assert "eA==" not in render_json(result)


def test_unparseable_embedded_secret_hidden_whole():
    def cm(text):
        return fx.cm("c", "ns", {"x": text})
    bad_old = "kind: Secret\nstringData: {pw: oldpw\n"
    bad_new = "kind: Secret\nstringData: {pw: newpw\n"
    result = compare_sides(side("a", {"c.yaml": [cm(bad_old)]}),
                           side("b", {"c.yaml": [cm(bad_new)]}))
    text = render_json(result)
    assert "oldpw" not in text and "newpw" not in text
    assert result.changes[0].status == "changed"


def test_key_order_is_stable():
    doc = fx.cm("c", "ns", {"b": "1", "a": "2"})
    reordered = {"data": {"a": "2", "b": "1"}, "metadata": {"namespace": "ns", "name": "c"},
                 "kind": "ConfigMap", "apiVersion": "v1"}
    result = compare_sides(side("a", {"c.yaml": [doc]}), side("b", {"c.yaml": [reordered]}))
    assert result.changes == [] and result.unchanged == 1


def test_ignore_patterns_and_defaults():
    def cm(labels, annotations):
        return fx.cm("c", "ns", {}, labels=labels, annotations=annotations)
    old = cm({"team/owner": "a", "app.kubernetes.io/version": "1"}, {"note/x": "1"})
    new = cm({"team/owner": "b", "app.kubernetes.io/version": "2"}, {"note/x": "2"})
    sides = (side("a", {"c.yaml": [old]}), side("b", {"c.yaml": [new]}))
    changed = compare_sides(*sides)
    assert "team/owner" in changed.changes[0].diff
    assert "app.kubernetes.io/version" not in changed.changes[0].diff
    quiet = compare_sides(*sides, DiffOptions(ignore_labels=("team/*", "app.kubernetes.io/*"),
                                              ignore_annotations=("note/*",)))
    assert quiet.changes == []
    loud = compare_sides(*sides, DiffOptions(ignore_labels=(), ignore_annotations=()))
    assert "app.kubernetes.io/version" in loud.changes[0].diff


def test_selector_not_hidden_by_label_patterns():
    old = fx.deployment("img:1", {"helm.sh/chart": "a"}, False, None, None)
    new = fx.deployment("img:1", {"helm.sh/chart": "b"}, False, None, None)
    result = compare_sides(side("a", {"apps/d.yaml": [old]}), side("b", {"apps/d.yaml": [new]}))
    assert any(a.rule == "immutable" for a in result.attention)


def test_context_option(tmp_path):
    old, new = fx.write_pair(tmp_path)
    narrow = diff_dirs(old, new, DiffOptions(context=0))
    svc = by_name(narrow, "Service", "gateway")
    assert "@@ -7 +7 @@" in svc.diff
    assert "ports" not in svc.diff


def test_sites_are_separate():
    docs = {"site-a/apps/cm.yaml": [fx.cm("c", "ns", {"a": "1"})],
            "site-b/apps/cm.yaml": [fx.cm("c", "ns", {"a": "1"})]}
    new = {"site-a/apps/cm.yaml": [fx.cm("c", "ns", {"a": "1"})],
           "site-b/apps/cm.yaml": [fx.cm("c", "ns", {"a": "2"})]}
    result = compare_sides(side("a", docs), side("b", new))
    assert [(c.site, c.status) for c in result.changes] == [("site-b", "changed")]
    assert "[site-b] ConfigMap ns/c" in render_text(result)


@pytest.mark.parametrize(("path", "site"), [
    ("site-a/apps/x.yaml", "site-a"), ("apps/x.yaml", ""), ("x.yaml", ""),
    ("a/b/flux/x.yaml", "a/b"), ("misc/x.yaml", ""),
])
def test_site_of(path, site):
    assert site_of(path) == site


def test_duplicate_object_is_usage_error():
    doc = fx.cm("c", "ns", {})
    with pytest.raises(UsageError, match="defined twice"):
        compare_sides(side("a", {"x.yaml": [doc], "y.yaml": [doc]}), side("b", {}))


def test_non_objects_skipped_with_note():
    result = compare_sides(side("a", {"x.yaml": [["a", "b"], {"foo": 1}]}), side("b", {}))
    assert result.changes == []
    assert len(result.notes) == 2


def test_missing_and_invalid_trees(tmp_path):
    with pytest.raises(UsageError, match="old tree .* does not exist"):
        diff_dirs(tmp_path / "nope", tmp_path)
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "s.yaml").write_text("kind: Secret\nstringData:\n  pw: first-secret\n"
                                "  pw: second-secret\n")
    with pytest.raises(UsageError) as info:
        diff_dirs(tmp_path / "bad", tmp_path / "bad")
    message = str(info.value)
    assert "invalid YAML in the old side" in message and "s.yaml:4" in message
    assert "second-secret" not in message and "first-secret" not in message
    assert "\n" not in message


def test_json_schema_shape(result):
    data = json.loads(render_json(result))
    assert data["version"] == 1
    assert set(data) == {"version", "old", "new", "summary", "resources", "attention", "notes",
                         "charts"}
    assert data["charts"] == []
    assert data["summary"]["changed"] == 11
    assert data["summary"]["attention"]["danger"] >= 10
    first = data["resources"][0]
    assert set(first) == {"status", "site", "group", "kind", "namespace", "name", "old_path",
                          "new_path", "diff", "values_diff", "values_notes", "secret_keys"}
    assert set(data["attention"][0]) == {"severity", "rule", "site", "group", "kind",
                                         "namespace", "name", "message", "old", "new"}


def test_no_differences(tmp_path):
    root = fx.write_tree(tmp_path / "t", fx.old_tree())
    result = diff_dirs(root, root)
    assert not result.has_differences
    assert "No differences." in render_text(result)
    assert "No differences." in render_markdown(result)
