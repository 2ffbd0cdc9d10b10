"""pyproject lists every package (data folders too) and maps templates/ and sites/ into it."""

from __future__ import annotations

import tomllib
from pathlib import Path

from setuptools import find_packages

from dlaas_gen.resources import examples_dir, templates_dir
from tests.conftest import REPO


def _folders(root: Path, prefix: str) -> dict[str, bool]:
    """Each folder under ``root`` that Python could import as ``prefix.<path>``, and whether it
    holds files itself (setuptools warns about such a folder when it is not listed)."""
    found = {}
    for folder in [root, *root.rglob("*")]:
        parts = folder.relative_to(root).parts
        if folder.is_dir() and all(part.isidentifier() and part != "__pycache__" for part in parts):
            found[".".join((prefix, *parts))] = any(
                f.is_file() and f.suffix != ".pyc" for f in folder.iterdir())
    return found


def test_every_package_and_data_folder_is_listed() -> None:
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert config["package-dir"] == {"dlaas_gen.templates": "templates", "dlaas_gen.sites": "sites"}
    folders = {**_folders(REPO / "dlaas_gen", "dlaas_gen"),
               **_folders(REPO / "templates", "dlaas_gen.templates"),
               **_folders(REPO / "sites", "dlaas_gen.sites")}
    holding_files = {name for name, has_files in folders.items() if has_files}
    assert set(find_packages(str(REPO), include=["dlaas_gen", "dlaas_gen.*"])) <= holding_files
    missing = sorted(holding_files - set(config["packages"]))
    assert missing == [], f"add {missing} to [tool.setuptools] packages in pyproject.toml"
    gone = sorted(set(config["packages"]) - set(folders))
    assert gone == [], f"remove {gone} from [tool.setuptools] packages in pyproject.toml"


def test_license_is_an_spdx_expression() -> None:
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert pyproject["project"]["license"] == "Apache-2.0"
    assert "setuptools>=77" in pyproject["build-system"]["requires"]  # the first to read it


def test_resources_resolve_in_the_checkout() -> None:
    assert templates_dir().resolve() == (REPO / "templates").resolve()
    assert (templates_dir() / "jupyterhub/helmrelease.yaml.j2").is_file()
    assert examples_dir().resolve() == (REPO / "sites").resolve()
