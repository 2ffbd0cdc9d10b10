"""``dlaas-gen render``: site files into validated ``rendered/<site>/`` folders (`pipeline`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from dlaas_gen.cli._common import (
    EXIT_OK,
    EXIT_PROBLEMS,
    FormatOption,
    OutOption,
    OutputFormat,
    SitesDirOption,
    emit_problems,
    handle_errors,
)
from dlaas_gen.cli._progress import progress_line
from dlaas_gen.defaults import DEFAULT_OUT_DIR, DEFAULT_SITES_DIR

if TYPE_CHECKING:
    from dlaas_gen.pipeline import RenderReport


SitesArgument = Annotated[list[str] | None, typer.Argument(help="Sites to render (default: all).")]
CheckOption = Annotated[bool, typer.Option("--check", help="Write nothing; exit 1 on drift.")]
ForceOption = Annotated[bool, typer.Option("--force", help="Delete files dlaas-gen did not write.")]
NoCacheOption = Annotated[bool, typer.Option(
    "--no-cache", help="With --check: always build the sites (also DLAAS_GEN_NO_CACHE=1).")]


@handle_errors
def render_command(
    sites: SitesArgument = None,
    sites_dir: SitesDirOption = DEFAULT_SITES_DIR,
    out: OutOption = DEFAULT_OUT_DIR,
    check: CheckOption = False,
    force: ForceOption = False,
    fmt: FormatOption = OutputFormat.text,
    no_cache: NoCacheOption = False,
) -> int:
    """Render site files into rendered/<site>/ (validated; all or nothing)."""
    from dlaas_gen.errors import ProblemsError

    try:
        if check:  # the cache module imports the pipeline only when the cache cannot answer
            from dlaas_gen.commands.check_cache import cache_enabled, render_check

            with progress_line() as progress:
                outcome = render_check(sites_dir, sites or (), out, progress=progress,
                                       use_cache=cache_enabled(no_cache))
            emit_problems(outcome.problems, fmt)
            if fmt is OutputFormat.text:
                typer.echo(f"up to date: {', '.join(outcome.sites) or 'no sites'}")
            return EXIT_OK
        from dlaas_gen.pipeline import render_sites

        with progress_line() as progress:
            report = render_sites(sites_dir, sites or (), out, force=force, progress=progress)
    except ProblemsError as exc:
        emit_problems(exc.problems, fmt)
        return EXIT_PROBLEMS
    emit_problems(report.problems, fmt)
    if fmt is OutputFormat.text:
        _print_outcome(report, out)
    return EXIT_OK


def _print_outcome(report: RenderReport, out: Path) -> None:
    """One line per site: what the write did."""
    for site in report.recovered:
        typer.echo(f"recovered an interrupted render of {site}")
    for site in report.written:
        typer.echo(f"rendered {out / site}")
    for site in report.unchanged:
        typer.echo(f"unchanged {out / site}")
    for site in report.removed:
        typer.echo(f"removed {out / site} (its site file is gone)")
