"""The module_cycles contract finds cycles made by any import statement, and only real ones."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.lint.module_cycles import cycle_groups, shortest_cycle

REPO = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"

CONFIG = """\
[tool.importlinter]
root_package = "{package}"
contract_types = ["module_cycles: tests.lint.module_cycles.ModuleCyclesContract"]

[[tool.importlinter.contracts]]
name = "No cycles between modules"
type = "module_cycles"
containers = ["{package}"]
"""


def _lint(tmp_path: Path, package: str, files: dict[str, str]) -> subprocess.CompletedProcess[str]:
    for rel, text in files.items():
        path = tmp_path / package / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    config = tmp_path / "pyproject.toml"
    config.write_text(CONFIG.format(package=package), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(REPO)])}
    return subprocess.run([str(LINT_IMPORTS), str(config), "--no-cache"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, check=False)


@pytest.mark.parametrize(("name", "x_body", "y_body"), [
    ("toplevel", "from cyc_toplevel import y\n", "from cyc_toplevel import x\n"),
    ("function", "def f():\n    from cyc_function import y\n", "import cyc_function.x\n"),
    ("typing", "from cyc_typing import y\n",
     "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from cyc_typing.x import X\n"),
])
def test_a_cycle_is_reported_with_its_import_lines(tmp_path: Path, name: str, x_body: str,
                                                   y_body: str) -> None:
    package = f"cyc_{name}"
    done = _lint(tmp_path, package, {"__init__.py": "", "x.py": x_body + "X = 1\n", "y.py": y_body})
    out = " ".join(done.stdout.split())  # the report wraps long lines
    assert done.returncode == 1, done.stdout + done.stderr
    assert "No cycles between modules BROKEN" in out
    assert f"2 modules import each other in a cycle: {package}.x, {package}.y" in out
    y_line = len(y_body.splitlines())
    assert f"{package}.x -> {package}.y (l. {1 if name != 'function' else 2})" in out
    assert f"{package}.y -> {package}.x (l. {y_line})" in out


def test_a_package_importing_its_own_module_and_back_is_a_cycle(tmp_path: Path) -> None:
    done = _lint(tmp_path, "cyc_parent", {"__init__.py": "from cyc_parent.child import C\nD = 1\n",
                                           "child.py": "from cyc_parent import D\nC = 1\n"})
    out = " ".join(done.stdout.split())
    assert done.returncode == 1
    assert "2 modules import each other in a cycle: cyc_parent, cyc_parent.child" in out


def test_layered_imports_are_kept(tmp_path: Path) -> None:
    done = _lint(tmp_path, "acyclic", {
        "__init__.py": "from acyclic.top import T\n",
        "top.py": "from acyclic import low\nfrom acyclic.mid import M\nT = 1\n",
        "mid.py": "def f():\n    from acyclic.low import L\nM = 1\n",
        "low.py": "L = 1\n",
    })
    assert done.returncode == 0, done.stdout + done.stderr
    assert "No cycles between modules KEPT" in " ".join(done.stdout.split())


def test_groups_and_shortest_cycles() -> None:
    edges = {
        "a": {"b"}, "b": {"c"}, "c": {"a", "d"},  # a -> b -> c -> a
        "d": {"e"}, "e": {"d"},  # d <-> e, reached from the first group but not part of it
        "f": {"f"},  # imports itself
        "g": {"a"},  # imports into a cycle, is not in one
    }
    groups = cycle_groups(edges)
    assert groups == [{"a", "b", "c"}, {"d", "e"}, {"f"}]
    assert shortest_cycle({"a", "b", "c"}, edges) == ["a", "b", "c"]
    assert shortest_cycle({"f"}, edges) == ["f"]
    edges["a"].add("c")  # a -> c -> a is now shorter
    assert shortest_cycle({"a", "b", "c"}, edges) == ["a", "c"]
