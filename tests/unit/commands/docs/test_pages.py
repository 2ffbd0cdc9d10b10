"""The layers table of docs/contributing.md comes from the import-linter contracts."""

from __future__ import annotations

from pathlib import Path

from dlaas_gen.commands.docs.pages import generated_blocks, import_layers
from tests.conftest import REPO

PYPROJECT = """\
[tool.importlinter]
root_package = "dlaas_gen"

[[tool.importlinter.contracts]]
id = "layers"
name = "Layers"
type = "layers"
containers = ["dlaas_gen"]
layers = ["cli", "writer | render", "problem : errors", "(not_written_yet)"]

[[tool.importlinter.contracts]]
id = "no-x"
name = "render does not import writer"
type = "forbidden"
source_modules = ["dlaas_gen.render"]
forbidden_modules = ["dlaas_gen.writer"]
"""


def test_each_module_is_a_row_with_its_docstring_line(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(PYPROJECT, encoding="utf-8")
    text = import_layers(pyproject)
    rows = [line for line in text.splitlines() if line.startswith("| ") and "---" not in line]
    assert rows[0] == "| Layer | Module | What it holds |"
    assert rows[1].startswith("| 1 | `dlaas_gen.cli` | The ``dlaas-gen`` command line")
    assert rows[2].startswith("| 2, independent | `dlaas_gen.writer` | Write rendered sites")
    assert rows[3].startswith("| 2 | `dlaas_gen.render` | Render a site context")
    assert rows[4] == "| 3, may import each other | `dlaas_gen.problem` | The `Problem` record every check produces. |"  # noqa: E501 - one table row
    assert rows[5] == "| 3 | `dlaas_gen.errors` | Exception types shared by the library. |"
    assert rows[6] == "| 4 | `dlaas_gen.not_written_yet` | (not written yet: an optional layer) |"
    assert len(rows) == 7
    assert text.endswith("- `no-x` (forbidden): render does not import writer.\n")


def test_contributing_page_shows_the_layers_of_the_real_contract() -> None:
    page = (REPO / "docs" / "contributing.md").read_text(encoding="utf-8")
    assert "import-layers" in generated_blocks(page)
    assert import_layers(REPO / "pyproject.toml") in page  # fresh: tests/test_docs.py as well
