"""``dlaas-gen images``: the image build contexts of the sites and the references to push."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from dlaas_gen.cli._common import (
    EXIT_OK,
    OutOption,
    OutputFormat,
    SitesDirOption,
    handle_errors,
)
from dlaas_gen.defaults import DEFAULT_OUT_DIR, DEFAULT_SITES_DIR

SitesArgument = Annotated[list[str] | None, typer.Argument(help="Sites (default: all).")]
FormatOption = Annotated[OutputFormat, typer.Option("--format", help="text or json.")]


@handle_errors
def images_command(
    sites: SitesArgument = None,
    sites_dir: SitesDirOption = DEFAULT_SITES_DIR,
    out: OutOption = DEFAULT_OUT_DIR,
    fmt: FormatOption = OutputFormat.text,
) -> int:
    """Print each built image as `<context folder> <image:tag>`, parents first (for CI).

    With `--format json`: a list of {site, name, context, image, parent, level}.
    """
    from dlaas_gen.commands.images import plan_images
    from dlaas_gen.errors import UsageError

    if fmt not in (OutputFormat.text, OutputFormat.json):
        raise UsageError("--format must be text or json")
    planned = plan_images(sites_dir, sites or (), out)
    if fmt is OutputFormat.json:
        typer.echo(json.dumps([p.as_dict() for p in planned], indent=2))
        return EXIT_OK
    for entry in planned:
        typer.echo(f"{entry.context} {entry.image}")
    return EXIT_OK
