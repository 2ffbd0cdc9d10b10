"""End-to-end: ``dlaas-gen init`` writes a site that renders and validates at once."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from dlaas_gen.cli import app
from dlaas_gen.commands.docs.schema import site_schema_text
from dlaas_gen.defaults import SCHEMA_FILE_NAME, SCHEMA_LINE


def run(runner: CliRunner, *args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


@pytest.mark.parametrize("example", ["demo", "escape"])
def test_init_then_render_and_validate(
    runner: CliRunner, tmp_path: Path, monkeypatch, example: str
) -> None:
    monkeypatch.chdir(tmp_path)
    result = run(runner, "init", "newsite", "--from", example)
    assert result.exit_code == 0, result.output
    text = (tmp_path / "sites/newsite.yaml").read_text()
    assert text.splitlines()[0] == SCHEMA_LINE
    assert f"started from the '{example}' example" in text
    assert (tmp_path / "sites" / SCHEMA_FILE_NAME).read_text() == site_schema_text()
    assert f"wrote sites/{SCHEMA_FILE_NAME}" in result.stdout
    assert run(runner, "render").exit_code == 0
    assert run(runner, "validate").exit_code == 0
    assert run(runner, "render", "--check").exit_code == 0


def test_init_refuses_to_overwrite(runner: CliRunner, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert run(runner, "init", "a").exit_code == 0
    site = tmp_path / "sites/a.yaml"
    site.write_text(site.read_text() + "# mine\n")
    before = site.read_bytes()
    result = run(runner, "init", "a", "--from", "escape")
    assert result.exit_code == 1
    assert "refusing to overwrite" in result.stderr
    assert site.read_bytes() == before


def test_init_keeps_an_existing_schema_and_uses_sites_dir(
    runner: CliRunner, tmp_path: Path
) -> None:
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    (folder / SCHEMA_FILE_NAME).write_text("{}\n")
    result = run(runner, "init", "b", "--sites-dir", str(folder))
    assert result.exit_code == 0, result.output
    assert (folder / "b.yaml").is_file()
    assert (folder / SCHEMA_FILE_NAME).read_text() == "{}\n"
    assert "site.schema.json" not in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["Bad_Name"], "not a DNS-1123 label"),
        (["ok", "--from", "nope"], "no example 'nope'; choose one of: demo, escape"),
    ],
)
def test_init_usage_errors(runner: CliRunner, tmp_path: Path, monkeypatch, args, message) -> None:
    monkeypatch.chdir(tmp_path)
    result = run(runner, "init", *args)
    assert result.exit_code == 2 and message in result.stderr
    assert not (tmp_path / "sites").exists()
