"""Patterns found running `migrate --write` on real Flux v1 / beta repositories (issue 15).

Each test authors a small fixture with the shape seen in the wild and checks the output bytes
and the report lines (file, line, level).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from dlaas_gen.commands.migrate import Options, format_json, format_text, migrate
from dlaas_gen.commands.migrate.model import MigrationResult
from dlaas_gen.yamlio import load_roundtrip_all

H3 = Options(assume_helm3=True)


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def put(root: Path, files: dict[str, str | bytes]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_bytes(text.encode("utf-8"))


def out(result: MigrationResult, path: str) -> str:
    (outcome,) = [f for f in result.files if f.path == path]
    assert outcome.migrated is not None, f"{path} not migrated"
    return outcome.migrated


def where(result: MigrationResult, level: str) -> list[tuple[str, int]]:
    return [(f.path, f.line) for f in result.findings if f.level == level]


# -- 1. HelmChart valuesFile + valuesFiles --------------------------------------------------

HELMCHART = """\
apiVersion: source.toolkit.fluxcd.io/v1beta2
kind: HelmChart
metadata:
  name: app
  namespace: apps
spec:
  interval: 1h
  chart: app
  valuesFile: values-prod.yaml
  valuesFiles:
    - values-common.yaml
    - values-extra.yaml
  sourceRef:
    kind: HelmRepository
    name: charts
"""


def test_helmchart_values_file_goes_first_and_nothing_is_dropped(work: Path) -> None:
    put(work, {"hc.yaml": HELMCHART})
    result = migrate(["hc.yaml"])
    assert out(result, "hc.yaml") == HELMCHART.replace(
        "v1beta2", "v1").replace("  valuesFile: values-prod.yaml\n", "").replace(
        "  valuesFiles:\n", "  valuesFiles:\n    - values-prod.yaml\n")
    assert ("hc.yaml", 9) in where(result, "change")


def test_helmrelease_values_file_alone_and_with_list(work: Path) -> None:
    text = ("apiVersion: helm.toolkit.fluxcd.io/v2beta2\nkind: HelmRelease\nmetadata:\n"
            "  name: a\n  namespace: b\nspec:\n  interval: 5m\n  chart:\n    spec:\n"
            "      chart: a\n      valuesFile: one.yaml\n{rest}      sourceRef:\n"
            "        kind: HelmRepository\n        name: r\n")
    put(work, {"a.yaml": text.format(rest=""),
               "b.yaml": text.format(rest="      valuesFiles: [two.yaml, one.yaml]\n")})
    result = migrate(["."])
    (a,) = load_roundtrip_all(out(result, "a.yaml"))
    (b,) = load_roundtrip_all(out(result, "b.yaml"))
    assert a["spec"]["chart"]["spec"]["valuesFiles"] == ["one.yaml"]
    # valuesFile was merged before the list: kept first, and the list kept whole
    assert b["spec"]["chart"]["spec"]["valuesFiles"] == ["one.yaml", "two.yaml", "one.yaml"]


# -- 2. Helm Operator chart.git with name instead of path -------------------------------------

GIT_NAME = """\
apiVersion: helm.fluxcd.io/v1
kind: HelmRelease
metadata:
  name: app
  namespace: apps
spec:
  helmVersion: v3
  chart:
    git: https://github.com/example/charts
    ref: main
    name: app
