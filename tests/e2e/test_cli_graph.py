"""End-to-end: ``dlaas-gen graph``."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from dlaas_gen.cli import app


def test_graph_formats(runner: CliRunner, repo_copy: Path) -> None:
    mermaid = runner.invoke(app, ["graph", "demo"])
    assert mermaid.exit_code == 0, mermaid.output
    assert mermaid.stdout.startswith("flowchart LR\n") and "HelmRelease demo" in mermaid.stdout
    dot = runner.invoke(app, ["graph", "demo", "--format", "dot"])
    assert dot.exit_code == 0 and dot.stdout.startswith("digraph site {")
    assert runner.invoke(app, ["graph", "demo", "-o", "g.mmd"]).exit_code == 0
    assert (repo_copy / "g.mmd").read_text() == mermaid.stdout


def test_graph_errors(runner: CliRunner, repo_copy: Path) -> None:
    assert runner.invoke(app, ["graph", "nope"]).exit_code == 2
    site = repo_copy / "sites/demo.yaml"
    site.write_text(site.read_text().replace("namespace: demo-hub", "namespace: Demo"))
    result = runner.invoke(app, ["graph", "demo"])
    assert result.exit_code == 1 and "sites/demo.yaml:" in result.stderr
    assert runner.invoke(app, ["graph", "demo", "--format", "svg"]).exit_code == 2
