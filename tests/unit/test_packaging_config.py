"""pyproject lists every Python package and maps templates/ and sites/ into the package."""

from __future__ import annotations

import tomllib

from setuptools import find_packages

from dlaas_gen.resources import examples_dir, templates_dir
from tests.conftest import REPO


def test_every_python_package_is_listed() -> None:
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    found = set(find_packages(str(REPO), include=["dlaas_gen", "dlaas_gen.*"]))
    missing = sorted(found - set(config["packages"]))
    assert missing == [], f"add {missing} to [tool.setuptools] packages in pyproject.toml"
    assert config["package-dir"] == {"dlaas_gen.templates": "templates", "dlaas_gen.sites": "sites"}


def test_resources_resolve_in_the_checkout() -> None:
    assert templates_dir().resolve() == (REPO / "templates").resolve()
    assert (templates_dir() / "jupyterhub/helmrelease.yaml.j2").is_file()
    assert examples_dir().resolve() == (REPO / "sites").resolve()
