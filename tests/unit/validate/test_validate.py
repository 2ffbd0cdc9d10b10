"""Offline validation of rendered trees: schemas, chart values, project rules."""

from __future__ import annotations

from pathlib import Path

from dlaas_gen.kube_versions import resolve_version
from dlaas_gen.tree import load_tree
from dlaas_gen.validate import validate_tree
from dlaas_gen.validate.policy import PolicySettings
from tests.conftest import REPO


def tree_from(tmp_path: Path, **files: str) -> list:
    for name, text in files.items():
        path = tmp_path / name.replace("__", "/").replace("_yaml", ".yaml")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return load_tree(tmp_path)


def problems(tree: list, version: str = "1.33") -> list[tuple[str, int, int, str, str]]:
    return [(p.path, p.line, p.col, p.rule, p.message) for p in validate_tree(tree, version)]


def test_committed_trees_are_valid() -> None:
    for site in ("escape", "demo"):
        assert [p for p in validate_tree(load_tree(REPO / "rendered" / site)) if p.is_error] == []


def test_core_kind_unknown_field_is_an_error_with_position(tmp_path: Path) -> None:
    tree = tree_from(tmp_path, cm_yaml="apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n"
                     "  namespace: b\ndata:\n  k: v\nsepc: {}\n")
    [(path, line, col, rule, message)] = problems(tree)
    assert (path, line, col, rule) == ("cm.yaml", 8, 1, "k8s-schema")
    assert "sepc" in message


def test_core_kind_wrong_type_points_at_value(tmp_path: Path) -> None:
    tree = tree_from(tmp_path, a_yaml="apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n"
                     "  namespace: b\ndata:\n  k: 1\n")
    [(_, line, col, rule, message)] = problems(tree)
    assert (line, col, rule) == (7, 6, "k8s-schema")
    assert "data.k" in message


def test_flux_typo_and_missing_prune(tmp_path: Path) -> None:
    tree = tree_from(tmp_path, k_yaml=(
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n"
        "  name: a\n  namespace: flux-system\nspec:\n  interval: 1m\n  path: apps\n"
        "  sourceRef:\n    kind: GitRepository\n    name: flux-system\n    namspace: x\n"))
    found = problems(tree)
    assert any(r == "flux-schema" and "'prune' is a required property" in m for *_, r, m in found)
    assert any(r == "flux-schema" and line == 12 and "namspace" in m for _, line, _, r, m in found)
    assert any(r == "flux-schema" and "./" in m for *_, r, m in found)


def test_beta_flux_api_is_flagged(tmp_path: Path) -> None:
    tree = tree_from(
        tmp_path,
        h_yaml="apiVersion: helm.toolkit.fluxcd.io/v2beta1\nkind: HelmRelease\n"
        "metadata:\n  name: a\n  namespace: b\nspec: {}\n",
    )
    [(_, line, _, rule, message)] = problems(tree)
    assert (line, rule) == (1, "flux-api") and "dlaas-gen migrate" in message


HR = """apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: hub
  namespace: jhub
spec:
  interval: 5m
  chart:
    spec:
      chart: jupyterhub
      version: "{version}"
      sourceRef:
        kind: HelmRepository
        name: jupyterhub
  valuesFrom:
    - kind: ConfigMap
      name: profiles
      valuesKey: values.yaml
    - kind: Secret
      name: oidc
      valuesKey: client_id
      targetPath: hub.config.GenericOAuthenticator.client_id
  values:
    {values}
"""
CM = """apiVersion: v1
kind: ConfigMap
metadata:
  name: profiles
  namespace: jhub
data:
  values.yaml: |
    {content}
"""


def test_chart_values_checked_after_merge(tmp_path: Path) -> None:
    tree = tree_from(
        tmp_path,
        hr_yaml=HR.format(
            version="4.4.0", values="singleuser:\n      defaultUrl: /lab\n    hubb: {}"
        ),
        cm_yaml=CM.format(content="singleuser:\n      profileLis: []"),
    )
    found = problems(tree)
    rules = [(line, rule, m) for _, line, _, rule, m in found]
    assert any(line == 26 and "hubb" in m for line, rule, m in rules if rule == "values-schema")
    assert any("profileLis" in m for _, rule, m in rules if rule == "values-schema")


