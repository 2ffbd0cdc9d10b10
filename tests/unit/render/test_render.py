"""The render stage: every output re-parsed at its planned path; a wrong object is an error."""

from __future__ import annotations

from pathlib import Path

import jinja2
import pytest

from dlaas_gen.context import ObjectSpec
from dlaas_gen.context.template_vars import ConfigMapVars
from dlaas_gen.manifest import ResourceKey
from dlaas_gen.pipeline import build_site
from dlaas_gen.render import render_object
from dlaas_gen.templating import TemplateError, make_environment
from tests.conftest import FIXTURES


@pytest.mark.parametrize("site", ["minimal", "maximal", "maximal-variants"])
def test_every_rendered_file_is_parsed_yaml_at_its_planned_path(site: str) -> None:
    built = build_site(FIXTURES / "sites" / f"{site}.yaml")
    assert [p.format() for p in built.problems if p.is_error] == []
    assert built.manifests, "a site renders objects"
    for manifest in built.manifests:
        assert manifest.text.endswith("\n")
        assert built.plan[manifest.path].decode() == manifest.text
        if manifest.path.rsplit("/", 1)[-1] != "kustomization.yaml":
            kind, name = manifest.doc["kind"], manifest.doc["metadata"]["name"]
            assert manifest.path.endswith(f"{kind.lower()}-{name}.yaml"), manifest.path


def _spec(tmp_path: Path, text: str, name: str = "cm") -> tuple[ObjectSpec, jinja2.Environment]:
    (tmp_path / "core").mkdir(exist_ok=True)
    (tmp_path / "core" / "configmap.yaml.j2").write_text(text, encoding="utf-8")
    make_environment.cache_clear()
    env = make_environment(tmp_path)
    variables = ConfigMapVars(name=name, namespace="ns", labels={}, data={})
    return ObjectSpec("apps", variables), env


def test_a_template_that_renders_another_object_is_an_error(tmp_path: Path) -> None:
    spec, env = _spec(tmp_path, "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {{ name }}\n")
    with pytest.raises(TemplateError, match=r"rendered Secret 'cm', expected ConfigMap 'cm'"):
        render_object(spec, env)


def test_a_template_that_renders_invalid_yaml_is_an_error(tmp_path: Path) -> None:
    spec, env = _spec(tmp_path, "kind: ConfigMap\nmetadata: {name: {{ name }}\n")
    with pytest.raises(TemplateError, match=r"core/configmap\.yaml\.j2 produced invalid YAML"):
        render_object(spec, env)


def test_an_object_renders_with_its_variables_at_its_path(tmp_path: Path) -> None:
    spec, env = _spec(tmp_path, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ name }}\n"
                      "  namespace: {{ namespace }}\n")
    manifest = render_object(spec, env)
    assert manifest.path == "apps/configmap-cm.yaml" and manifest.template == spec.template
    assert manifest.key == ResourceKey("", "ConfigMap", "ns", "cm")
    make_environment.cache_clear()
