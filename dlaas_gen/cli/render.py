"""``dlaas-gen render``, ``validate`` and ``secrets`` (``schema`` is in `dlaas_gen.cli.schema`)."""

from __future__ import annotations

import enum
import json
import sys
from pathlib import Path

import typer

from dlaas_gen.cli._common import (
    EXIT_OK,
    EXIT_PROBLEMS,
    OutputFormat,
    app,
    err,
    handle_errors,
    use_color,
)
from dlaas_gen.cli._progress import progress_line
from dlaas_gen.defaults import DEFAULT_KUBE_VERSION, DEFAULT_OUT_DIR, DEFAULT_SITES_DIR
from dlaas_gen.errors import ProblemsError, UsageError
from dlaas_gen.problem import Problem, reprefix

# Why the imports inside the commands: `dlaas-gen --help` must start in well under 300 ms; the
# pipeline (pydantic models, jsonschema, Jinja) is imported only by the command that runs.

FORMAT_OPTION = typer.Option(OutputFormat.text, "--format", help="Report format.")


class SecretsFormat(str, enum.Enum):
    """``secrets`` prints a list, not problems: no parsable or gitlab form (click refuses them)."""

    text = "text"
    json = "json"


def _emit(problems: list[Problem], fmt: OutputFormat) -> None:
    from dlaas_gen.report import format_problems

    if fmt in (OutputFormat.json, OutputFormat.gitlab):
        typer.echo(format_problems(problems, fmt.value), nl=False)
    elif problems:
        err(format_problems(problems, fmt.value, color=use_color(sys.stderr)).rstrip("\n"))


@app.command("render")
@handle_errors
def render_command(
    sites: list[str] = typer.Argument(None, help="Sites to render (default: all)."),
    sites_dir: Path = typer.Option(DEFAULT_SITES_DIR, "--sites-dir", help="Folder of site files."),
    out: Path = typer.Option(DEFAULT_OUT_DIR, "--out", help="Parent of the site folders."),
    check: bool = typer.Option(False, "--check", help="Write nothing; exit 1 on drift."),
    force: bool = typer.Option(False, "--force", help="Delete files dlaas-gen did not write."),
    fmt: OutputFormat = FORMAT_OPTION,
) -> int:
    """Render site files into rendered/<site>/ (validated; all or nothing)."""
    from dlaas_gen.pipeline import render_sites

    try:
        with progress_line() as progress:
            report = render_sites(
                sites_dir, sites or (), out, check=check, force=force, progress=progress
            )
    except ProblemsError as exc:
        _emit(exc.problems, fmt)
        return EXIT_PROBLEMS
    _emit(report.problems, fmt)
    if fmt is OutputFormat.text:
        if check:
            typer.echo(f"up to date: {', '.join(report.sites) or 'no sites'}")
        else:
            for site in report.recovered:
                typer.echo(f"recovered an interrupted render of {site}")
            for site in report.written:
                typer.echo(f"rendered {out / site}")
            for site in report.unchanged:
                typer.echo(f"unchanged {out / site}")
            for site in report.removed:
                typer.echo(f"removed {out / site} (its site file is gone)")
    return EXIT_OK


@app.command("validate")
@handle_errors
def validate_command(
    dirs: list[Path] = typer.Argument(None, help="Trees to validate (default: every rendered site)."),
    kube_version: str = typer.Option(
        None, "--kube-version",
        help=f"Kubernetes X.Y (default: the site's kubernetes_version, else {DEFAULT_KUBE_VERSION})."),
    sites_dir: Path = typer.Option(DEFAULT_SITES_DIR, "--sites-dir",
                                   help="Where the site file of each tree (its policy exceptions) is."),
    fmt: OutputFormat = FORMAT_OPTION,
) -> int:
    """Validate rendered trees (or any folder of manifests) offline, with the security policy."""
    from dlaas_gen.tree import load_tree
    from dlaas_gen.validate import validate_tree
    from dlaas_gen.validate.dockerfiles import check_context_folders
    from dlaas_gen.kube_versions import newer_than_bundled
    from dlaas_gen.validate.policy import policy_for_folder, site_for_folder

    if kube_version is not None:
        newer = newer_than_bundled(kube_version)  # a bad version: one line, exit 1
        if newer:
            err(f"dlaas-gen: warning: {newer}")
    folders = list(dirs or [])
    if not folders:
        base = DEFAULT_OUT_DIR
        if not base.is_dir():
            raise UsageError(f"{base} does not exist; pass the folders to validate")
        folders = sorted(p for p in base.iterdir() if p.is_dir() and not p.name.startswith("."))
    problems: list[Problem] = []
    with progress_line() as progress:
        for index, folder in enumerate(folders, 1):
            if not folder.is_dir():
                raise UsageError(f"{folder} is not a folder")
            progress(index, len(folders), str(folder))
            problems.extend(reprefix(p, folder) for p in check_context_folders(folder))
            try:
                tree = load_tree(folder)
            except ProblemsError as exc:
                problems.extend(exc.problems)
                continue
            policy = policy_for_folder(folder, sites_dir)
            site = site_for_folder(folder, sites_dir)
            version = kube_version or (site.kubernetes_version if site else DEFAULT_KUBE_VERSION)
            found = validate_tree(tree, version, policy=policy)
            problems.extend(reprefix(p, folder) for p in found)
    _emit(problems, fmt)
    if fmt is OutputFormat.text and not any(p.is_error for p in problems):
        typer.echo(f"valid: {', '.join(str(f) for f in folders)}")
    return EXIT_PROBLEMS if any(p.is_error for p in problems) else EXIT_OK


@app.command("secrets")
@handle_errors
def secrets_command(
    site: str = typer.Argument(..., help="Site name."),
    sites_dir: Path = typer.Option(DEFAULT_SITES_DIR, "--sites-dir", help="Folder of site files."),
    fmt: SecretsFormat = typer.Option(SecretsFormat.text, "--format", help="text or json."),
) -> int:
    """List every Secret (namespace/name/key) the site expects ops to create."""
    from dlaas_gen.commands.secrets import expected_secrets
    from dlaas_gen.loader import select_sites

    path = select_sites(sites_dir, [site])[0]
    rows = expected_secrets(path)
    if fmt is SecretsFormat.json:
        typer.echo(json.dumps([r.__dict__ for r in rows], indent=2))
        return EXIT_OK
    if not rows:
        typer.echo(f"{site}: no Secrets needed")
    for r in rows:
        typer.echo(f"{r.namespace}/{r.name} key={r.key}  # {r.used_for} ({r.target})")
    return EXIT_OK
