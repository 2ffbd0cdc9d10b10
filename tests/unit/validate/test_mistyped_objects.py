"""validate_tree on hand-written objects of the wrong shape: problems, never a crash.

Why: ``dlaas-gen validate`` reads any tree; a field that holds text, a number or nothing where
its schema wants a mapping or a list must be reported (exit 1), not end in an internal error
(exit 3). The rules and the policy see only the objects their schemas accepted.
"""

from __future__ import annotations

import copy
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from dlaas_gen import yamlio
from dlaas_gen.cli import app
from dlaas_gen.context import SiteInput, build_context
from dlaas_gen.loader import load_site
from dlaas_gen.manifest import Manifest
from dlaas_gen.pipeline import build_site, policy_settings
from dlaas_gen.problem import Problem
from dlaas_gen.validate import validate_tree
from tests.conftest import REPO

SITE = REPO / "sites" / "escape.yaml"
#: What a hand-written file may hold where a mapping or a list belongs.
WRONG = ("text", 7, None, [1], {})


def container_paths(node: Any, prefix: tuple[Any, ...] = (), depth: int = 0
                    ) -> Iterator[tuple[Any, ...]]:
    """Paths to every mapping and list (the first two items of each list), to depth 6."""
    if depth > 5:
        return
    items = node.items() if isinstance(node, dict) else enumerate(node[:2])
    for key, value in items:
        if isinstance(value, dict | list):
            yield (*prefix, key)
            yield from container_paths(value, (*prefix, key), depth + 1)


def replaced(m: Manifest, path: tuple[Any, ...], value: Any) -> Manifest:
    doc = copy.deepcopy(m.doc)
    node = doc
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return Manifest(doc=doc, text=m.text, path=m.path, template=m.template, section=m.section)


@pytest.mark.slow  # about 1,100 trees validated with the policy: 20 s
def test_every_mapping_or_list_replaced_by_a_scalar_gives_problems_not_a_crash() -> None:
    tree = build_site(SITE).manifests
    site = load_site(SITE, beside=True)
    assert site.chart is not None
    ctx = build_context(SiteInput(site.name, site.config, cric_origins=site.cric_origins,
                                  chart_defaults=site.chart.defaults))
    policy = policy_settings(site.config, ctx, REPO / "charts")
    cases = 0
    for index, m in enumerate(tree):
        for path in container_paths(m.doc):
            for value in WRONG:
                bad = [*tree[:index], replaced(m, path, value), *tree[index + 1:]]
                found = validate_tree(bad, site.config.kubernetes_version, policy=policy)
                assert all(isinstance(p, Problem) for p in found)
                cases += 1
    assert cases > 1000


@pytest.mark.parametrize(("field", "value"), [
    ("metadata", "text"),
    ("spec", "text"),
    ("spec.values", 7),
    ("spec.values.singleuser", "text"),
    ("spec.values.singleuser.storage", "text"),
])
def test_validate_cli_reports_a_mistyped_release_and_exits_1(
    runner: CliRunner, tmp_path: Path, field: str, value: Any, monkeypatch: pytest.MonkeyPatch,
) -> None:
    shutil.copytree(REPO / "rendered" / "escape", tmp_path / "escape")
    release = tmp_path / "escape" / "apps" / "helmrelease-jhub.yaml"
    doc = yamlio.load_fast(release.read_text())
    *parents, last = field.split(".")
    node = doc
    for key in parents:
        node = node[key]
    node[last] = value
    release.write_text(yamlio.dump_doc(doc))
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["validate", "escape"])
    assert result.exit_code == 1, result.output
    assert "helmrelease-jhub.yaml" in result.output and "Traceback" not in result.output
