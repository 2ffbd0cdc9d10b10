"""`--help` shows every command's first docstring line as written (plain help keeps `[x]`)."""

from __future__ import annotations

import re

import pytest
import typer
from typer.testing import CliRunner

from dlaas_gen.cli import app


def _commands() -> list[tuple[tuple[str, ...], object]]:
    found = []

    def walk(command, path: tuple[str, ...]) -> None:
        if hasattr(command, "commands"):  # a group (typer may bring its own click)
            for name, sub in command.commands.items():
                walk(sub, (*path, name))
        else:
            found.append((path, command))

    walk(typer.main.get_command(app), ())
    return found


@pytest.mark.parametrize(
    "path,command", _commands(), ids=lambda v: "_".join(v) if isinstance(v, tuple) else "cmd"
)
def test_help_shows_the_first_docstring_line(runner: CliRunner, path, command) -> None:
    first = (command.help or "").strip().splitlines()[0].replace("\\[", "[")
    result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "400", "NO_COLOR": "1"})
    assert result.exit_code == 0, result.output
    shown = re.sub(r"\s+", " ", result.stdout)
    assert first in shown, f"{' '.join(path)} --help shows {shown[:300]!r}"
    assert "()" not in shown


def test_xcache_rucio_config_help_names_the_section(runner: CliRunner) -> None:
    result = runner.invoke(app, ["xcache", "rucio-config", "--help"], env={"COLUMNS": "200"})
    assert (
        "Print the Rucio server settings ([root-proxy-internal]) for the site's XCache."
        in result.stdout
    )
