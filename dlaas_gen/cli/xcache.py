"""``dlaas-gen cric sync`` and ``dlaas-gen xcache rucio-config``."""

from __future__ import annotations

from pathlib import Path

import typer

from dlaas_gen.cli._common import EXIT_OK, EXIT_PROBLEMS, app, err, handle_errors
from dlaas_gen.defaults import DEFAULT_SITES_DIR
from dlaas_gen.errors import UsageError

cric_app = typer.Typer(help="The CRIC storage catalogue (XCache origins).", no_args_is_help=True)
xcache_app = typer.Typer(help="XCache helpers.", no_args_is_help=True)
app.add_typer(cric_app, name="cric")
app.add_typer(xcache_app, name="xcache")

SITES_DIR_OPTION = typer.Option(DEFAULT_SITES_DIR, "--sites-dir", help="Folder of site files.")


@cric_app.command("sync")
@handle_errors
def cric_sync_command(
    sites: list[str] = typer.Argument(None, help="Sites to sync (default: all using CRIC)."),
    sites_dir: Path = SITES_DIR_OPTION,
    cric_url: str = typer.Option(None, "--cric-url", help="Override the CRIC URL of the sites."),
    check: bool = typer.Option(False, "--check", help="Write nothing; exit 1 if out of date."),
) -> int:
    """Fetch CRIC and write sites/<site>.origins.yaml (the origins `render` reads).

    Exit status: 0 written or up to date; 1 fetch failed, no origin, or (--check) out of date;
    2 usage error. On failure the lock file is left byte-for-byte as it was.
    """
    from dlaas_gen.commands.cric import CricError, Deadline, sync_site  # lazy: keeps `--help` fast
    from dlaas_gen.commands.cric.sync import uses_cric
    from dlaas_gen.loader import load_site, select_sites

    loaded = [load_site(p) for p in select_sites(sites_dir, sites or ())]
    if sites:
        for site in loaded:
            if not uses_cric(site):
                raise UsageError(f"site {site.name!r} has no xcache.origins.cric section")
    else:
        loaded = [s for s in loaded if uses_cric(s)]
        if not loaded:
            typer.echo("no site takes XCache origins from CRIC")
            return EXIT_OK
    deadline = Deadline()
    failed = False
    for site in loaded:
        try:
            result = sync_site(site, cric_url=cric_url, check=check, deadline=deadline)
        except CricError as exc:
            err(f"dlaas-gen: {site.name}: {exc}")
            failed = True
            continue
        for warning in result.warnings:
            err(f"dlaas-gen: warning: {site.name}: {warning}")
        if check and result.changed:
            err(f"{result.path}: out of date with CRIC: run `dlaas-gen cric sync {site.name}`")
            failed = True
        elif check:
            typer.echo(f"up to date: {result.path} ({result.count} origins)")
        elif result.written:
            typer.echo(f"wrote {result.path} ({result.count} origins)")
        else:
            typer.echo(f"unchanged {result.path} ({result.count} origins)")
    return EXIT_PROBLEMS if failed else EXIT_OK


@xcache_app.command("rucio-config")
@handle_errors
def rucio_config_command(
    site: str = typer.Argument(..., help="Site name."),
    sites_dir: Path = SITES_DIR_OPTION,
) -> int:
    r"""Print the Rucio server settings (\[root-proxy-internal]) for the site's XCache.

    The key is xcache.site_name, unique to the deployment (it contains the ingress host, e.g.
    DLAAS-<ingress host>); a shared name such as CERN is refused at its line, with a proposal.
    Exit status: 0 printed; 1 the site file has problems; 2 usage error.
    """
    from dlaas_gen.context.xcache import rucio_server_config  # lazy: keeps `--help` fast
    from dlaas_gen.loader import load_site, select_sites

    loaded = load_site(select_sites(sites_dir, [site])[0])
    if getattr(loaded.config, "xcache", None) is None:
        raise UsageError(f"site {site!r} has no xcache section")
    typer.echo(rucio_server_config(loaded.config), nl=False)
    return EXIT_OK
