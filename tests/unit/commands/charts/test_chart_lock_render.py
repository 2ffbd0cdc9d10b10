"""Render with a chart lock: the pinned version's defaults and schema, offline, no false errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests

from dlaas_gen.commands.charts.pull import pull_chart
from dlaas_gen.errors import ConfigError, ProblemsError
from dlaas_gen.pipeline import build_site, render_sites
from tests.conftest import write_site
from tests.support.helm_repo import VERSION, build_chart, serve, z2jh_schema, z2jh_values_text

SITE = """# yaml-language-server: $schema=site.schema.json
namespace: lab
chart:
  release_name: lab
  version: {version}
singleuser:
  image:
    name: quay.io/jupyter/minimal-notebook
    tag: "2024-12-23"
"""
#: Where ``version:`` is in SITE (line 5, value at column 12).
VERSION_AT = (5, 12)
POLICY_RULES = ("NET001", "USER001", "USER002", "ESC001", "values-schema", "chart-lock")


def site_file(tmp_path: Path, version: str = VERSION) -> Path:
    return write_site(tmp_path / "sites", "lab", SITE.format(version=version))


def lock(tmp_path: Path, httpserver, data: bytes, version: str = VERSION) -> Path:
    url = serve(httpserver, {version: data})
    return pull_chart(url, "jupyterhub", version, tmp_path / "charts", sleep=lambda _s: None).folder


def errors(built) -> list[str]:
    return [p.format() for p in built.problems if p.is_error]


def test_pull_then_render_offline(tmp_path, httpserver, monkeypatch) -> None:
    lock(tmp_path, httpserver, build_chart())
    httpserver.clear()

    def refuse(*_args, **_kwargs):
        raise AssertionError("render made a network request")

    monkeypatch.setattr(requests.Session, "request", refuse)
    built = build_site(site_file(tmp_path), tmp_path / "rendered")
    assert errors(built) == []
    # The same chart content under 4.4.0 (vendored) finds exactly the same problems.
    same = build_site(site_file(tmp_path / "b", "4.4.0"), tmp_path / "b" / "rendered")
    assert [(p.rule, p.message) for p in built.problems] == [
        (p.rule, p.message) for p in same.problems]
    assert not [p for p in built.problems if p.rule in POLICY_RULES]
    release = next(m for m in built.manifests if m.kind == "HelmRelease")
    assert release.doc["spec"]["chart"]["spec"]["version"] == VERSION
    assert httpserver.log == []


def test_unlocked_version_is_one_line_naming_the_command(tmp_path) -> None:
    path = site_file(tmp_path)
    with pytest.raises(ProblemsError) as caught:
        render_sites(tmp_path / "sites", (), tmp_path / "rendered")
    (problem,) = caught.value.problems
    assert (problem.path, problem.line, problem.col, problem.rule) == (str(path), *VERSION_AT,
                                                                        "chart-lock")
    assert "jupyterhub chart 4.3.9 is not locked" in problem.message
    assert "run `dlaas-gen chart pull lab`" in problem.message
    assert not (tmp_path / "rendered").exists()


def test_vendored_version_needs_no_lock(tmp_path) -> None:
    built = build_site(site_file(tmp_path, "4.4.0"), tmp_path / "rendered")
    assert errors(built) == []
    assert not (tmp_path / "charts").exists()


def test_the_locked_defaults_are_the_ones_used(tmp_path, httpserver) -> None:
    # This chart version disables the hub's NetworkPolicy by default: the policy must see it.
    values = z2jh_values_text().replace("  networkPolicy:\n    enabled: true",
                                        "  networkPolicy:\n    enabled: false", 1)
    lock(tmp_path, httpserver, build_chart(values_text=values))
    built = build_site(site_file(tmp_path), tmp_path / "rendered")
    assert [p.message for p in built.problems if p.rule == "NET001"] == [
        "HelmRelease lab/lab: hub.networkPolicy is disabled (in apps/helmrelease-lab.yaml:51:5)"]


def test_the_locked_schema_is_the_one_used(tmp_path, httpserver) -> None:
    schema = z2jh_schema()
    del schema["properties"]["singleuser"]["properties"]["defaultUrl"]
    lock(tmp_path, httpserver, build_chart(schema=schema))
    built = build_site(site_file(tmp_path), tmp_path / "rendered")
    found = [p for p in built.problems if p.rule == "values-schema"]
    assert len(found) == 1 and "'defaultUrl' was unexpected" in found[0].message
    # 4.4.0 (vendored) knows the key.
    assert not [p for p in build_site(site_file(tmp_path, "4.4.0"), tmp_path / "r2").problems
                if p.rule == "values-schema"]


def test_a_broken_lock_is_an_error_at_the_lock_file(tmp_path, httpserver) -> None:
    folder = lock(tmp_path, httpserver, build_chart())
    (folder / "values.schema.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        build_site(site_file(tmp_path), tmp_path / "rendered")
    (problem,) = caught.value.problems
    assert problem.path == str(folder / "values.schema.json") and problem.rule == "chart-lock"
    assert "run `dlaas-gen chart pull` again" in problem.message


def test_a_lock_replaces_the_vendored_copy(tmp_path, httpserver) -> None:
    schema = z2jh_schema()
    schema["properties"]["singleuser"]["properties"].pop("startTimeout")
    lock(tmp_path, httpserver, build_chart("4.4.0", schema=schema), "4.4.0")
    locked = tmp_path / "charts/jupyterhub-4.4.0/values.schema.json"
    assert json.loads(locked.read_text()) == schema
    built = build_site(site_file(tmp_path, "4.4.0"), tmp_path / "rendered")
    assert any("'startTimeout' was unexpected" in p.message for p in built.problems)
