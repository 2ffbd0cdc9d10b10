"""Locate the files that ship with the package (templates, schemas, example sites).

Why: the same code runs from a git checkout (editable install) and from a wheel; the
templates and example sites live at the top of the repository and are mapped into the
package by ``pyproject.toml`` (``dlaas_gen.templates`` → ``templates/``, ``dlaas_gen.sites`` →
``sites/``). They hold no ``__init__.py``, so they are namespace packages: their folder is the
import spec's search location, which a wheel and setuptools' editable finder both provide.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

_REPO_ROOT = Path(__file__).resolve().parent.parent


def _package_dir(package: str, repo_folder: str) -> Path:
    """The folder of a data package, or the repository folder it maps when not installed."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        spec = None
    for location in (spec.submodule_search_locations or []) if spec else []:
        path = Path(location)
        if path.is_dir():
            return path
    return _REPO_ROOT / repo_folder


def templates_dir() -> Path:
    """Folder of the Jinja templates."""
    return _package_dir("dlaas_gen.templates", "templates")


def examples_dir() -> Path:
    """Folder of the example site files shipped with the package (the repository's sites/)."""
    return _package_dir("dlaas_gen.sites", "sites")


#: Set to anything but ``""`` or ``0`` to turn every cache of dlaas-gen off.
NO_CACHE_ENV = "DLAAS_GEN_NO_CACHE"


def caches_enabled() -> bool:
    """False when `NO_CACHE_ENV` is set (to anything but ``0``): no cache is read or written."""
    return os.environ.get(NO_CACHE_ENV, "") in ("", "0")


def user_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/dlaas-gen``; ``~/.cache`` when it is unset or relative (XDG spec).

    Why: caches that only save time (``render --check`` outcomes, compiled templates) live in
    the user's cache folder, never in the repository.
    """
    base = os.environ.get("XDG_CACHE_HOME", "")
    return (Path(base) if Path(base).is_absolute() else Path.home() / ".cache") / "dlaas-gen"


def schemas_dir() -> Path:
    """Folder of the vendored upstream schemas (checked against its ``SHA256SUMS``)."""
    return Path(__file__).resolve().parent / "data" / "schemas"
