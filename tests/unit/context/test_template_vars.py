"""Typed template variables: one class per template, whose fields are what the template reads."""

from __future__ import annotations

import dataclasses
import re

import jinja2
import jinja2.meta
import pytest

from dlaas_gen.context import template_vars
from dlaas_gen.context.images import TEMPLATES as IMAGE_TEMPLATES
from dlaas_gen.context.template_vars import ImageContextVars, ObjectVars, TemplateVars
from dlaas_gen.resources import templates_dir
from dlaas_gen.templating import filters

#: Macro files: imported by templates, not rendered themselves.
MACROS = {"core/security.j2"}
#: The first line of a container a template writes (under ``containers:``/``initContainers:``).
CONTAINER_ENTRY = re.compile(r"^ *(?:initContainers|containers):\n *- name: ", re.MULTILINE)


def object_vars_classes() -> list[type[ObjectVars]]:
    return [c for c in vars(template_vars).values()
            if isinstance(c, type) and issubclass(c, ObjectVars) and c is not ObjectVars]


def read_variables(template: str) -> set[str]:
    """The variables `template` reads from its context (Jinja's globals do not hide any)."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates_dir())))
    filters.register(env)
    env.globals.clear()  # `namespace` is a Jinja global as well as a template variable
    source = (templates_dir() / template).read_text(encoding="utf-8")
    return set(jinja2.meta.find_undeclared_variables(env.parse(source)))


def fields_of(cls: type[TemplateVars]) -> set[str]:
    return {f.name for f in dataclasses.fields(cls)}


def test_every_object_template_has_exactly_one_variables_class() -> None:
    on_disk = {p.relative_to(templates_dir()).as_posix()
               for p in templates_dir().rglob("*.j2")} - MACROS
    object_templates = {t for t in on_disk if not t.startswith("images/")}
    by_template = [c.TEMPLATE for c in object_vars_classes()]
    assert sorted(by_template) == sorted(object_templates)


@pytest.mark.parametrize("cls", object_vars_classes(), ids=lambda c: c.__name__)
def test_a_class_holds_exactly_the_variables_its_template_reads(cls: type[ObjectVars]) -> None:
    # A folder index has no metadata: its name is the file's (kustomization.yaml).
    unread = {"name"} if cls is template_vars.FolderIndexVars else set()
    assert fields_of(cls) == read_variables(cls.TEMPLATE) | unread


def test_the_image_context_variables_are_what_its_templates_read() -> None:
    families = ("alma9", "docker-stacks")
    read: set[str] = set()
    for template in IMAGE_TEMPLATES.values():
        for family in families:
            read |= read_variables(template.format(family=family))
    assert fields_of(ImageContextVars) == read


def test_a_missing_variable_fails_where_the_object_is_built() -> None:
    with pytest.raises(TypeError, match="missing 1 required keyword-only argument: 'url'"):
        template_vars.HelmRepositoryVars(name="r", namespace="n", labels={}, interval="1m")  # type: ignore[call-arg]  # the point


def test_only_the_security_macros_write_a_security_context() -> None:
    """Container hardening is in one place: every other template imports the macros."""
    writers = sorted(p.relative_to(templates_dir()).as_posix()
                     for p in templates_dir().rglob("*.j2")
                     if "securityContext" in p.read_text(encoding="utf-8"))
    assert writers == ["core/security.j2"]


def test_every_workload_container_is_hardened_by_the_macros() -> None:
    for cls in object_vars_classes():
        source = (templates_dir() / cls.TEMPLATE).read_text(encoding="utf-8")
        containers = len(CONTAINER_ENTRY.findall(source))
        if not containers:
            continue
        calls = source.count("security.container(") + source.count("security.fuse_container(")
        assert calls == containers, cls.TEMPLATE
