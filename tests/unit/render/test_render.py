"""The render stage: strict templates, every output re-parsed, a wrong object is a TemplateError."""

from __future__ import annotations

from pathlib import Path

import pytest

from dlaas_gen.pipeline import build_site
from dlaas_gen.render import TemplateError, make_environment, render_text
from tests.conftest import FIXTURES


def _env(tmp_path: Path, **templates: str):
    for name, text in templates.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    make_environment.cache_clear()
    return make_environment(tmp_path)


def test_undefined_variable_is_an_error_naming_template_and_variable(tmp_path: Path) -> None:
    env = _env(tmp_path, **{"t.txt.j2": "first line\nvalue: {{ missing }}\n"})
    with pytest.raises(TemplateError, match=r"^template t\.txt\.j2: 'missing' is undefined$"):
        render_text("t.txt.j2", {}, env)


def test_template_syntax_error_names_template_and_line(tmp_path: Path) -> None:
    env = _env(tmp_path, **{"bad.j2": "ok\n{% if %}\n"})
    with pytest.raises(TemplateError, match=r"template bad\.j2:2"):
        render_text("bad.j2", {}, env)


def test_render_text_ends_with_one_newline_and_keeps_blocks_trimmed(tmp_path: Path) -> None:
    env = _env(tmp_path, **{"f.j2": "{% for x in xs %}\n- {{ x }}\n{% endfor %}"})
    assert render_text("f.j2", {"xs": ["a", "b"]}, env) == "- a\n- b\n"


def test_no_autoescape(tmp_path: Path) -> None:
    env = _env(tmp_path, **{"h.j2": "{{ v }}"})
    assert render_text("h.j2", {"v": "<a & b>"}, env) == "<a & b>\n"


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
