"""``dlaas-gen xcache rucio-config``: the Rucio server settings of a site's XCache."""

from __future__ import annotations

from typing import Annotated

import typer

from dlaas_gen.cli._common import EXIT_OK, PLAIN_HELP, SitesDirOption, handle_errors
from dlaas_gen.defaults import DEFAULT_SITES_DIR

xcache_app = typer.Typer(help="XCache helpers.", no_args_is_help=True,
                         rich_markup_mode=PLAIN_HELP)


@xcache_app.command("rucio-config")
@handle_errors
def rucio_config_command(
    site: Annotated[str, typer.Argument(help="Site name.")],
    sites_dir: SitesDirOption = DEFAULT_SITES_DIR,
) -> int:
    """Print the Rucio server settings ([root-proxy-internal]) for the site's XCache.

    The key is xcache.site_name, unique to the deployment (it contains the ingress host, e.g.
    DLAAS-<ingress host>); a shared name such as CERN is refused at its line, with a proposal.
    Exit status: 0 printed; 1 the site file has problems; 2 usage error.
    """
    from dlaas_gen.context.xcache import rucio_server_config
    from dlaas_gen.errors import UsageError
    from dlaas_gen.loader import load_site, select_sites

    loaded = load_site(select_sites(sites_dir, [site])[0])
    if getattr(loaded.config, "xcache", None) is None:
        raise UsageError(f"site {site!r} has no xcache section")
    typer.echo(rucio_server_config(loaded.config), nl=False)
    return EXIT_OK