def test_profile_list_at_root_and_twice(tmp_path: Path) -> None:
    tree = tree_from(
        tmp_path,
        hr_yaml=HR.format(
            version="4.4.0", values="profileList: []\n    singleuser:\n      profileList: []"
        ),
        cm_yaml=CM.format(content="singleuser:\n      profileList: []"),
    )
    found = [
        (line, m) for _, line, _, rule, m in problems(tree) if rule == "profile-list-single-source"
    ]
    assert [line for line, _ in found] == [24, 26]
    assert "belongs under singleuser" in found[0][1]
    assert "Helm keeps only the inline list" in found[1][1]


def test_unlocked_chart_version_is_one_error_and_no_false_policy_errors(tmp_path: Path) -> None:
    tree = tree_from(
        tmp_path, hr_yaml=HR.format(version="3.3.7", values="{}"), cm_yaml=CM.format(content="{}")
    )
    found = validate_tree(tree, policy=PolicySettings(charts_dir=tmp_path / "charts"))
    locks = [p for p in found if p.rule == "chart-lock"]
    assert len(locks) == 1 and locks[0].level == "error" and locks[0].line == 11
    assert "dlaas-gen chart pull" in locks[0].message
    # Without the chart's defaults nothing reads as "disabled" (no NET001/USER002 guesses).
    assert not [p for p in found if p.rule in ("NET001", "USER002", "RES002", "values-schema")]


def test_project_rules(tmp_path: Path) -> None:
    deploy = (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n{ns}spec:\n"
        "  selector: {{matchLabels: {{a: b}}}}\n  template:\n    metadata: {{labels: {{a: b}}}}\n"
        "    spec:\n      containers:\n        - name: c\n          image: {image}\n"
    )
    tree = tree_from(
        tmp_path,
        a_yaml=deploy.format(name="x", ns="  namespace: n\n", image="busybox:latest"),
        b_yaml=deploy.format(name="x", ns="  namespace: n\n", image="busybox"),
        c_yaml=deploy.format(name="Bad_Name", ns="", image="busybox@sha256:" + "a" * 64),
    )
    found = {(path, rule): (line, m) for path, line, _, rule, m in problems(tree)}
    assert found[("a.yaml", "image-pinned")] == (13, "image 'busybox:latest' uses 'latest'")
    assert found[("b.yaml", "image-pinned")] == (13, "image 'busybox' has no tag")
    assert found[("b.yaml", "unique-resource")][1] == "Deployment n/x is also defined in a.yaml"
    assert found[("c.yaml", "namespace-set")][0] == 3
    assert found[("c.yaml", "dns-name")][0] == 4
    assert ("c.yaml", "image-pinned") not in found


def test_kubernetes_version_resolution() -> None:
    assert resolve_version("1.33") == "1.33.0"
    assert resolve_version("1.40").startswith("1.3")  # newest bundled


def test_singleuser_mounts_must_name_volumes_and_be_unique(tmp_path: Path) -> None:
    values = (
        "singleuser:\n      storage:\n        extraVolumes:\n          - {name: a, emptyDir: {}}\n"
        "        extraVolumeMounts:\n          - {name: a, mountPath: /x}\n"
        "          - {name: b, mountPath: /x}"
    )
    tree = tree_from(
        tmp_path, hr_yaml=HR.format(version="4.4.0", values=values), cm_yaml=CM.format(content="{}")
    )
    found = [(line, m) for _, line, _, rule, m in problems(tree) if rule == "singleuser-mounts"]
    assert found == [
        (30, "volume mount 'b' names no singleuser.storage.extraVolumes entry"),
        (30, "mount path /x is used twice"),
    ]