"""


def test_git_chart_with_name_and_no_path_is_a_manual_step(work: Path) -> None:
    put(work, {"hr.yaml": GIT_NAME})
    result = migrate(["hr.yaml"], H3, write=True)
    assert (work / "hr.yaml").read_text() == GIT_NAME  # nothing invented, nothing dropped
    (step,) = result.by_level("manual")
    assert (step.path, step.line) == ("hr.yaml", 11)
    assert "chart.name is ignored for a git chart" in step.message
    assert "chart.git without chart.path" in step.message
    assert "spec.chart.path" in step.suggestion
    assert result.exit_code() == 1


# -- 3. no value from the input in any message ------------------------------------------------

def test_duplicate_keys_never_print_values(work: Path) -> None:
    put(work, {
        "secret.yaml": "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n"
                       "  password: hunter2-first\n  password: hunter2-second\n",
        "flux.yaml": "apiVersion: helm.toolkit.fluxcd.io/v2beta1\nkind: HelmRelease\n"
                     "metadata:\n  name: x\nspec:\n  values:\n    token: tok-first\n"
                     "    token: tok-second\n",
    })
    result = migrate(["."], write=True)
    text = format_text(result) + format_json(result)
    assert "hunter2" not in text and "tok-" not in text
    secret = [f for f in result.findings if f.path == "secret.yaml"]
    assert [(f.line, f.level) for f in secret] == [(7, "warning")]
    assert 'duplicate key "password"' in secret[0].message
    flux = [f for f in result.findings if f.path == "flux.yaml"]
    assert [(f.line, f.level) for f in flux] == [(8, "error")]
    assert result.exit_code() == 1


def test_unparseable_file_without_flux_api_is_a_warning_not_a_failed_run(work: Path) -> None:
    put(work, {"values.yaml": "a: [1, 2\n", "chart/templates/x.yaml": "a: b: c\n",
               "ok.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n"})
    result = migrate(["."], write=True)
    assert where(result, "warning") == [("chart/templates/x.yaml", 1), ("values.yaml", 2)]
    assert not result.has_errors and result.exit_code() == 0
    (work / "bad.yaml").write_text("apiVersion: kustomize.toolkit.fluxcd.io/v1beta2\na: [\n")
    result = migrate(["."], write=True)
    assert where(result, "error") == [("bad.yaml", 3)]
    assert result.exit_code() == 1


MARKED = {
    "ho.yaml": """\
apiVersion: helm.fluxcd.io/v1
kind: HelmRelease
metadata:
  name: web
  namespace: apps
  annotations:
    fluxcd.io/automated: "true"
    fluxcd.io/tag.web: semver:~MARK01
    fluxcd.io/tag.side: glog:MARK02
    filter.fluxcd.io/web: glob:MARK03
spec:
  helmVersion: v3
  timeout: 600
  rollback:
    enable: true
    retry: true
    maxRetries: 7
  chart:
    repository: https://charts.example.com/MARK04?token=MARK05
    name: web
    version: 1.2.3-MARK06
  values:
    password: MARK07
    list: [MARK08]
""",
    "beta.yaml": """\
apiVersion: kustomize.toolkit.fluxcd.io/v1beta2
kind: Kustomization
metadata:
  name: apps
  namespace: flux-system
spec:
  interval: 10m
  prune: true
  validation: MARK09
  sourceRef:
    kind: GitRepository
    name: flux-system
  postBuild:
    substitute:
      secret: MARK10
---
apiVersion: notification.toolkit.fluxcd.io/v1beta2
kind: Alert
metadata:
  name: slack
  namespace: flux-system
spec:
  summary: MARK11
  providerRef:
    name: slack
  eventSources:
    - kind: Kustomization
      name: apps
---
apiVersion: source.toolkit.fluxcd.io/v1beta2
kind: GitRepository
metadata:
  name: repo
  namespace: flux-system
spec:
  interval: 1m
  url: https://user:MARK12@git.example.com/repo
  ref:
    branch: MARK13
  gitImplementation: MARK14
""",
    "invalid.yaml": """\
apiVersion: kustomize.toolkit.fluxcd.io/v1beta2
kind: Kustomization
metadata:
  name: broken
  namespace: flux-system
spec:
  interval: MARK15
  prune: MARK16
  sourceRef:
    kind: GitRepository
    name: flux-system
