"""One module per command, and ``--help`` imports only typer and ``dlaas_gen.defaults``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import dlaas_gen.cli as cli

CLI_FOLDER = Path(cli.__file__).parent

#: What importing the CLI may load of dlaas_gen: the package, the CLI, and the constants.
ALLOWED = {"dlaas_gen", "dlaas_gen.defaults"}
#: Libraries the pipeline needs and `--help` must not pay for. (typer itself imports pydantic
#: to convert option values, so a command's own ``--help`` may load it, ``dlaas-gen --help`` not.)
HEAVY = ("jsonschema", "jinja2", "ruamel.yaml", "requests", "kubernetes_validate", "dockerfile",
         "rich", "typer.rich_utils")  # help is plain click help (Rich costs ~50 ms of imports)

PROBE = """
import json, sys
from dlaas_gen.cli import app
try:
    app({args!r})
except SystemExit as exc:
    code = exc.code
print(json.dumps([code, sorted(sys.modules)]))
"""


def _loaded(args: list[str]) -> tuple[int, list[str]]:
    done = subprocess.run([sys.executable, "-c", PROBE.format(args=args)], capture_output=True,
                          text=True, check=True)
    code, modules = json.loads(done.stdout.strip().splitlines()[-1])
    return code, modules


@pytest.mark.parametrize("args", [["--help"], ["render", "--help"], ["cric", "sync", "--help"],
                                  ["--version"]])
def test_help_loads_only_the_cli_and_defaults(args: list[str]) -> None:
    code, modules = _loaded(args)
    assert code == 0
    ours = {m for m in modules if m == "dlaas_gen" or m.startswith("dlaas_gen.")}
    assert sorted(m for m in ours if not m.startswith("dlaas_gen.cli") and m not in ALLOWED) == []
    assert [m for m in HEAVY if m in modules] == []
    if len(args) == 1:
        assert "pydantic" not in modules


def test_a_command_that_runs_loads_the_library() -> None:
    """The probe sees imports: a command that runs does load the library it calls."""
    code, modules = _loaded(["schema", "--out", "/dev/null"])
    assert code == 0 and "dlaas_gen.commands.docs.schema" in modules and "pydantic" in modules


def test_one_module_per_command() -> None:
    modules = {p.stem for p in CLI_FOLDER.glob("*.py") if not p.name.startswith("_")}
    names = [name for name, _ in cli.COMMANDS] + [name for name, _ in cli.GROUPS]
    assert sorted(names) == sorted(modules)
    for name, command in cli.COMMANDS:
        assert command.__module__ == f"dlaas_gen.cli.{name}"
    for name, group in cli.GROUPS:
        for info in group.registered_commands:
            assert info.callback is not None
            assert info.callback.__module__ == f"dlaas_gen.cli.{name}"


def test_help_lists_commands_in_registration_order(runner) -> None:
    result = runner.invoke(cli.app, ["--help"], env={"COLUMNS": "200", "NO_COLOR": "1"})
    lines = result.stdout.splitlines()
    rows = [line.split() for line in lines[lines.index("Commands:") + 1:] if line.strip()]
    listed = [row[0] for row in rows]
    expected = [name for name, _ in cli.COMMANDS] + [name for name, _ in cli.GROUPS]
    assert listed == expected
