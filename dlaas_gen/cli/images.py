"""``dlaas-gen images``: the image build contexts of the sites and the references to push."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from dlaas_gen.cli._common import EXIT_OK, OutputFormat, app, handle_errors
from dlaas_gen.defaults import DEFAULT_OUT_DIR, DEFAULT_SITES_DIR
from dlaas_gen.errors import UsageError


@app.command("images")
@handle_errors
def images_command(
    sites: list[str] = typer.Argument(None, help="Sites (default: all)."),
    sites_dir: Path = typer.Option(DEFAULT_SITES_DIR, "--sites-dir", help="Folder of site files."),
    out: Path = typer.Option(DEFAULT_OUT_DIR, "--out", help="Parent of the site folders."),
    fmt: OutputFormat = typer.Option(OutputFormat.text, "--format", help="text or json."),
) -> int:
    """Print each built image as `<context folder> <image:tag>`, parents first (for CI).

    With `--format json`: a list of {site, name, context, image, parent, level}.
    """
    from dlaas_gen.commands.images import plan_images  # lazy: keeps `--help` fast

    if fmt not in (OutputFormat.text, OutputFormat.json):
        raise UsageError("--format must be text or json")
    planned = plan_images(sites_dir, sites or (), out)
    if fmt is OutputFormat.json:
        typer.echo(json.dumps([p.as_dict() for p in planned], indent=2))
        return EXIT_OK
    for entry in planned:
        typer.echo(f"{entry.context} {entry.image}")
    return EXIT_OK
