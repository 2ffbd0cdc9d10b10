"""The Jinja environment over ``templates/``, and rendering of text files.

Why a module of its own, below the context and render stages: the render stage renders the
objects, but the context renders the image build contexts too (an image's tag is the digest of
its rendered context, and the hub values name that tag), so both use this one environment.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path

import jinja2

from dlaas_gen.errors import DlaasGenError
from dlaas_gen.resources import templates_dir
from dlaas_gen.templating import filters

__all__ = ["TemplateError", "make_environment", "render_text"]


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


def render_text(template: str, variables: Mapping[str, object],
                env: jinja2.Environment | None = None) -> str:
    """Render `template` with `variables`; the text ends with one newline.

    The render stage parses the text of an object as YAML; the files of an image build
    context (Dockerfile, requirements, README) are used as they are.

    Raises:
        TemplateError: the template is missing, invalid, or uses an undefined variable.
    """
    env = env or make_environment()
    try:
        text = env.get_template(template).render(**variables)
    except jinja2.TemplateError as exc:
        line = getattr(exc, "lineno", None)
        where = f"{template}:{line}" if line else template
        raise TemplateError(f"template {where}: {exc}") from exc
    return text if text.endswith("\n") else text + "\n"
