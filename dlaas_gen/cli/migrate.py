"""``dlaas-gen migrate``: Flux v1 / Flux v2 beta → current Flux APIs, with a report.

Why: a thin layer; `dlaas_gen.commands.migrate` does the work and returns findings, this module only picks
the report format and maps the result to the exit code, as ``render`` and ``diff`` do: 0 nothing
to do or everything written, 1 changes pending, manual steps left (also after ``--write``) or
errors, 2 usage or a file that cannot be read, 3 internal error.
"""

from __future__ import annotations

import enum
from pathlib import Path

import typer

from dlaas_gen.cli._common import EXIT_USAGE, app, err, handle_errors


class MigrateFormat(str, enum.Enum):
    """Report formats of ``migrate``."""

    text = "text"
    json = "json"


@app.command("migrate")
@handle_errors
def migrate_command(
    paths: list[Path] = typer.Argument(None, help="Files or folders to migrate."),
    write: bool = typer.Option(False, "--write", help="Rewrite changed files in place."),
    out: Path = typer.Option(None, "--out", help="Write a complete migrated copy here instead."),
    scan_dir: Path = typer.Option(
        None, "--scan", help="List every Flux v1 / beta object under DIR with its plan."
    ),
    assume_helm3: bool = typer.Option(
        False, "--assume-helm3", help="Convert Helm Operator releases without helmVersion."
    ),
    default_namespace: str = typer.Option(
        None, "--default-namespace",
        help="Namespace of releases without one when no kustomization.yaml sets it.",
    ),
    no_cross_namespace_refs: bool = typer.Option(
        False, "--no-cross-namespace-refs",
        help="The controllers run with --no-cross-namespace-refs: create sources in each "
             "release's namespace; references to another namespace are manual steps.",
    ),
    fmt: MigrateFormat = typer.Option(MigrateFormat.text, "--format", help="Report format."),
) -> int:
    """Convert Flux v1 (Helm Operator) and Flux v2 beta objects to current Flux APIs."""
    from dlaas_gen.commands.migrate import Options, format_json, format_text, migrate, scan  # lazy

    options = Options(assume_helm3=assume_helm3, default_namespace=default_namespace,
                      no_cross_namespace_refs=no_cross_namespace_refs)
    if scan_dir is not None:
        if write or out is not None:
            err("dlaas-gen: --scan writes nothing; drop --write/--out")
            return EXIT_USAGE
        result = scan([scan_dir, *(paths or [])], options)
        is_scan = True
    else:
        if not paths:
            err("dlaas-gen: give at least one file or folder (or --scan DIR)")
            return EXIT_USAGE
        result = migrate(paths, options, write=write, out=out)
        is_scan = False
    render = format_json if fmt is MigrateFormat.json else format_text
    typer.echo(render(result, scan=is_scan), nl=False)
    if is_scan:
        if any(f.unreadable for f in result.files):
            return 2
        return 1 if result.plans or result.has_errors else 0
    return result.exit_code()
