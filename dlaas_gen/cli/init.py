"""``dlaas-gen init``: start a new site file by answering a few questions (or from an example)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from dlaas_gen.cli._common import EXIT_OK, SitesDirOption, err, handle_errors
from dlaas_gen.defaults import DEFAULT_SITES_DIR, EOS_MODES, IDP_KINDS, STORAGE_TYPES

if TYPE_CHECKING:
    from dlaas_gen.commands.init import Answers, InitResult

SiteArgument = Annotated[str, typer.Argument(help="Name of the new site (a DNS-1123 label).")]
FromOption = Annotated[str | None, typer.Option(
    "--from", help="Copy an example (escape or demo) instead of answering questions.",
    metavar="EXAMPLE")]
IdpOption = Annotated[str | None, typer.Option(
    "--idp", help="Login: none, indigo-iam or keycloak.")]
IssuerOption = Annotated[str | None, typer.Option("--issuer", help="Issuer URL of the IdP.")]
StorageOption = Annotated[str | None, typer.Option(
    "--storage", help="Home directories: dynamic or static.")]
EosOption = Annotated[str | None, typer.Option("--eos", help="EOS mounts: none, daemonset or csi.")]
XcacheOption = Annotated[bool | None, typer.Option(
    "--xcache/--no-xcache", help="An XCache in front of one origin.")]
GitUrlOption = Annotated[str | None, typer.Option(
    "--git-url",
    help="The site's own Git repository (ssh:// or https://); default: flux-system.")]
InteractiveOption = Annotated[bool | None, typer.Option(
    "--interactive/--no-interactive",
    help="Ask for answers not given as flags (default: when standard input is a terminal).")]


def _ask_text(value: str | None, prompt: str, interactive: bool) -> str | None:
    """The flag's value, else the answer to `prompt` (interactive; empty: None), else None."""
    if value is not None or not interactive:
        return value
    return typer.prompt(prompt, default="", show_default=True) or None


def _ask_choice(value: str | None, prompt: str, default: str, interactive: bool,
                choices: tuple[str, ...]) -> str:
    """The flag's value, else the answer to `prompt` (interactive), else `default`."""
    if value is not None or not interactive:
        return default if value is None else value
    answer: str = typer.prompt(f"{prompt} ({'/'.join(choices)})", default=default,
                               show_default=True)
    return answer or default


def _ask_flag(value: bool | None, prompt: str, default: bool, interactive: bool) -> bool:
    """The flag's value, else the answer to a yes/no `prompt` (interactive), else `default`."""
    if value is not None or not interactive:
        return default if value is None else value
    return typer.confirm(prompt, default=default)


@handle_errors
def init_command(
    site: SiteArgument,
    example: FromOption = None,
    idp: IdpOption = None,
    issuer: IssuerOption = None,
    storage: StorageOption = None,
    eos: EosOption = None,
    xcache: XcacheOption = None,
    git_url: GitUrlOption = None,
    interactive: InteractiveOption = None,
    sites_dir: SitesDirOption = DEFAULT_SITES_DIR,
) -> int:
    """Write sites/SITE.yaml from a few answers (or an example); it validates and renders as it is."""  # noqa: E501 - the help line, shown as written
    from dlaas_gen.commands import init as scaffold

    if example is not None:
        result = scaffold.init_site(site, sites_dir, example)
        origin = f"from the {result.example} example"
    else:
        ask = sys.stdin.isatty() if interactive is None else interactive
        answers = _answers(ask, idp=idp, issuer=issuer, storage=storage, eos=eos, xcache=xcache,
                           git_url=git_url)
        result = scaffold.init_site_from_answers(site, sites_dir, answers)
        origin = "from your answers"
    _print_result(result, origin, site)
    return EXIT_OK


def _answers(ask: bool, *, idp: str | None, issuer: str | None, storage: str | None,
             eos: str | None, xcache: bool | None, git_url: str | None) -> Answers:
    """The flags, with the missing ones asked for (when `ask`) or left at their defaults."""
    from dlaas_gen.commands.init import Answers

    idp = _ask_choice(idp, "Login (IdP kind)", "none", ask, IDP_KINDS)
    if idp != "none":
        issuer = _ask_text(issuer, "Issuer URL", ask)
    return Answers(
        idp=idp, issuer=issuer,
        storage=_ask_choice(storage, "Home directories", "dynamic", ask, STORAGE_TYPES),
        eos=_ask_choice(eos, "EOS mounts", "none", ask, EOS_MODES),
        xcache=_ask_flag(xcache, "XCache in front of an origin?", False, ask),
        git_url=_ask_text(git_url, "Own Git repository URL (empty: flux-system)", ask),
    )


def _print_result(result: InitResult, origin: str, site: str) -> None:
    """The files written, the site's warnings, and the next step."""
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
