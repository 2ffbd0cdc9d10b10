"""``dlaas-gen eos csi-values``: the eosxd-csi chart values a csi-mode site needs."""

from __future__ import annotations

from typing import Annotated

import typer

from dlaas_gen.cli._common import EXIT_OK, PLAIN_HELP, SitesDirOption, handle_errors
from dlaas_gen.defaults import DEFAULT_SITES_DIR

eos_app = typer.Typer(help="EOS helpers.", no_args_is_help=True, rich_markup_mode=PLAIN_HELP)


@eos_app.command("csi-values")
@handle_errors
def csi_values_command(
    site: Annotated[str, typer.Argument(help="Site name.")],
    sites_dir: SitesDirOption = DEFAULT_SITES_DIR,
) -> int:
    """Print the eosxd-csi chart values (fuse.<name>.conf, auto.eos) for the driver's admin."""
    from dlaas_gen import yamlio
    from dlaas_gen.context.eos import csi_chart_values
    from dlaas_gen.errors import UsageError
    from dlaas_gen.loader import load_site, select_sites

    loaded = load_site(select_sites(sites_dir, [site])[0])
    eos = loaded.config.eos
    if eos is None or eos.mode != "csi":
        raise UsageError(f"site {site!r} does not use eos.mode: csi")
    typer.echo("# Values for the eosxd-csi Helm release (its chart owns the ConfigMap "
               "eos-csi-dir-etc-eos).\n# auto.eos is one string: add these lines to the "
               "entries the release already has.")
    typer.echo(yamlio.dump_doc(csi_chart_values(eos)), nl=False)
    return EXIT_OK
