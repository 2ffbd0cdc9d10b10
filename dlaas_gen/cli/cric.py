"""``dlaas-gen cric sync``: the XCache origins file of each site from CRIC (`commands.cric`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from dlaas_gen.cli._common import (
    EXIT_OK,
    EXIT_PROBLEMS,
    PLAIN_HELP,
    SitesDirOption,
    err,
    handle_errors,
)
from dlaas_gen.defaults import DEFAULT_SITES_DIR

if TYPE_CHECKING:
    from pathlib import Path

    from dlaas_gen.loader import LoadedSite

cric_app = typer.Typer(help="The CRIC storage catalogue (XCache origins).",
                      no_args_is_help=True, rich_markup_mode=PLAIN_HELP)

SitesArgument = Annotated[list[str] | None, typer.Argument(
    help="Sites to sync (default: all using CRIC).")]
CricUrlOption = Annotated[str | None, typer.Option(
    "--cric-url", help="Override the CRIC URL of the sites.")]
CheckOption = Annotated[bool, typer.Option(
    "--check", help="Write nothing; exit 1 if out of date.")]


@cric_app.command("sync")
@handle_errors
def cric_sync_command(
    sites: SitesArgument = None,
    sites_dir: SitesDirOption = DEFAULT_SITES_DIR,
    cric_url: CricUrlOption = None,
    check: CheckOption = False,
) -> int:
    """Fetch CRIC and write sites/<site>.origins.yaml (the origins `render` reads).

    Exit status: 0 written or up to date; 1 fetch failed, no origin, or (--check) out of date;
    2 usage error. On failure the origins file is left byte-for-byte as it was.
    """
    from dlaas_gen.commands.cric import CricError, Deadline, sync_site

    loaded = _sites_using_cric(sites_dir, sites or [])
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
        else:
            what = "up to date:" if check else "wrote" if result.written else "unchanged"
            typer.echo(f"{what} {result.path} ({result.count} origins)")
    return EXIT_PROBLEMS if failed else EXIT_OK


def _sites_using_cric(sites_dir: Path, names: list[str]) -> list[LoadedSite]:
    """The named sites (each must use CRIC), or every site that uses CRIC.

    Raises:
        UsageError: a named site has no ``xcache.origins.cric`` section.
    """
    from dlaas_gen.commands.cric.sync import uses_cric
    from dlaas_gen.errors import UsageError
    from dlaas_gen.loader import load_site, select_sites

    loaded = [load_site(p) for p in select_sites(sites_dir, names)]
    for site in loaded if names else ():
        if not uses_cric(site):
            raise UsageError(f"site {site.name!r} has no xcache.origins.cric section")
    return [s for s in loaded if uses_cric(s)]
