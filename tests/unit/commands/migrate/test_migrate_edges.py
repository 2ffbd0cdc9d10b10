"""Edge cases: bad files, templates, Helm 2, unchanged files, validation, kustomize refs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dlaas_gen.commands.migrate import Options, format_json, format_text, migrate
from dlaas_gen.commands.migrate.docs import detect_indent, split_documents
from dlaas_gen.commands.migrate.validation import validate_object
from dlaas_gen.errors import UsageError
from dlaas_gen.yamlio import load_roundtrip

V1 = """apiVersion: helm.fluxcd.io/v1
kind: HelmRelease
metadata:
  name: app
  namespace: apps
spec:
  helmVersion: v3
  chart:
    repository: https://charts.example.com
    name: app
    version: 1.0.0
"""


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_merge_conflict_is_an_error_with_line_and_others_still_run(work: Path) -> None:
    (work / "a.yaml").write_text("apiVersion: helm.fluxcd.io/v1\n<<<<<<< HEAD\nb: 2\n=======\n"
                                 "b: 3\n>>>>>>> x\n")
    (work / "b.yaml").write_text(V1)
    (work / "c.yaml").write_text("a: 1\n<<<<<<< HEAD\nb: 2\n=======\nb: 3\n>>>>>>> x\n")
    result = migrate(["."])
    errors = result.by_level("error")
    assert [(e.path, e.line) for e in errors] == [("a.yaml", 2)]
    assert "merge-conflict" in errors[0].message
    # no Flux API named: nothing to migrate in it, a warning (kustomize refuses it anyway)
    assert [(w.path, w.line) for w in result.by_level("warning") if w.path == "c.yaml"] == [
        ("c.yaml", 2)]
    assert [f.path for f in result.changed_files] == ["b.yaml"]
    assert result.exit_code() == 1


def test_invalid_yaml_names_file_and_line(work: Path) -> None:
    (work / "bad.yaml").write_text(
        "---\nkind: X\n---\napiVersion: source.toolkit.fluxcd.io/v1beta2\na: [1, 2\nb: 3\n"
    )
    result = migrate(["bad.yaml"])
    (error,) = result.by_level("error")
    assert error.path == "bad.yaml" and error.line in (5, 6)
    assert error.format().startswith(f"bad.yaml:{error.line}: error: invalid YAML")


def test_templates_are_skipped_with_a_note(work: Path) -> None:
    (work / "hr.yaml.j2").write_text("apiVersion: helm.fluxcd.io/v1\n{% if x %}\n")
    (work / "tpl.yaml").write_text("apiVersion: helm.fluxcd.io/v1\n{{- if .X }}\nkind: [\n")
    result = migrate(["."])
    notes = {f.path: f.message for f in result.by_level("note")}
    assert "skipped" in notes["hr.yaml.j2"] and "skipped" in notes["tpl.yaml"]
    assert not result.has_errors and result.exit_code() == 0


def test_helm2_and_unset_helm_version_are_manual(work: Path) -> None:
    (work / "hr.yaml").write_text(V1.replace("helmVersion: v3", "helmVersion: v2"))
    result = migrate(["hr.yaml"])
    (step,) = result.by_level("manual")
    assert step.line == 7 and "helm-2to3" in step.suggestion
    assert result.changed_files == []
    (work / "hr.yaml").write_text(V1.replace("  helmVersion: v3\n", ""))
    assert migrate(["hr.yaml"]).by_level("manual")[0].line == 2
    assumed = migrate(["hr.yaml"], Options(assume_helm3=True))
    assert len(assumed.changed_files) == 1
    assert any("--assume-helm3" in f.message for f in assumed.by_level("warning"))


def test_unchanged_file_is_never_rewritten(work: Path) -> None:
    path = work / "cm.yaml"
    path.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n")
    os.utime(path, (1_000_000, 1_000_000))
    result = migrate(["."], write=True)
    assert result.changed_files == [] and result.exit_code() == 0
    assert path.stat().st_mtime == 1_000_000


def test_write_then_exit_zero_and_dry_run_exit_one(work: Path) -> None:
    (work / "hr.yaml").write_text(V1)
    assert migrate(["hr.yaml"]).exit_code() == 1
    assert migrate(["hr.yaml"], write=True).exit_code() == 0
    assert migrate(["hr.yaml"]).exit_code() == 0


@pytest.mark.usefixtures("work")
def test_usage_errors() -> None:
    with pytest.raises(UsageError):
        migrate(["missing"])
    with pytest.raises(UsageError):
        migrate(["."], write=True, out="o")


def test_annotations_removed_from_any_document(work: Path) -> None:
    (work / "d.yaml").write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  annotations:\n"
        "    fluxcd.io/automated: 'true'\n    fluxcd.io/tag.web: semver:~1.0\n"
        "spec:\n  replicas: 1\n"
    )
    result = migrate(["d.yaml"])
    text = result.changed_files[0].migrated
    assert (
        text
        == "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 1\n"
    )
    lines = [(f.line, f.message) for f in result.by_level("change")]
    assert lines == [
        (6, "removed Flux v1 annotation fluxcd.io/automated"),
        (7, "removed Flux v1 annotation fluxcd.io/tag.web"),
    ]
    hints = [f.suggestion for f in result.by_level("warning")]
    assert any("ImageUpdateAutomation" in h for h in hints)
    assert any("spec.policy.semver.range set to the annotation's range" in h for h in hints)
    assert not any("~1.0" in f.format() for f in result.findings)


def test_transformer_field_specs_are_not_migrated_as_objects(work: Path) -> None:
    text = (
        "apiVersion: builtin\nkind: AnnotationsTransformer\nmetadata:\n  name: notes\n"
        "annotations:\n  team: a\nfieldSpecs:\n  - apiVersion: helm.fluxcd.io/v1\n"
        "    kind: HelmRelease\n    path: spec/values/podAnnotations\n"
    )
    (work / "t.yaml").write_text(text)
    out = migrate(["t.yaml"]).changed_files[0].migrated
    assert out == text.replace("helm.fluxcd.io/v1", "helm.toolkit.fluxcd.io/v2")
    assert out.startswith("apiVersion: builtin\nkind: AnnotationsTransformer\n")


def test_partial_patch_maps_fields_and_invents_nothing(work: Path) -> None:
    (work / "p.yaml").write_text(
        "apiVersion: helm.fluxcd.io/v1\nkind: HelmRelease\nmetadata:\n"
        "  name: app\nspec:\n  chart:\n    version: 2.0.0\n  timeout: 30\n"
    )
    doc = load_roundtrip(migrate(["p.yaml"]).changed_files[0].migrated)
    assert doc["spec"] == {"chart": {"spec": {"version": "2.0.0"}}, "timeout": "30s"}


def test_schema_and_cel_checks() -> None:
    doc = load_roundtrip(
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\n"
        "metadata: {name: x}\nspec:\n  interval: 5m\n  releaseName: x\n"
    )
    messages = [m for _, _, m in validate_object(doc)]
    assert any("either chart or chartRef" in m for m in messages)
    doc["spec"]["bogus"] = 1
    assert any("bogus" in m for _, _, m in validate_object(doc, partial=True))


def test_split_and_indent_helpers() -> None:
    text = "# head\na: 1\n---\n# c\nb: 2\n...\n--- # x\nc: [1]\n"
    parts = split_documents(text)
    assert "".join(h + b + t for h, b, t, _ in parts) == text
    assert [p[3] for p in parts] == [2, 5, 8]
    assert detect_indent("a:\n- x\nb:\n  c: 1\n") == (2, 2, 0)
    assert detect_indent("a:\n    b:\n      - x\n") == (4, 4, 2)


def test_reports_render(work: Path) -> None:
    (work / "hr.yaml").write_text(V1)
    result = migrate(["hr.yaml"])
    text = format_text(result)
    assert text.splitlines()[0] == (
        "hr.yaml:1: HelmRelease apps/app: apiVersion helm.fluxcd.io/v1 → helm.toolkit.fluxcd.io/v2"
    )
    assert "1 file(s) would change" in text
    assert '"exit_code": 1' in format_json(result)
    scan = format_text(result, scan=True)
    assert scan.startswith(
        "hr.yaml:1: HelmRelease apps/app: helm.fluxcd.io/v1 -> "
        "helm.toolkit.fluxcd.io/v2: chart app from HelmRepository"
    )


def test_emitter_output_is_checked_against_the_migrated_document(
    work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dlaas_gen.commands.migrate.docs as docs

    monkeypatch.setattr(docs, "emit_changed", lambda *_args, **_kwargs: "broken: [\n")
    (work / "hr.yaml").write_text(V1)
    text = migrate(["hr.yaml"], Options(assume_helm3=True)).changed_files[0].migrated or ""
    assert "broken" not in text
    assert load_roundtrip(text.split("---\n")[0])["apiVersion"] == "helm.toolkit.fluxcd.io/v2"
