"""``dlaas-gen chart pull``: lock the sites' z2jh chart versions (`dlaas_gen.commands.charts`)."""

from __future__ import annotations

from typing import Annotated

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

chart_app = typer.Typer(help="The z2jh Helm chart: versions locked under charts/.",
                        no_args_is_help=True, rich_markup_mode=PLAIN_HELP)

SitesArgument = Annotated[list[str] | None, typer.Argument(
    help="Sites whose chart to pull (default: all).")]
RepoUrlOption = Annotated[str | None, typer.Option(
    "--repo-url",
    help="Pull from this Helm repository (a mirror) instead of the sites' chart.repo_url; "
    "http:// only for a loopback host.")]


@chart_app.command("pull")
@handle_errors
def chart_pull_command(
    sites: SitesArgument = None,
    sites_dir: SitesDirOption = DEFAULT_SITES_DIR,
    repo_url: RepoUrlOption = None,
) -> int:
    """Fetch each site's pinned chart, verify its digest, write charts/jupyterhub-<version>/.

    The folder holds the archive, its values.yaml and its values.schema.json; render reads
    them offline. Exit status: 0 written or unchanged; 1 a pull failed (its folder is left as
    it was); 2 usage error.
    """
    from dlaas_gen.chart_lock import CHART, charts_dir_for
    from dlaas_gen.commands.charts.pull import ChartPullError, check_repo_url, pull_chart
    from dlaas_gen.commands.cric.fetch import Deadline
    from dlaas_gen.loader import load_site, select_sites

    if repo_url is not None:
        check_repo_url(repo_url)
    loaded = [load_site(p) for p in select_sites(sites_dir, sites or ())]
    charts_dir = charts_dir_for(sites_dir)
    wanted: dict[tuple[str, str], list[str]] = {}
    for site in loaded:
        source = repo_url or site.config.chart.repo_url
        wanted.setdefault((source, site.config.chart.version), []).append(site.name)
    if not wanted:
        typer.echo("no site to pull a chart for")
        return EXIT_OK
    deadline = Deadline(seconds=120.0 * len(wanted))
    failed = False
    for (source, version), names in sorted(wanted.items(), key=lambda item: item[0][1]):
        try:
            result = pull_chart(source, CHART, version, charts_dir, deadline=deadline)
        except ChartPullError as exc:
            err(f"dlaas-gen: {', '.join(names)}: {exc}")
            failed = True
            continue
        what = "wrote" if result.written else "unchanged"
        typer.echo(f"{what} {result.folder}/ ({CHART} {version}, {result.digest}, "
                   f"for {', '.join(names)})")
    return EXIT_PROBLEMS if failed else EXIT_OK
