"""End-to-end: ``dlaas-gen images`` and the image contexts in ``render``/``validate``."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from dlaas_gen.cli import app


def run(runner: CliRunner, *args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_images_lists_contexts_and_references_parents_first(
    runner: CliRunner, repo_copy: Path
) -> None:
    result = run(runner, "images")
    assert result.exit_code == 0, result.output
    lines = [line.split() for line in result.stdout.splitlines()]
    assert [context for context, _ in lines] == [
        "rendered/escape/images/minimal",
        "rendered/escape/images/root",
    ]
    for context, image in lines:
        assert (repo_copy / context / "Dockerfile").is_file()
        assert image.startswith(
            f"registry.escape.example.org/dlaas/{context.rsplit('/', 1)[1]}:ctx-"
        )
    minimal, root = (image for _, image in lines)
    assert f"FROM {minimal}\n" in (repo_copy / "rendered/escape/images/root/Dockerfile").read_text()
    # The tags are the ones the committed manifests use.
    profiles = (repo_copy / "rendered/escape/apps/configmap-jhub-profiles.yaml").read_text()
    assert f"image: {root}" in profiles
    release = (repo_copy / "rendered/escape/apps/helmrelease-jhub.yaml").read_text()
    assert f"tag: {minimal.rsplit(':', 1)[1]}" in release

    result = run(runner, "images", "escape", "--format", "json")
    entries = json.loads(result.stdout)
    assert [(e["name"], e["level"], e["parent"]) for e in entries] == [
        ("minimal", 0, None),
        ("root", 1, minimal),
    ]
    assert run(runner, "images", "demo").stdout == ""


def test_images_reports_site_errors_and_unknown_sites(runner: CliRunner, repo_copy: Path) -> None:
    site = repo_copy / "sites/escape.yaml"
    site.write_text(site.read_text().replace("    from: minimal\n", "    from: minimum\n"))
    result = run(runner, "images", "escape")
    line = site.read_text().splitlines().index("    from: minimum") + 1
    assert (
        result.exit_code == 1
        and f"sites/escape.yaml:{line}:5: error: `from: minimum`" in result.stderr
    )
    assert run(runner, "images", "nope").exit_code == 2
    assert run(runner, "images", "--format", "gitlab").exit_code == 2


def test_validate_reports_a_broken_context_at_its_dockerfile_line(
    runner: CliRunner, repo_copy: Path
) -> None:
    assert run(runner, "validate").exit_code == 0
    path = repo_copy / "rendered/escape/images/root/Dockerfile"
    text = path.read_text().replace("RUN pip check\n", "RUN pip check\nENV ONLY_A_NAME\n")
    path.write_text(text)
    line = text.splitlines().index("ENV ONLY_A_NAME") + 1
    result = run(runner, "validate")
    assert result.exit_code == 1
    assert (
        f"rendered/escape/images/root/Dockerfile:{line}:1: error: Dockerfile does not parse: "
        "ENV must have two arguments [image-dockerfile]"
    ) in result.stderr
    # render --check sees the hand edit; render puts the context back.
    assert run(runner, "render", "--check").exit_code == 1
    assert run(runner, "render").exit_code == 0 and run(runner, "validate").exit_code == 0
