"""The test tree mirrors the package, and tests import each other as the ``tests`` package.

``tests/unit/<package>/`` exists for every package folder of ``dlaas_gen/`` (a folder holding
Python files) and for nothing else, each holds test modules, and every folder of tests is a
regular package (``__init__.py``), so shared helpers are imported as ``tests.support.x`` and no
test edits the module search path. Both sides are read from disk at run time: a package added,
moved or removed without its test folder fails here, with no list of exceptions to maintain.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import REPO

PACKAGE = REPO / "dlaas_gen"
TESTS = REPO / "tests"
UNIT = TESTS / "unit"
#: Folders that hold data read by tests, not tests (syrupy's snapshots, fixture files).
DATA_FOLDERS = {"__pycache__", "__snapshots__", "fixtures"}


def _folders(root: Path) -> list[Path]:
    return [p for p in sorted(root.rglob("*"))
            if p.is_dir() and not DATA_FOLDERS.intersection(p.relative_to(root).parts)]


def package_folders() -> set[str]:
    """Folders of dlaas_gen/ (relative, POSIX) that hold Python source, the root included."""
    found = {"."} | {p.relative_to(PACKAGE).as_posix() for p in _folders(PACKAGE)
                     if any(p.glob("*.py"))}
    return found


def unit_folders() -> set[str]:
    return {"."} | {p.relative_to(UNIT).as_posix() for p in _folders(UNIT)}


def test_unit_tests_mirror_the_package() -> None:
    packages, units = package_folders(), unit_folders()
    missing = sorted(packages - units)
    extra = sorted(units - packages)
    assert (missing, extra) == ([], []), (
        f"dlaas_gen/ folders without tests/unit/<same>/: {missing}; "
        f"tests/unit/ folders matching no dlaas_gen/ folder: {extra}")


def test_every_unit_folder_holds_tests() -> None:
    empty = sorted(rel for rel in unit_folders()
                   if not any((UNIT / rel).glob("test_*.py")))
    assert empty == [], f"tests/unit folders without a test_*.py module: {empty}"


def test_every_test_folder_is_a_package() -> None:
    missing = sorted(p.relative_to(REPO).as_posix() for p in [TESTS, *_folders(TESTS)]
                     if any(p.glob("*.py")) and not (p / "__init__.py").is_file())
    assert missing == [], f"test folders without __init__.py (import them as tests.x.y): {missing}"


def _sys_path_uses(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    lines = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and node.attr == "path"
                and isinstance(node.value, ast.Name) and node.value.id == "sys"):
            lines.append(node.lineno)
        elif isinstance(node, ast.Attribute) and node.attr == "syspath_prepend":
            lines.append(node.lineno)
    return lines


#: The one place a test puts a folder on the module path, and why: it reproduces the hub. z2jh's
#: ``jupyterhub_config.py`` puts its own folder first on ``sys.path`` before it imports the
#: ``hub.extraFiles`` modules mounted there; nothing of the tests is imported through it.
HUB_CONFIG_FOLDER = ("tests/realtools/spawn_pod.py", "offline_kube")


def test_no_test_edits_the_module_search_path() -> None:
    found = {}
    for path in sorted(TESTS.rglob("*.py")):
        rel = path.relative_to(REPO).as_posix()
        lines = _sys_path_uses(path)
        if rel == HUB_CONFIG_FOLDER[0]:
            tree = ast.parse(path.read_text(encoding="utf-8"))
            func = next(n for n in tree.body
                        if isinstance(n, ast.FunctionDef) and n.name == HUB_CONFIG_FOLDER[1])
            assert len([n for n in lines if func.lineno <= n <= func.end_lineno]) == 1
            lines = [n for n in lines if not func.lineno <= n <= func.end_lineno]
        if lines:
            found[rel] = lines
    assert found == {}, f"sys.path used in tests (import helpers as tests.x.y instead): {found}"
