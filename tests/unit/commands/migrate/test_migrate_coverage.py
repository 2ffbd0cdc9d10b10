"""docs/migrate.md's table comes from dlaas_gen.commands.migrate.coverage; every row holds."""

from __future__ import annotations

from pathlib import Path

import pytest

from dlaas_gen.commands.migrate import Options, migrate
from dlaas_gen.commands.migrate.coverage import (
    CONVERTED,
    KEPT,
    MANUAL,
    REFUSED,
    ROWS,
    coverage_markdown,
)
from tests.conftest import REPO

DOC = REPO / "docs" / "migrate.md"


def _ho(spec: str, meta: str = "  namespace: apps\n") -> str:
    return (
        f"apiVersion: helm.fluxcd.io/v1\nkind: HelmRelease\nmetadata:\n  name: app\n{meta}"
        f"spec:\n{spec}"
    )


REPO_CHART = "  chart:\n    repository: https://c.example.com\n    name: app\n    version: 1.0.0\n"
H3 = "  helmVersion: v3\n"


def _beta(api: str, kind: str, spec: str) -> str:
    return f"apiVersion: {api}\nkind: {kind}\nmetadata:\n  name: x\n  namespace: n\nspec:\n{spec}"


KS_SPEC = (
    "  interval: 1m\n  prune: true\n  path: ./x\n  sourceRef:\n    kind: GitRepository\n"
    "    name: s\n"
)

