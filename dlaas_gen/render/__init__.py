"""Render a site context through the Jinja templates into re-parsed `Manifest`s.

Why: rendering is text substitution; re-parsing every output proves it is YAML, gives the
validators positions in the rendered file, and catches a template that produced the wrong
object (kind/name checked against the context).
"""

from __future__ import annotations

import jinja2
from ruamel.yaml.error import YAMLError

from dlaas_gen import yamlio
from dlaas_gen.context import ObjectSpec, SiteContext
from dlaas_gen.manifest import Manifest
from dlaas_gen.templating import TemplateError, make_environment, render_text


def render_object(spec: ObjectSpec, env: jinja2.Environment | None = None) -> Manifest:
    """Render one object and re-parse it.

    Raises:
        TemplateError: the template failed, produced invalid YAML, or another object.
    """
    text = render_text(spec.template, spec.vars.variables(), env)
    try:
        doc = yamlio.load_rendered(text)
    except YAMLError as exc:
        raise TemplateError(f"template {spec.template} produced invalid YAML: {exc}") from exc
    manifest = Manifest(doc=doc, text=text, path=spec.path, template=spec.template,
                        section=spec.section)
    if spec.filename is None:
        name = (doc.get("metadata") or {}).get("name")
        if doc.get("kind") != spec.kind or name != spec.name:
            raise TemplateError(
                f"template {spec.template} rendered {doc.get('kind')} {name!r}, "
                f"expected {spec.kind} {spec.name!r}"
            )
    return manifest


def render_site(ctx: SiteContext) -> list[Manifest]:
    """Render every object of a site, in context order."""
    env = make_environment()
    return [render_object(spec, env) for spec in ctx.objects]
