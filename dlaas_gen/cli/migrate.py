"""``dlaas-gen migrate``: Flux v1 / Flux v2 beta → current Flux APIs, with a report.

Why: a thin layer; `dlaas_gen.commands.migrate` does the work and returns findings, this module
only picks the report format and maps the result to the exit code, as ``render`` and ``diff``
do: 0 nothing to do or everything written, 1 changes pending, manual steps left (also after
``--write``) or errors, 2 usage or a file that cannot be read, 3 internal error.
"""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Annotated

import typer

from dlaas_gen.cli._common import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, err, handle_errors


class MigrateFormat(enum.StrEnum):
    """Report formats of ``migrate``."""

    text = "text"
    json = "json"


PathsArgument = Annotated[list[Path] | None, typer.Argument(help="Files or folders to migrate.")]
WriteOption = Annotated[bool, typer.Option("--write", help="Rewrite changed files in place.")]
OutOption = Annotated[Path | None, typer.Option(
    "--out", help="Write a complete migrated copy here instead.")]
ScanOption = Annotated[Path | None, typer.Option(
    "--scan", help="List every Flux v1 / beta object under DIR with its plan.")]
AssumeHelm3Option = Annotated[bool, typer.Option(
    "--assume-helm3", help="Convert Helm Operator releases without helmVersion.")]
DefaultNamespaceOption = Annotated[str | None, typer.Option(
    "--default-namespace",
    help="Namespace of releases without one when no kustomization.yaml sets it.")]
NoCrossNamespaceRefsOption = Annotated[bool, typer.Option(
    "--no-cross-namespace-refs",
    help="The controllers run with --no-cross-namespace-refs: create sources in each "
         "release's namespace; references to another namespace are manual steps.")]
FormatOption = Annotated[MigrateFormat, typer.Option("--format", help="Report format.")]


@handle_errors
def migrate_command(
    paths: PathsArgument = None,
    write: WriteOption = False,
    out: OutOption = None,
    scan_dir: ScanOption = None,
    assume_helm3: AssumeHelm3Option = False,
    default_namespace: DefaultNamespaceOption = None,
    no_cross_namespace_refs: NoCrossNamespaceRefsOption = False,
    fmt: FormatOption = MigrateFormat.text,
) -> int:
    """Convert Flux v1 (Helm Operator) and Flux v2 beta objects to current Flux APIs."""
    from dlaas_gen.commands.migrate import Options, format_json, format_text, migrate, scan

    options = Options(assume_helm3=assume_helm3, default_namespace=default_namespace,
                      no_cross_namespace_refs=no_cross_namespace_refs)
    render = format_json if fmt is MigrateFormat.json else format_text
    if scan_dir is not None:
        if write or out is not None:
            err("dlaas-gen: --scan writes nothing; drop --write/--out")
            return EXIT_USAGE
        result = scan([scan_dir, *(paths or [])], options)
        typer.echo(render(result, scan=True), nl=False)
        if any(f.unreadable for f in result.files):
            return EXIT_USAGE
        return EXIT_PROBLEMS if result.plans or result.has_errors else EXIT_OK
    if not paths:
        err("dlaas-gen: give at least one file or folder (or --scan DIR)")
        return EXIT_USAGE
    result = migrate(paths, options, write=write, out=out)
    typer.echo(render(result, scan=False), nl=False)
    return result.exit_code()
