"""The check registry: every section's checks listed once, run in the listed order.

Each module of ``dlaas_gen/config/checks/`` named after a site section holds that section's
checks and imports no other section module; ``registry.CHECKS`` is the one list of what runs.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest

from dlaas_gen.config import SiteConfig
from dlaas_gen.config import checks as checks_pkg
from dlaas_gen.config.checks import registry
from dlaas_gen.loader import load_site
from tests.conftest import REPO

HELPERS = {"finding", "registry"}
SECTION_MODULES = sorted(m.name for m in pkgutil.iter_modules(checks_pkg.__path__)
                         if m.name not in HELPERS)


def _public_checks() -> list:
    found = []
    for name in SECTION_MODULES:
        module = importlib.import_module(f"dlaas_gen.config.checks.{name}")
        found += [f for n, f in inspect.getmembers(module, inspect.isfunction)
                  if n.startswith("check_") and f.__module__ == module.__name__]
    return found


def test_every_check_function_is_listed_exactly_once() -> None:
    listed = list(registry.CHECKS)
    assert len(listed) == len(set(listed)), "a check listed twice runs twice"
    assert sorted(f.__qualname__ for f in _public_checks()) == sorted(
        f.__qualname__ for f in listed)
    assert {f.__module__ for f in listed} == {f"dlaas_gen.config.checks.{n}"
                                              for n in SECTION_MODULES}


@pytest.mark.parametrize("name", SECTION_MODULES)
def test_a_section_module_imports_no_other_section(name: str) -> None:
    path = Path(checks_pkg.__file__).parent / f"{name}.py"
    imported = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
            imported.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            imported.update(a.name for a in node.names)
    others = {f"dlaas_gen.config.checks.{n}" for n in SECTION_MODULES if n != name}
    assert imported & others == set()


def test_findings_come_in_registry_order(monkeypatch: pytest.MonkeyPatch) -> None:
    def first(_site):
        yield (("a",), "warning", "one")
        yield (("b",), "error", "two")

    def second(_site):
        yield (("c", 0), "error", "three")

    def silent(_site):
        return iter(())

    site = load_site(REPO / "sites" / "demo.yaml").config
    monkeypatch.setattr(registry, "CHECKS", (second, silent, first))
    assert registry.run_checks(site) == [
        (("c", 0), "error", "three"), (("a",), "warning", "one"), (("b",), "error", "two")]


@pytest.mark.parametrize("site", ["demo", "escape"])
def test_the_example_sites_have_no_findings(site: str) -> None:
    config = load_site(REPO / "sites" / f"{site}.yaml").config
    assert isinstance(config, SiteConfig)
    assert registry.run_checks(config) == []
