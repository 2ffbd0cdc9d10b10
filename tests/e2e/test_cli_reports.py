"""Report formats, exit codes, colour and progress of ``render`` and ``validate``."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dlaas_gen.cli import app
from dlaas_gen.cli._common import use_color
from dlaas_gen.cli._progress import TerminalProgress

DLAAS_GEN = [sys.executable, "-m", "dlaas_gen"]


def run(runner: CliRunner, *args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def _break_validation(repo: Path) -> None:
    bad = repo / "rendered/demo/apps/namespace-demo-hub.yaml"
    bad.write_text(bad.read_text().replace("metadata:", "metdata: {}\nmetadata:"))


def _break_site(repo: Path) -> None:
    site = repo / "sites/demo.yaml"
    site.write_text(site.read_text().replace("namespace: demo-hub", "namespace: Demo"))


@pytest.mark.parametrize("command", [["validate", "rendered/demo"], ["render", "--check"]])
@pytest.mark.usefixtures("repo_copy")
def test_clean_runs(runner: CliRunner, command: list[str]) -> None:
    text = run(runner, *command)
    assert text.exit_code == 0 and text.stderr == ""
    for fmt, expected in (("json", []), ("gitlab", [])):
        result = run(runner, *command, "--format", fmt)
        assert result.exit_code == 0 and json.loads(result.stdout) == expected
    parsable = run(runner, *command, "--format", "parsable")
    assert parsable.exit_code == 0 and parsable.stdout == "" and parsable.stderr == ""


@pytest.mark.parametrize(
    ("breaker", "command", "path"),
    [
        (
            _break_validation,
            ["validate", "rendered/demo"],
            "rendered/demo/apps/namespace-demo-hub.yaml",
        ),
        (_break_site, ["render"], "sites/demo.yaml"),
        (_break_site, ["render", "--check"], "sites/demo.yaml"),
    ],
)
def test_every_format_on_problems(
    runner: CliRunner, repo_copy: Path, breaker, command, path
) -> None:
    breaker(repo_copy)
    text = run(runner, *command)
    assert text.exit_code == 1 and text.stderr.startswith(f"{path}:") and ": error: " in text.stderr
    assert "\033[" not in text.output
    parsable = run(runner, *command, "--format", "parsable")
    assert parsable.exit_code == 1 and parsable.stdout == ""
    assert all(
        line.startswith(f"{path}:") and ": [error] " in line
        for line in parsable.stderr.splitlines()
    )
    rows = json.loads(run(runner, *command, "--format", "json").stdout)
    assert rows and set(rows[0]) == {"path", "line", "column", "level", "rule", "message"}
    assert rows[0]["path"] == path and rows[0]["level"] == "error"
    gitlab = run(runner, *command, "--format", "gitlab")
    assert gitlab.exit_code == 1
    issue = json.loads(gitlab.stdout)[0]
    assert set(issue) == {"description", "check_name", "fingerprint", "severity", "location"}
    assert issue["severity"] == "major" and issue["location"]["path"] == path
    assert len(issue["fingerprint"]) == 64


@pytest.mark.usefixtures("repo_copy")
def test_usage_errors_exit_2_in_every_format(runner: CliRunner) -> None:
    for fmt in ("text", "parsable", "json", "gitlab"):
        assert run(runner, "render", "nope", "--format", fmt).exit_code == 2
        assert run(runner, "validate", "nowhere", "--format", fmt).exit_code == 2
    assert run(runner, "render", "--format", "yaml").exit_code == 2


class _Tty:
    def __init__(self, tty: bool) -> None:
        self.tty, self.text = tty, ""

    def isatty(self) -> bool:
        return self.tty

    def write(self, text: str) -> None:
        self.text += text

    def flush(self) -> None:
        pass


def test_use_color_only_on_a_terminal_without_no_color(monkeypatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert use_color(_Tty(True)) and not use_color(_Tty(False))
    monkeypatch.setenv("NO_COLOR", "1")
    assert not use_color(_Tty(True))


def test_progress_only_on_a_terminal_and_cleared() -> None:
    quiet = _Tty(False)
    TerminalProgress(quiet)(1, 5, "a")
    assert quiet.text == ""
    loud = _Tty(True)
    progress = TerminalProgress(loud)
    progress(1, 1, "only")  # one site: nothing to show
    assert loud.text == ""
    progress(2, 5, "b")
    progress.clear()
    assert loud.text == "\r\033[K[2/5] b\r\033[K"


def _run_in_pty(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[int, str]:
    """Run with stdout and stderr on a pseudo-terminal; return (exit code, what it showed)."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        args, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=follower, stderr=follower
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    os.close(leader)
    return proc.wait(timeout=60), b"".join(chunks).decode()


@pytest.mark.slow  # real processes on a pseudo-terminal
def test_terminal_gets_colour_and_progress_pipes_do_not(repo_copy: Path) -> None:
    _break_validation(repo_copy)
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    code, shown = _run_in_pty([*DLAAS_GEN, "validate"], repo_copy, env)
    assert code == 1 and "\033[31merror\033[0m" in shown
    assert "[1/2] rendered/demo" in shown
    code, shown = _run_in_pty([*DLAAS_GEN, "validate"], repo_copy, {**env, "NO_COLOR": "1"})
    assert code == 1 and "\033[31m" not in shown
    piped = subprocess.run(
        [*DLAAS_GEN, "validate"], cwd=repo_copy, env=env, capture_output=True, text=True, timeout=60
    )
    assert piped.returncode == 1 and "\033[" not in piped.stderr + piped.stdout


def test_render_progress_on_a_terminal(repo_copy: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    code, shown = _run_in_pty([*DLAAS_GEN, "render", "--check"], repo_copy, env)
    assert code == 0, shown
    assert "[1/2] demo" in shown and "[2/2] escape" in shown and "up to date" in shown