""",
    "escape.yaml": 'apiVersion: helm.fluxcd.io/v1\nkind: HelmRelease\nx: "MARK17\\q"\n',
    "alias.yaml": "apiVersion: helm.fluxcd.io/v1\nkind: HelmRelease\nx: *MARK18\n",
    "scalar.yaml": "apiVersion: helm.fluxcd.io/v1\nkind: HelmRelease\nx: !!int MARK19\n",
    "text.yaml": "apiVersion: helm.fluxcd.io/v1\nkind: HelmRelease\nx: 'MARK20\n",
}


def test_no_message_carries_a_value(work: Path) -> None:
    put(work, MARKED)
    for options in (H3, Options()):
        result = migrate(["."], options)
        report = format_text(result) + format_json(result) + format_text(result, scan=True)
        assert "MARK" not in report, [ln for ln in report.splitlines() if "MARK" in ln]
        assert result.by_level("error"), "the invalid documents must be reported"
        invalid = [f for f in result.findings
                   if f.path == "invalid.yaml" and "invalid" in f.message]
        assert {f.line for f in invalid} == {7, 8}


# -- 4. Flux Kustomization spec.patches aimed at beta objects ---------------------------------

PARENT = """\
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: apps
  namespace: flux-system
spec:
  interval: 10m
  prune: true
  path: ./apps
  sourceRef:
    kind: GitRepository
    name: flux-system
  patches:
    - target:
        kind: Kustomization
        version: v1beta2
      patch: |
        - op: add
          path: /spec/decryption
          value: {provider: sops}
    - patch: |
        apiVersion: kustomize.toolkit.fluxcd.io/v1beta2
        kind: Kustomization
        metadata:
          name: child
        spec:
          postBuild:
            substituteFrom:
              - kind: ConfigMap
                name: vars
    - patch: |
        - op: test
          path: /apiVersion
          value: helm.toolkit.fluxcd.io/v2beta1
"""
CHILD = """\
apiVersion: kustomize.toolkit.fluxcd.io/v1beta2
kind: Kustomization
metadata:
  name: child
  namespace: flux-system
spec:
  interval: 5m
  prune: true
  path: ./child
  sourceRef:
    kind: GitRepository
    name: flux-system
"""


def test_flux_spec_patches_follow_the_children_to_v1(work: Path) -> None:
    put(work, {"parent.yaml": PARENT, "child.yaml": CHILD})
    result = migrate(["."])
    new = out(result, "parent.yaml")
    assert new == PARENT.replace("        version: v1beta2\n", "        version: v1\n").replace(
        "        apiVersion: kustomize.toolkit.fluxcd.io/v1beta2\n",
        "        apiVersion: kustomize.toolkit.fluxcd.io/v1\n")
    changes = [(f.line, f.message) for f in result.by_level("change")
               if f.path == "parent.yaml"]
    assert (16, "spec.patches[].target.version v1beta2 → v1 (Kustomization of "
                "kustomize.toolkit.fluxcd.io)") in changes
    assert any(line == 22 and "apiVersion" in message for line, message in changes)
    # a JSON patch that only mentions an old API in a value: reported at its line, not edited
    (warning,) = [f for f in result.by_level("warning") if f.path == "parent.yaml"]
    assert warning.line == 31 and "holds no Flux object" in warning.message


# -- 5. partial beta HelmRelease patches ------------------------------------------------------

BETA_PATCH = """\
apiVersion: helm.toolkit.fluxcd.io/v2beta1
kind: HelmRelease
metadata:
  name: podinfo
spec:
  values:
    replicaCount: 2
"""


def test_partial_beta_helmrelease_is_a_patch_not_an_invalid_object(work: Path) -> None:
    put(work, {"overlay/patch.yaml": BETA_PATCH})
    result = migrate(["."], write=True)
    assert not result.has_errors
    assert (work / "overlay/patch.yaml").read_text() == BETA_PATCH.replace("v2beta1", "v2")
    assert "patch" in result.plans[0].obj and result.plans[0].new_api.endswith("/v2")
    assert result.exit_code() == 0


def test_listed_patch_file_is_a_patch_even_with_all_fields(work: Path) -> None:
    full = BETA_PATCH.replace("spec:\n", "spec:\n  interval: 1m\n  chart:\n    spec:\n"
                              "      chart: podinfo\n      sourceRef: {kind: HelmRepository, "
                              "name: podinfo}\n")
    put(work, {"overlay/patch.yaml": full,
               "overlay/kustomization.yaml": "resources: [../base]\npatches:\n"
                                             "  - path: patch.yaml\n"})
    result = migrate(["overlay"])
    assert result.plans[0].obj == "HelmRelease podinfo (patch)"


# -- 6. a patch follows its target --------------------------------------------------------------

BASE_HO = """\
apiVersion: helm.fluxcd.io/v1
kind: HelmRelease
metadata:
  name: redis
