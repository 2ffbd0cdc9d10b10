"""Locate the files that ship with the package (templates, schemas, example sites).

Why: the same code runs from a git checkout (editable install) and from a wheel; the
templates and example sites live at the top of the repository and are mapped into the
package by ``pyproject.toml``, so they are always found through importlib.resources.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

_REPO_ROOT = Path(__file__).resolve().parent.parent


def _package_dir(package: str, repo_folder: str) -> Path:
    try:
        path = Path(str(resources.files(package)))
        if path.is_dir():
            return path
    except (ModuleNotFoundError, TypeError):
        pass
    return _REPO_ROOT / repo_folder


def templates_dir() -> Path:
    """Folder of the Jinja templates."""
    return _package_dir("dlaas_gen.templates", "templates")


def examples_dir() -> Path:
    """Folder of the example site files shipped with the package."""
    return _package_dir("dlaas_gen.sites", "sites")


def schemas_dir() -> Path:
    """Folder of the vendored schemas (a copy of ../shared/schemas)."""
    return Path(__file__).resolve().parent / "data" / "schemas"
