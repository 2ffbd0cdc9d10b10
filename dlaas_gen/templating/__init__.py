"""The Jinja environment over ``templates/``, and rendering of text files.

Why a module of its own, below the context and render stages: the render stage renders the
objects, but the context renders the image build contexts too (an image's tag is the digest of
its rendered context, and the hub values name that tag), so both use this one environment.
"""

from __future__ import annotations

import functools
import hashlib
import io
import sys
from collections.abc import Mapping
from pathlib import Path

import jinja2
import jinja2.bccache

from dlaas_gen.atomicfile import store_entry
from dlaas_gen.errors import DlaasGenError
from dlaas_gen.resources import NO_CACHE_ENV as NO_CACHE_ENV  # the variable, named here too
from dlaas_gen.resources import caches_enabled, templates_dir, user_cache_dir
from dlaas_gen.templating import filters

__all__ = ["TemplateError", "make_environment", "render_text"]


class TemplateError(DlaasGenError):
    """A template failed to render or produced invalid YAML (a bug in dlaas-gen)."""


#: The options that shape the compiled templates (part of the bytecode cache's folder name).
_OPTIONS = {"autoescape": False, "keep_trailing_newline": True, "trim_blocks": True,
            "lstrip_blocks": True}


class AtomicBytecodeCache(jinja2.BytecodeCache):
    """Compiled templates in the user cache folder, written atomically; any fault is a miss.

    Why: compiling the templates is ~30 ms of every cold render. Jinja checks each entry's
    magic (Jinja's bytecode version and the Python version) and the sha1 of the template's
    source, and compiles again on a mismatch; the folder name adds Jinja's version and the
    environment options, which the checksum does not cover. Jinja's own
    ``FileSystemBytecodeCache`` writes in place, so a concurrent run could read a torn file;
    here a temporary file is renamed into place, and an unreadable entry is compiled again.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, bucket: jinja2.bccache.Bucket) -> Path:
        return self.folder / f"{bucket.key}.cache"

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            data = self._path(bucket).read_bytes()
        except OSError:
            return
        try:
            bucket.load_bytecode(io.BytesIO(data))  # resets itself on a wrong magic or source
        except Exception:  # noqa: BLE001 - a damaged entry only costs a compile
            bucket.reset()

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        data = io.BytesIO()
        bucket.write_bytecode(data)
        store_entry(self._path(bucket), data.getvalue())  # a failure only costs a compile


def bytecode_cache() -> AtomicBytecodeCache | None:
    """The compiled-template cache, or None when ``DLAAS_GEN_NO_CACHE`` is set."""
    if not caches_enabled():
        return None
    tag = hashlib.sha256(repr((jinja2.__version__, sys.version, sorted(_OPTIONS.items())))
                         .encode()).hexdigest()[:16]
    return AtomicBytecodeCache(user_cache_dir() / "jinja" / tag)


@functools.lru_cache(maxsize=4)
def make_environment(folder: Path | None = None) -> jinja2.Environment:
    """Return the Jinja environment (StrictUndefined, no autoescape, trimmed blocks)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(folder or templates_dir())),
        undefined=jinja2.StrictUndefined,
        bytecode_cache=bytecode_cache(),
        **_OPTIONS,  # type: ignore[arg-type]
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