spec:
  chart:
    repository: https://charts.bitnami.com/bitnami
    name: redis
    version: 17.0.0
"""
PATCH_HO = """\
apiVersion: helm.fluxcd.io/v1
kind: HelmRelease
metadata:
  name: redis
spec:
  values:
    replicas: 2
"""


def test_patch_and_base_both_stay_and_are_reported_together(work: Path) -> None:
    put(work, {"base/redis.yaml": BASE_HO, "base/kustomization.yaml": "resources: [redis.yaml]\n",
               "dev/patch.yaml": PATCH_HO,
               "dev/kustomization.yaml": "resources: [../base]\npatches:\n  - path: patch.yaml\n"
                                         "  - target: {group: helm.fluxcd.io, kind: HelmRelease,"
                                         " name: redis}\n    patch: '[]'\n"})
    result = migrate(["."], write=True)
    assert (work / "base/redis.yaml").read_text() == BASE_HO
    assert (work / "dev/patch.yaml").read_text() == PATCH_HO
    assert "helm.fluxcd.io" in (work / "dev/kustomization.yaml").read_text()
    steps = {(f.path, f.line): f.message for f in result.by_level("manual")}
    assert "base/redis.yaml:1" in steps[("dev/patch.yaml", 1)]
    assert "dev/patch.yaml:1" in steps[("base/redis.yaml", 1)]
    assert ("dev/kustomization.yaml", 4) in steps
    assert result.exit_code() == 1
    moved = migrate(["."], H3, write=True)
    assert not moved.needs_manual
    assert "helm.toolkit.fluxcd.io/v2" in (work / "dev/patch.yaml").read_text()


# -- 7. TAB after a value ---------------------------------------------------------------------

def test_tab_after_a_value_is_accepted_and_untouched_lines_keep_their_bytes(work: Path) -> None:
    text = ("apiVersion: helm.fluxcd.io/v1\nkind: HelmRelease\nmetadata:\n  name: grafana\n"
            "  namespace: mon\nspec:\n  helmVersion: v3\n  chart:\n"
            "    repository: https://grafana.github.io/helm-charts\n    name: grafana\n"
            "  values:\n    adminUser: admin\t\n    key:\tvalue\n    inner: a\tb\n"
            "    commented: x\t# note\n")
    put(work, {"hr.yaml": text, "plain.yaml": "a: 1\t\nb: two\t\n"})
    result = migrate(["."], H3)
    assert not result.has_errors
    new = out(result, "hr.yaml")
    assert "    adminUser: admin\t\n    key:\tvalue\n    inner: a\tb\n" \
           "    commented: x\t# note\n" in new
    from dlaas_gen.commands.migrate.docs import parse_file

    (chunk, *_) = parse_file(new).chunks
    assert chunk.doc["spec"]["values"] == {"adminUser": "admin", "key": "value", "inner": "a\tb",
                                           "commented": "x"}
    assert [f.path for f in result.changed_files] == ["hr.yaml"]


def test_tab_inside_a_plain_value_stays_a_tab(work: Path) -> None:
    put(work, {"hr.yaml": "apiVersion: helm.toolkit.fluxcd.io/v2beta1\nkind: HelmRelease\n"
                          "metadata:\n  name: a\nspec:\n  values:\n    inner: a\tb\n"})
    from dlaas_gen.commands.migrate.docs import parse_file

    (chunk,) = parse_file((work / "hr.yaml").read_text()).chunks
    assert chunk.doc["spec"]["values"]["inner"] == "a\tb" and chunk.tolerated


# -- 8. known versions per API group ----------------------------------------------------------

def test_never_existed_toolkit_version_is_an_error_with_the_current_one(work: Path) -> None:
    put(work, {"repo.yaml": "---\napiVersion: source.toolkit.fluxcd.io/v2beta1\n"
                            "kind: HelmRepository\nmetadata:\n  name: r\nspec:\n  url: x\n"})
    result = migrate(["repo.yaml"])
    (error,) = result.by_level("error")
    assert (error.path, error.line) == ("repo.yaml", 2)
    assert "did you mean source.toolkit.fluxcd.io/v1?" in error.message
    assert "no Flux v1 or beta objects found" not in format_text(result, scan=True)


@pytest.mark.parametrize(("api", "kind", "spec", "level", "new"), [
    ("source.toolkit.fluxcd.io/v1alpha1", "GitRepository",
     "  interval: 1m\n  url: https://x/y\n  ref: {branch: main}\n", None,
     "source.toolkit.fluxcd.io/v1"),
    ("kustomize.toolkit.fluxcd.io/v1alpha1", "Kustomization",
     "  interval: 1m\n  path: ./x\n  prune: true\n  sourceRef: {kind: GitRepository, name: s}\n"
     "  serviceAccount: {name: sa, namespace: ns}\n", "manual", None),
    ("helm.toolkit.fluxcd.io/v2alpha1", "HelmRelease",
     "  interval: 1m\n  chart:\n    spec:\n      chart: x\n      sourceRef: {kind: "
     "HelmRepository, name: r}\n", None, "helm.toolkit.fluxcd.io/v2"),
    ("image.toolkit.fluxcd.io/v1alpha2", "ImagePolicy",
     "  imageRepositoryRef: {name: x}\n", "manual", None),
    ("image.toolkit.fluxcd.io/v1alpha1", "ImageRepository", "  image: x\n", "manual", None),
    ("notification.toolkit.fluxcd.io/v1beta4", "Alert",
     "  providerRef: {name: x}\n  eventSources: []\n", None, None),
    ("notification.toolkit.fluxcd.io/v1beta1", "Receiver", "  type: github\n", None,
     "notification.toolkit.fluxcd.io/v1"),
])
def test_every_known_version_is_converted_or_a_manual_step(
        work: Path, api: str, kind: str, spec: str, level: str | None, new: str | None) -> None:
    text = f"apiVersion: {api}\nkind: {kind}\nmetadata:\n  name: x\n  namespace: n\nspec:\n{spec}"
    put(work, {"x.yaml": text})
    result = migrate(["x.yaml"])
    assert not result.has_errors
    if level == "manual":
        assert where(result, "manual") == [("x.yaml", 1)] and result.changed_files == []
    elif new is None:
        assert result.changed_files == [] and not result.findings
    else:
        assert out(result, "x.yaml").startswith(f"apiVersion: {new}\n")


def test_versions_table_covers_the_issue_alphas() -> None:
    from dlaas_gen.commands.migrate.versions import ALPHA, HISTORY, UNKNOWN, classify

    for api in ("source.toolkit.fluxcd.io/v1alpha1", "kustomize.toolkit.fluxcd.io/v1alpha1",
                "helm.toolkit.fluxcd.io/v2alpha1", "image.toolkit.fluxcd.io/v1alpha1",
                "image.toolkit.fluxcd.io/v1alpha2"):
        assert classify(api).status == ALPHA
    assert classify("source.toolkit.fluxcd.io/v2beta1").status == UNKNOWN
    assert classify("foo.toolkit.fluxcd.io/v1").status == UNKNOWN
    assert classify("infra.contrib.fluxcd.io/v1alpha2").status == "not-flux"
    assert set(HISTORY) == {f"{g}.toolkit.fluxcd.io" for g in
                            ("source", "kustomize", "helm", "notification", "image")}


# -- lesser: values sources -------------------------------------------------------------------

def _ho(values_from: str, chart: str = "    repository: https://c.example.com\n"
        "    name: app\n    version: 1.0.0\n") -> str:
    return ("apiVersion: helm.fluxcd.io/v1\nkind: HelmRelease\nmetadata:\n  name: app\n"
            f"  namespace: apps\nspec:\n  helmVersion: v3\n  chart:\n{chart}"
            f"  valuesFrom:\n{values_from}")


def test_chart_file_ref_becomes_values_files_of_the_chart(work: Path) -> None:
    put(work, {
        "repo.yaml": _ho("  - chartFileRef:\n      path: values-prod.yaml\n      optional: true\n"
                         "  - configMapKeyRef:\n      name: extra\n"),
        "git.yaml": _ho("  - chartFileRef:\n      path: ./values.yaml\n",
                        "    git: https://github.com/example/charts\n    ref: main\n"
                        "    path: charts/app\n"),
    })
    result = migrate(["."], H3)
    assert not result.needs_manual and not result.has_errors
    (repo, _src) = load_roundtrip_all(out(result, "repo.yaml"))
    chart = repo["spec"]["chart"]["spec"]
    assert chart["valuesFiles"] == ["values.yaml", "values-prod.yaml"]
    assert chart["ignoreMissingValuesFiles"] is True
    assert repo["spec"]["valuesFrom"] == [{"kind": "ConfigMap", "name": "extra"}]
    (git, _src) = load_roundtrip_all(out(result, "git.yaml"))
    # the same path is not repeated; paths are relative to the GitRepository
    assert git["spec"]["chart"]["spec"]["valuesFiles"] == ["charts/app/values.yaml"]
    assert "valuesFrom" not in git["spec"]
    assert all(f.suggestion.count("values.yaml") <= 1 for f in result.findings)


def test_chart_file_ref_after_other_items_warns_about_precedence(work: Path) -> None:
    put(work, {"hr.yaml": _ho("  - secretKeyRef:\n      name: s\n  - chartFileRef:\n"
                              "      path: extra.yaml\n")})
    result = migrate(["hr.yaml"], H3)
    assert [(f.line, "overrode" in f.message) for f in result.by_level("warning")
            if "chartFileRef" in f.message] == [(15, True)]


def test_external_source_ref_keeps_the_release_on_v1(work: Path) -> None:
    text = _ho("  - externalSourceRef:\n      url: https://example.com/values.yaml\n")
    put(work, {"hr.yaml": text})
    result = migrate(["hr.yaml"], H3, write=True)
    assert (work / "hr.yaml").read_text() == text
    assert where(result, "manual") == [("hr.yaml", 13)]
    assert "example.com" not in format_text(result)


# -- lesser: comments and formatting ------------------------------------------------------------

KS = """\
apiVersion: kustomize.toolkit.fluxcd.io/v1beta2
kind: Kustomization
metadata:
  name: apps
  namespace: flux-system