#: row id → (files, options); the file checked is the first one.
EXAMPLES: dict[str, tuple[dict[str, str], Options]] = {
    "ho-repo": ({"a.yaml": _ho(H3 + REPO_CHART)}, Options()),
    "ho-git": (
        {
            "a.yaml": _ho(
                H3 + "  chart:\n    git: https://github.com/x/y\n    ref: main\n"
                "    path: charts/app\n"
            )
        },
        Options(),
    ),
    "ho-oci": (
        {
            "a.yaml": _ho(
                H3 + "  chart:\n    repository: oci://ghcr.io/x\n    name: app\n"
                "    version: 1.0.0\n"
            )
        },
        Options(),
    ),
    "ho-values": (
        {
            "a.yaml": _ho(
                H3 + REPO_CHART + "  valueFileSecrets:\n  - name: s\n"
                "  valuesFrom:\n  - configMapKeyRef: {name: c, key: v.yaml}\n"
            )
        },
        Options(),
    ),
    "ho-chartfile": (
        {"a.yaml": _ho(H3 + REPO_CHART + "  valuesFrom:\n  - chartFileRef: {path: prod.yaml}\n")},
        Options(),
    ),
    "ho-behaviour": (
        {
            "a.yaml": _ho(
                H3 + REPO_CHART + "  timeout: 300\n  wait: true\n"
                "  forceUpgrade: true\n  resetValues: false\n"
                "  rollback: {enable: true, retry: true}\n"
            )
        },
        Options(),
    ),
    "ho-patch": ({"a.yaml": _ho("  values: {a: 1}\n", meta="")}, Options()),
    "annotations": (
        {
            "a.yaml": "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\n"
            "  annotations:\n    fluxcd.io/ignore: 'false'\n"
        },
        Options(),
    ),
    "beta-helm": (
        {
            "a.yaml": _beta(
                "helm.toolkit.fluxcd.io/v2beta1",
                "HelmRelease",
                "  interval: 1m\n  chart:\n    spec:\n      chart: x\n"
                "      valuesFile: a.yaml\n      sourceRef: {kind: "
                "HelmRepository, name: r}\n  install: {skipCRDs: true}\n",
            )
        },
        Options(),
    ),
    "beta-kustomize": (
        {
            "a.yaml": _beta(
                "kustomize.toolkit.fluxcd.io/v1beta1",
                "Kustomization",
                KS_SPEC + "  validation: client\n",
            )
        },
        Options(),
    ),
    "beta-source": (
        {
            "a.yaml": _beta(
                "source.toolkit.fluxcd.io/v1beta1",
                "GitRepository",
                "  interval: 1m\n  url: https://x/y\n  gitImplementation: go-git\n",
            )
        },
        Options(),
    ),
    "beta-notification": (
        {
            "a.yaml": _beta(
                "notification.toolkit.fluxcd.io/v1beta2",
                "Alert",
                "  summary: s\n  providerRef: {name: p}\n  eventSources: []\n",
            )
        },
        Options(),
    ),
    "beta-image": (
        {
            "a.yaml": _beta(
                "image.toolkit.fluxcd.io/v1beta2",
                "ImagePolicy",
                "  imageRepositoryRef: {name: x}\n",
            )
        },
        Options(),
    ),
    "alpha": (
        {
            "a.yaml": _beta(
                "helm.toolkit.fluxcd.io/v2alpha1",
                "HelmRelease",
                "  interval: 1m\n  chart:\n    spec:\n      chart: x\n"
                "      sourceRef: {kind: HelmRepository, name: r}\n",
            )
        },
        Options(),
    ),
    "beta-patch": (
        {"a.yaml": _beta("helm.toolkit.fluxcd.io/v2beta2", "HelmRelease", "  values: {a: 1}\n")},
        Options(),
    ),
    "kustomize-refs": (
        {
            "kustomization.yaml": "patches:\n- target: {group: helm.toolkit.fluxcd.io,"
            " version: v2beta1, kind: HelmRelease}\n"
            "  patch: '[]'\n"
        },
        Options(),
    ),
    "flux-patches": (
        {
            "a.yaml": _beta(
                "kustomize.toolkit.fluxcd.io/v1",
                "Kustomization",
                KS_SPEC + "  patches:\n  - target: {kind: Kustomization, "
                "version: v1beta2}\n    patch: '[]'\n",
            )
        },
        Options(),
    ),
    "helm2": ({"a.yaml": _ho(REPO_CHART)}, Options()),
    "git-no-path": (
        {"a.yaml": _ho(H3 + "  chart:\n    git: https://github.com/x/y\n    name: app\n")},
        Options(),
    ),
    "external-source": (
        {
            "a.yaml": _ho(
                H3 + REPO_CHART + "  valuesFrom:\n  - externalSourceRef:"
                " {url: 'https://x/v.yaml'}\n"
            )
        },
        Options(),
    ),
    "cross-ns-values": (
        {
            "a.yaml": _ho(
                H3 + REPO_CHART + "  valuesFrom:\n  - secretKeyRef: {name: s, namespace: other}\n"
            )
        },
        Options(),
    ),
    "ssh-git": (
        {"a.yaml": _ho(H3 + "  chart:\n    git: git@github.com:x/y\n    path: c\n")},
        Options(),
    ),
    "pair": ({"patch.yaml": _ho("  values: {a: 1}\n"), "base.yaml": _ho(REPO_CHART)}, Options()),
    "cross-ns-source": (
        {
            "a.yaml": _beta(
                "kustomize.toolkit.fluxcd.io/v1beta2",
                "Kustomization",
                KS_SPEC + "    namespace: flux-system\n",
            )
        },
        Options(no_cross_namespace_refs=True),
    ),
    "alpha-invalid": (
        {
            "a.yaml": _beta(
                "image.toolkit.fluxcd.io/v1alpha1",
                "ImagePolicy",
                "  imageRepositoryRef: {name: x}\n",
            )
        },
        Options(),
    ),
    "legacy": (
        {
            "a.yaml": "apiVersion: helm.integrations.flux.weave.works/v1alpha2\n"
            "kind: FluxHelmRelease\nmetadata:\n  name: x\nspec:\n"
            "  chartGitPath: x\n"
        },
        Options(),
    ),
    "unknown-version": (
        {"a.yaml": _beta("kustomize.toolkit.fluxcd.io/v2", "Kustomization", KS_SPEC)},
        Options(),
    ),
    "invalid-result": (
        {
            "a.yaml": _beta(
                "kustomize.toolkit.fluxcd.io/v1beta2", "Kustomization", KS_SPEC + "  bogus: 1\n"
            )
        },
        Options(),
    ),
    "unparseable-flux": ({"a.yaml": "apiVersion: helm.fluxcd.io/v1\nkind: [\n"}, Options()),
    "unparseable-other": ({"a.yaml": "a: [\n"}, Options()),
    "tab": (
        {"a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: b\t\n"},
        Options(),
    ),
    "template": ({"a.yaml.j2": "apiVersion: helm.fluxcd.io/v1\n{{ x }}\n"}, Options()),
    "current": (
        {
            "a.yaml": _beta(
                "notification.toolkit.fluxcd.io/v1beta4",
                "Alert",
                "  providerRef: {name: p}\n  eventSources: []\n",
            )
        },
        Options(),
    ),
}


def test_docs_page_carries_the_generated_table() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert coverage_markdown() in text, (
        "docs/migrate.md is stale: run `.venv/bin/python -m dlaas_gen.commands.migrate.coverage "
        "docs/migrate.md`"
    )


def test_every_row_has_an_example() -> None:
    assert [row.id for row in ROWS] == list(EXAMPLES)
    assert {row.outcome for row in ROWS} == {CONVERTED, MANUAL, REFUSED, KEPT}


@pytest.mark.parametrize("row", ROWS, ids=[row.id for row in ROWS])
def test_row_outcome_holds(row, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files, options = EXAMPLES[row.id]
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    monkeypatch.chdir(tmp_path)
    result = migrate(["."], options)
    first = next(iter(files))
    mine = [f for f in result.findings if f.path == first]
    changed = first in {f.path for f in result.changed_files}
    levels = {f.level for f in mine}
    if row.outcome == CONVERTED:
        assert changed and "error" not in levels, [f.format() for f in mine]
        assert "manual" not in levels
    elif row.outcome == MANUAL:
        assert "manual" in levels and "error" not in levels, [f.format() for f in mine]
    elif row.outcome == REFUSED:
        assert "error" in levels and not changed
    else:
        assert not changed and "error" not in levels and "manual" not in levels
