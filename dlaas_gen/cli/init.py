"""``dlaas-gen init``: start a new site file from a shipped example."""

from __future__ import annotations

from pathlib import Path

import typer

from dlaas_gen.cli._common import EXIT_OK, app, err, handle_errors
from dlaas_gen.cli._common import DEFAULT_SITES_DIR

DEFAULT_EXAMPLE = "demo"  # = dlaas_gen.scaffold.DEFAULT_EXAMPLE (tests check)


@app.command("init")
@handle_errors
def init_command(
    site: str = typer.Argument(..., help="Name of the new site (a DNS-1123 label)."),
    example: str = typer.Option(
        DEFAULT_EXAMPLE, "--from", help="Example to copy: escape or demo.", metavar="EXAMPLE"
    ),
    sites_dir: Path = typer.Option(DEFAULT_SITES_DIR, "--sites-dir", help="Folder of site files."),
) -> int:
    """Write sites/SITE.yaml from an example; it validates and renders as it is."""
    from dlaas_gen.scaffold import init_site  # lazy: keeps `--help` fast

    result = init_site(site, sites_dir, example)
    for problem in result.warnings:
        err(problem.format())
    typer.echo(f"wrote {result.site_file} (from the {result.example} example)")
    if result.schema_file is not None:
        typer.echo(f"wrote {result.schema_file}")
    typer.echo(
        f"checked: {result.objects} objects render and validate; next: edit it, then run "
        f"`dlaas-gen render {site}`"
    )
    return EXIT_OK