spec:
  interval: 10m
  prune: true
  # Enable decryption
  validation: client   # server-side now
  # above decryption
  \n  # still above decryption
  decryption:
    provider: sops
  sourceRef:
    kind: GitRepository
    name: flux-system
"""


def test_comments_of_a_removed_field_stay_in_place(work: Path) -> None:
    put(work, {"ks.yaml": KS})
    result = migrate(["ks.yaml"])
    assert out(result, "ks.yaml") == KS.replace("v1beta2", "v1").replace(
        "  validation: client   # server-side now\n", "  # server-side now\n")


def test_whitespace_only_comment_lines_survive_an_apiversion_change(work: Path) -> None:
    text = ("# header\n#   \n\t\n# more\napiVersion: source.toolkit.fluxcd.io/v1beta2\n"
            "# between\n   \n# lines\nkind: HelmRepository\nmetadata:\n  name: r\nspec:\n"
            "  interval: 1h\n  url: https://x.example.com\n")
    put(work, {"r.yaml": text})
    assert out(migrate(["r.yaml"]), "r.yaml") == text.replace("v1beta2", "v1")


def test_only_edited_fields_change_bytes(work: Path) -> None:
    text = ("apiVersion: helm.toolkit.fluxcd.io/v2beta1\nkind: HelmRelease\nmetadata:\n"
            "  name: web\n  namespace: apps\nspec:\n  interval: 5m\n  chart:\n    spec:\n"
            "      chart: web\n      valuesFile: a.yaml\n      sourceRef:\n"
            "        kind: HelmRepository\n        name: web\n  install:\n    skipCRDs: True\n"
            "  values:\n    flag: True\n    nothing: null\n    tilde: ~\n    folded: >\n"
            "      a long\n      folded text\n    plain: a multi\n      line plain\n"
            "    list:\n    - a\n    -   b\n    nested:\n        - x\n    trailing: x   \n"
            "    quoted: 'y'  \n")
    put(work, {"hr.yaml": text})
    new = out(migrate(["hr.yaml"]), "hr.yaml")
    head, _, values = text.partition("  values:\n")
    assert new.endswith("  values:\n" + values)
    assert new == text.replace("v2beta1", "v2").replace(
        "      valuesFile: a.yaml\n", "      valuesFiles:\n      - a.yaml\n").replace(
        "    skipCRDs: True\n", "    crds: Skip\n")


# -- lesser: report noise and notes -------------------------------------------------------------

def test_disabled_automation_gets_no_suggestion_and_typo_prefix_is_named(work: Path) -> None:
    put(work, {"d.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n"
                         "  annotations:\n    fluxcd.io/automated: \"false\"\n"
                         "    fluxcd.io/tag.web: glog:1.*\n    fluxcd.io/locked: 'false'\n"})
    result = migrate(["d.yaml"])
    warnings = result.by_level("warning")
    assert [w.line for w in warnings] == [7]
    assert "no known filter prefix" in warnings[0].suggestion
    assert "glog" not in format_text(result)
    assert not any("ImageUpdateAutomation" in f.suggestion for f in result.findings)


def test_install_remediation_note(work: Path) -> None:
    put(work, {"hr.yaml": _ho("  - secretKeyRef:\n      name: s\n")})
    result = migrate(["hr.yaml"], H3)
    notes = [f for f in result.by_level("note") if "uninstalled a failed install" in f.message]
    assert len(notes) == 1 and "install.remediation.retries" in notes[0].suggestion


SHARED_SOURCE = """\
apiVersion: source.toolkit.fluxcd.io/v1beta2
kind: HelmRepository
metadata:
  name: charts
  namespace: flux-system
