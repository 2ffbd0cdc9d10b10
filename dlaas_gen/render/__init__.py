"""Render a site context through the Jinja templates into re-parsed `Manifest`s.

Why: rendering is text substitution; re-parsing every output proves it is YAML, gives the
validators positions in the rendered file, and catches a template that produced the wrong
object (kind/name checked against the context).
"""

from __future__ import annotations

import functools
from pathlib import Path

import jinja2
from ruamel.yaml.error import YAMLError

from dlaas_gen import yamlio
from dlaas_gen.render import filters
from dlaas_gen.context import ObjectSpec, SiteContext
from dlaas_gen.errors import DlaasGenError
from dlaas_gen.manifest import Manifest
from dlaas_gen.resources import templates_dir


class TemplateError(DlaasGenError):
    """A template failed to render or produced invalid YAML (a bug in dlaas-gen)."""


@functools.lru_cache(maxsize=4)
def make_environment(folder: Path | None = None) -> jinja2.Environment:
    """Return the Jinja environment (StrictUndefined, no autoescape, trimmed blocks)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(folder or templates_dir())),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    filters.register(env)
    return env


def render_object(spec: ObjectSpec, env: jinja2.Environment | None = None) -> Manifest:
    """Render one object and re-parse it."""
    env = env or make_environment()
    try:
        text = env.get_template(spec.template).render(**spec.vars)
    except jinja2.TemplateError as exc:
        line = getattr(exc, "lineno", None)
        where = f"{spec.template}:{line}" if line else spec.template
        raise TemplateError(f"template {where}: {exc}") from exc
    if not text.endswith("\n"):
        text += "\n"
    try:
        doc = yamlio.load_rendered(text)
    except YAMLError as exc:
        raise TemplateError(f"template {spec.template} produced invalid YAML: {exc}") from exc
    manifest = Manifest(doc=doc, text=text, path=spec.path, template=spec.template)
    if spec.kind != "Kustomization" or spec.filename is None:
        name = (doc.get("metadata") or {}).get("name")
        if doc.get("kind") != spec.kind or name != spec.name:
            raise TemplateError(
                f"template {spec.template} rendered {doc.get('kind')} {name!r}, "
                f"expected {spec.kind} {spec.name!r}"
            )
    return manifest


def render_text(template: str, variables: dict[str, object],
                env: jinja2.Environment | None = None) -> str:
    """Render a non-YAML file (a build context's Dockerfile, requirements, README).

    Why: these files are not Kubernetes objects, so they are not re-parsed as YAML; the
    Dockerfile is parsed by the Dockerfile parser in the validate stage instead.
    """
    env = env or make_environment()
    try:
        text = env.get_template(template).render(**variables)
    except jinja2.TemplateError as exc:
        line = getattr(exc, "lineno", None)
        where = f"{template}:{line}" if line else template
        raise TemplateError(f"template {where}: {exc}") from exc
    return text if text.endswith("\n") else text + "\n"


def render_site(ctx: SiteContext) -> list[Manifest]:
    """Render every object of a site, in context order."""
    env = make_environment()
    return [render_object(spec, env) for spec in ctx.objects]
