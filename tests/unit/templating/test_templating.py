"""The Jinja environment: strict templates, errors that name the template, trimmed blocks."""

from __future__ import annotations

from pathlib import Path

import pytest

from dlaas_gen.templating import TemplateError, make_environment, render_text


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
