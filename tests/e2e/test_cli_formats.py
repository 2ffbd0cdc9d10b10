"""Every `--format` choice of every command works (json parses) or is refused (exit 2)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dlaas_gen.cli import app

REPORT_FORMATS = ["text", "parsable", "json", "gitlab"]


def run(runner: CliRunner, *args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def _works(result, fmt: str) -> None:
    assert result.exit_code == 0, result.output
    if fmt in ("json", "gitlab"):
        json.loads(result.stdout)  # machine formats are exactly one JSON document
    assert "Traceback" not in result.output


@pytest.mark.parametrize("fmt", REPORT_FORMATS)
@pytest.mark.usefixtures("repo_copy")
def test_render_and_validate_formats(runner: CliRunner, fmt: str) -> None:
    _works(run(runner, "render", "--check", "--format", fmt), fmt)
    _works(run(runner, "validate", "--format", fmt), fmt)


@pytest.mark.parametrize("fmt", ["text", "json"])
@pytest.mark.usefixtures("repo_copy")
def test_secrets_formats(runner: CliRunner, fmt: str) -> None:
    result = run(runner, "secrets", "escape", "--format", fmt)
    _works(result, fmt)
    if fmt == "json":
        assert {"namespace", "name", "key", "used_for", "target"} <= set(
            json.loads(result.stdout)[0]
        )


@pytest.mark.parametrize("fmt", ["gitlab", "parsable", "yaml"])
@pytest.mark.usefixtures("repo_copy")
def test_secrets_refuses_report_formats(runner: CliRunner, fmt: str) -> None:
    result = run(runner, "secrets", "escape", "--format", fmt)
    assert result.exit_code == 2
    assert result.stdout == "" and "Invalid value for '--format'" in result.stderr


@pytest.mark.parametrize("fmt", ["text", "markdown", "json"])
def test_diff_formats(runner: CliRunner, repo_copy: Path, fmt: str) -> None:
    shutil.copytree(repo_copy / "rendered", repo_copy / "old")
    _works(run(runner, "diff", "old", "rendered", "--format", fmt), fmt)


@pytest.mark.parametrize("fmt", ["mermaid", "dot"])
@pytest.mark.usefixtures("repo_copy")
def test_graph_formats(runner: CliRunner, fmt: str) -> None:
    _works(run(runner, "graph", "escape", "--format", fmt), fmt)


@pytest.mark.parametrize("fmt", ["text", "json"])
@pytest.mark.usefixtures("repo_copy")
def test_migrate_formats(runner: CliRunner, fmt: str) -> None:
    _works(run(runner, "migrate", "rendered", "--format", fmt), fmt)


@pytest.mark.parametrize(
    "command",
    [("graph", "escape"), ("diff", "rendered", "rendered"), ("migrate", "rendered"), ("schema",)],
)
@pytest.mark.usefixtures("repo_copy")
def test_unknown_format_is_refused(runner: CliRunner, command) -> None:
    result = run(runner, *command, "--format", "gitlab-bogus")
    assert result.exit_code == 2 and "Invalid value for '--format'" in result.stderr