spec:
  interval: 1h
  url: https://c.example.com
"""
BETA_CROSS = """\
apiVersion: helm.toolkit.fluxcd.io/v2beta2
kind: HelmRelease
metadata:
  name: web
  namespace: apps
spec:
  interval: 5m
  chart:
    spec:
      chart: web
      sourceRef:
        kind: HelmRepository
        name: charts
        namespace: flux-system
"""


def test_cross_namespace_refs_flagged_and_avoided_with_the_option(work: Path) -> None:
    put(work, {"src.yaml": SHARED_SOURCE, "ho.yaml": _ho("  - secretKeyRef:\n      name: s\n"),
               "beta.yaml": BETA_CROSS})
    result = migrate(["."], H3)
    flagged = [(f.path, f.line, f.level) for f in result.findings
               if "--no-cross-namespace-refs" in f.message]
    assert flagged == [("beta.yaml", 14, "warning"), ("ho.yaml", 9, "warning")]
    (ho, *extra) = load_roundtrip_all(out(result, "ho.yaml"))
    assert ho["spec"]["chart"]["spec"]["sourceRef"]["namespace"] == "flux-system" and not extra
    strict = migrate(["."], Options(assume_helm3=True, no_cross_namespace_refs=True))
    (ho, src) = load_roundtrip_all(out(strict, "ho.yaml"))
    assert "namespace" not in ho["spec"]["chart"]["spec"]["sourceRef"]
    assert src["metadata"]["namespace"] == "apps" and src["kind"] == "HelmRepository"
    assert where(strict, "manual") == [("beta.yaml", 14)]


def test_non_utf8_file_gets_a_line(work: Path) -> None:
    put(work, {"latin1.yaml": b"apiVersion: v1\nkind: ConfigMap\ndata:\n  a: caf\xe9\n",
               "flux.yaml": b"apiVersion: helm.fluxcd.io/v1\nkind: HelmRelease\n# \xff\n"})
    result = migrate(["."])
    assert where(result, "warning") == [("latin1.yaml", 4)]
    assert where(result, "error") == [("flux.yaml", 3)]
    assert "column 9" in result.by_level("warning")[0].message


# -- exit codes and untouched files -------------------------------------------------------------

def test_write_with_manual_steps_left_writes_what_it_can_and_exits_1(work: Path) -> None:
    put(work, {"ok.yaml": HELMCHART, "helm2.yaml": BASE_HO})
    result = migrate(["."], write=True)
    assert "source.toolkit.fluxcd.io/v1\n" in (work / "ok.yaml").read_text()
    assert (work / "helm2.yaml").read_text() == BASE_HO
    assert result.written and result.needs_manual and result.exit_code() == 1
    assert json.loads(format_json(result))["exit_code"] == 1


def test_unreadable_file_exits_2_and_the_rest_is_processed(work: Path) -> None:
    put(work, {"ok.yaml": HELMCHART})
    (work / "dangling.yaml").symlink_to("missing.yaml")
    result = migrate(["."], write=True)
    assert where(result, "error") == [("dangling.yaml", 0)]
    assert "source.toolkit.fluxcd.io/v1\n" in (work / "ok.yaml").read_text()
    assert result.exit_code() == 2


NON_FLUX = {
    "crlf.yaml": b"apiVersion: v1\r\nkind: ConfigMap\r\nmetadata:\r\n  name: x\r\ndata:\r\n"
                 b"  a: True   \r\n  b: null",
    "tabs.yaml": b"a: 1\t\nb:\tc\n",
    "list.yaml": b"- a\n-   b\n- {c: d}\n",
    "values.yaml": b"image:\n  tag: 1.0  # pinned\nfolded: >\n  x\n  y\n",
    "kustomization.yaml": b"resources:\n- a.yaml\nnamespace: apps\n",
    "empty.yaml": b"",
    "comments.yaml": b"# only a comment\n",
}


def test_files_without_flux_objects_are_byte_identical(work: Path) -> None:
    put(work, NON_FLUX)
    for path in work.iterdir():
        os.utime(path, (1_000_000, 1_000_000))
    result = migrate(["."], H3, write=True)
    assert result.changed_files == [] and result.exit_code() == 0, format_text(result)
    for name, data in NON_FLUX.items():
        assert (work / name).read_bytes() == data
        assert (work / name).stat().st_mtime == 1_000_000


def test_unknown_toolkit_group_is_a_warning_with_a_guess(work: Path) -> None:
    put(work, {"ks.yaml": "apiVersion: kustomization.toolkit.fluxcd.io/v1beta2\n"
                          "kind: Kustomization\nmetadata:\n  name: x\n",
               "crd.yaml": "apiVersion: crd-upgrades.helmreleases.helm.toolkit.fluxcd.io/v2beta1\n"
                           "kind: CrdUpgradeTest\nmetadata:\n  name: x\n"})
    result = migrate(["."])
    assert where(result, "warning") == [("crd.yaml", 1), ("ks.yaml", 1)]
    guess = [f.suggestion for f in result.findings if f.path == "ks.yaml"]
    assert guess == ["did you mean kustomize.toolkit.fluxcd.io?"]
    assert not result.has_errors and result.changed_files == []


def test_template_placeholders_in_names_do_not_break_labels(work: Path) -> None:
    put(work, {"hr.yaml": "apiVersion: helm.toolkit.fluxcd.io/v2beta1\nkind: HelmRelease\n"
                          "metadata:\n  name: {{ .name }}\n  namespace: {{ .ns }}\nspec:\n"
                          "  values: {}\n"})
    result = migrate(["hr.yaml"])
    assert result.plans[0].obj == "HelmRelease ?/? (patch)"


@pytest.mark.parametrize("kind", ["Bucket", "HelmChart", "GitRepository"])
def test_access_from_dropped_where_v1_has_none(work: Path, kind: str) -> None:
    spec = {"Bucket": "  bucketName: b\n  endpoint: e\n",
            "HelmChart": "  chart: c\n  sourceRef: {kind: HelmRepository, name: r}\n",
            "GitRepository": "  url: https://x/y\n"}[kind]
    put(work, {"s.yaml": f"apiVersion: source.toolkit.fluxcd.io/v1beta2\nkind: {kind}\n"
                         f"metadata:\n  name: s\nspec:\n  interval: 1m\n{spec}"
                         "  accessFrom:\n    namespaceSelectors:\n      - matchLabels: {a: b}\n"})
    result = migrate(["s.yaml"])
    assert not result.has_errors and "accessFrom" not in out(result, "s.yaml")
