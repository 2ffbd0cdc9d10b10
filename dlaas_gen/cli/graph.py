"""``dlaas-gen graph``: draw what Flux applies for a site (Mermaid or Graphviz DOT)."""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Annotated

import typer

from dlaas_gen.cli._common import EXIT_OK, SitesDirOption, err, handle_errors
from dlaas_gen.defaults import DEFAULT_OUT_DIR, DEFAULT_SITES_DIR


class GraphFormat(enum.StrEnum):
    """Outputs of ``dlaas-gen graph``."""

    mermaid = "mermaid"
    dot = "dot"


SiteArgument = Annotated[str, typer.Argument(help="Site to draw.")]
FormatOption = Annotated[GraphFormat, typer.Option("--format", help="mermaid or dot.")]
OutputOption = Annotated[Path | None, typer.Option("--output", "-o", help="Write to a file.")]


@handle_errors
def graph_command(
    site: SiteArgument,
    fmt: FormatOption = GraphFormat.mermaid,
    sites_dir: SitesDirOption = DEFAULT_SITES_DIR,
    output: OutputOption = None,
) -> int:
    """Draw Kustomizations, sources, HelmReleases, their values and the pods' mounts."""
    from dlaas_gen.commands.graph import site_graph, to_dot, to_mermaid
    from dlaas_gen.errors import ProblemsError
    from dlaas_gen.loader import select_sites
    from dlaas_gen.pipeline import build_site

    built = build_site(select_sites(sites_dir, [site])[0], DEFAULT_OUT_DIR)
    errors = [p for p in built.problems if p.is_error]
    if errors:
        raise ProblemsError(errors)
    for problem in built.problems:
        err(problem.format())
    graph = site_graph(built.manifests)
    text = to_dot(graph) if fmt is GraphFormat.dot else to_mermaid(graph)
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {output}")
    return EXIT_OK
