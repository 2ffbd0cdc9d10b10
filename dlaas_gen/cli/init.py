"""``dlaas-gen init``: start a new site file by answering a few questions (or from an example)."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from dlaas_gen.cli._common import EXIT_OK, app, err, handle_errors
from dlaas_gen.defaults import DEFAULT_SITES_DIR, EOS_MODES, IDP_KINDS, STORAGE_TYPES


def _ask(value, prompt: str, default, interactive: bool, choices: tuple[str, ...] = ()):
    """The flag's value, else the answer to `prompt` (interactive), else `default`."""
    if value is not None or not interactive:
        return default if value is None else value
    if isinstance(default, bool):
        return typer.confirm(prompt, default=default)
    shown = f"{prompt} ({'/'.join(choices)})" if choices else prompt
    answer = typer.prompt(shown, default=default if default is not None else "", show_default=True)
    return answer or None


@app.command("init")
@handle_errors
def init_command(
    site: str = typer.Argument(..., help="Name of the new site (a DNS-1123 label)."),
    example: str = typer.Option(
        None, "--from", help="Copy an example (escape or demo) instead of answering questions.",
        metavar="EXAMPLE"),
    idp: str = typer.Option(None, "--idp", help="Login: none, indigo-iam or keycloak."),
    issuer: str = typer.Option(None, "--issuer", help="Issuer URL of the IdP."),
    storage: str = typer.Option(None, "--storage", help="Home directories: dynamic or static."),
    eos: str = typer.Option(None, "--eos", help="EOS mounts: none, daemonset or csi."),
    xcache: bool = typer.Option(None, "--xcache/--no-xcache", help="An XCache in front of one origin."),
    git_url: str = typer.Option(
        None, "--git-url",
        help="The site's own Git repository (ssh:// or https://); default: flux-system."),
    interactive: bool = typer.Option(
        None, "--interactive/--no-interactive",
        help="Ask for answers not given as flags (default: when standard input is a terminal)."),
    sites_dir: Path = typer.Option(DEFAULT_SITES_DIR, "--sites-dir", help="Folder of site files."),
) -> int:
    """Write sites/SITE.yaml from a few answers (or an example); it validates and renders as it is."""
    from dlaas_gen.commands import init as scaffold  # lazy: keeps `--help` fast

    if example is not None:
        result = scaffold.init_site(site, sites_dir, example)
        origin = f"from the {result.example} example"
    else:
        ask = sys.stdin.isatty() if interactive is None else interactive
        idp = _ask(idp, "Login (IdP kind)", "none", ask, IDP_KINDS)
        if idp != "none":
            issuer = _ask(issuer, "Issuer URL", None, ask)
        answers = scaffold.Answers(
            idp=idp, issuer=issuer,
            storage=_ask(storage, "Home directories", "dynamic", ask, STORAGE_TYPES),
            eos=_ask(eos, "EOS mounts", "none", ask, EOS_MODES),
            xcache=_ask(xcache, "XCache in front of an origin?", False, ask),
            git_url=_ask(git_url, "Own Git repository URL (empty: flux-system)", None, ask),
        )
        result = scaffold.init_site_from_answers(site, sites_dir, answers)
        origin = "from your answers"
    for problem in result.warnings:
        err(problem.format())
    typer.echo(f"wrote {result.site_file} ({origin})")
    if result.schema_file is not None:
        typer.echo(f"wrote {result.schema_file}")
    if result.gitignore_file is not None:
        typer.echo(f"wrote {result.gitignore_file} (the render lock is not committed)")
    typer.echo(
        f"checked: {result.objects} objects render and validate; next: edit it, then run "
        f"`dlaas-gen render {site}`"
    )
    return EXIT_OK
