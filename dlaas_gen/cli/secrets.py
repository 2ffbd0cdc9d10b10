"""``dlaas-gen secrets``: the Secrets a site expects ops to create (`commands.secrets`)."""

from __future__ import annotations

import enum
import json
from typing import Annotated

import typer

from dlaas_gen.cli._common import EXIT_OK, SitesDirOption, handle_errors
from dlaas_gen.defaults import DEFAULT_SITES_DIR


class SecretsFormat(enum.StrEnum):
    """``secrets`` prints a list, not problems: no parsable or gitlab form (click refuses them)."""

    text = "text"
    json = "json"


SecretsFormatOption = Annotated[SecretsFormat, typer.Option("--format", help="text or json.")]


@handle_errors
def secrets_command(
    site: Annotated[str, typer.Argument(help="Site name.")],
    sites_dir: SitesDirOption = DEFAULT_SITES_DIR,
    fmt: SecretsFormatOption = SecretsFormat.text,
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
