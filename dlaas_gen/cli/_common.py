"""Shared CLI plumbing: the typer app, exit codes and the error-to-exit-code mapping.

Why: exit codes are part of the interface (0 ok, 1 problems or drift, 2 usage or unreadable
input, 3 internal error), so one function decides them for every command, as pre-commit's
error_handler does.
"""

from __future__ import annotations

import enum
import functools
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from dlaas_gen import __version__

if TYPE_CHECKING:
    from dlaas_gen.problem import Problem

# Why the library is imported inside the command functions (and the errors inside the error
# handler): `dlaas-gen --help` must start fast, so importing the CLI loads only typer and
# `dlaas_gen.defaults`; the pipeline (pydantic models, jsonschema, Jinja) is imported only by
# the command that runs (tests/unit/cli checks the modules `--help` loads).

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3
EXIT_INTERRUPTED = 130


class OutputFormat(enum.StrEnum):
    """Report formats shared by commands that print problems."""

    text = "text"
    parsable = "parsable"
    json = "json"
    gitlab = "gitlab"


#: ``--sites-dir`` of the commands that read site files.
SitesDirOption = Annotated[Path, typer.Option("--sites-dir", help="Folder of site files.")]
#: ``--out`` of the commands that write or read rendered site folders.
OutOption = Annotated[Path, typer.Option("--out", help="Parent of the site folders.")]
#: ``--format`` of the commands that print problems.
FormatOption = Annotated[OutputFormat, typer.Option("--format", help="Report format.")]

#: Plain click help on every app: Rich formatting imports ~50 ms of modules (rich, markdown),
#: half of what ``--help`` may take (issue 16: at most 100 ms).
PLAIN_HELP = None

app = typer.Typer(
    name="dlaas-gen",
    help="Render Data-Lake-as-a-Service site files into validated Flux v2 manifests.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=PLAIN_HELP,
)

F = TypeVar("F", bound=Callable[..., Any])


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"dlaas-gen {__version__}")
        raise typer.Exit(EXIT_OK)


@app.callback()
def _root(
    version: Annotated[bool, typer.Option(
        "--version", callback=_version_callback, is_eager=True, help="Print the version.",
    )] = False,
) -> None:
    """Render Data-Lake-as-a-Service site files into validated Flux v2 manifests."""


def err(message: str) -> None:
    """Print one line to standard error."""
    typer.echo(message, err=True)


def use_color(stream: Any = None) -> bool:
    """Colour only on a terminal, never with NO_COLOR set."""
    stream = stream or sys.stdout
    return "NO_COLOR" not in os.environ and hasattr(stream, "isatty") and stream.isatty()


def emit_problems(problems: Sequence[Problem], fmt: OutputFormat) -> None:
    """Print `problems`: machine formats (json, gitlab) on stdout, always; others on stderr."""
    from dlaas_gen.report import format_problems

    if fmt in (OutputFormat.json, OutputFormat.gitlab):
        typer.echo(format_problems(problems, fmt.value), nl=False)
    elif problems:
        err(format_problems(problems, fmt.value, color=use_color(sys.stderr)).rstrip("\n"))


def report_error(exc: BaseException) -> int:
    """Print a library error as its lines; return its exit code.

    Why: bad input must never show a traceback; only a real bug (exit 3) prints one, so it can
    be reported. Called inside the ``except`` block, so the traceback is the current one.
    """
    from dlaas_gen.errors import DlaasGenError, ProblemsError, UsageError

    if isinstance(exc, ProblemsError):
        for line in dict.fromkeys(p.format() for p in exc.problems):  # each finding once
            err(line)
        return EXIT_PROBLEMS
    if isinstance(exc, KeyboardInterrupt):
        err("dlaas-gen: interrupted")
        return EXIT_INTERRUPTED
    if isinstance(exc, DlaasGenError):  # UsageError, LockedError, any other library error
        err(f"dlaas-gen: {exc}")
        return EXIT_USAGE if isinstance(exc, UsageError) else EXIT_PROBLEMS
    err("dlaas-gen: internal error (a bug; please report it with the lines below)")
    err(traceback.format_exc().rstrip())
    return EXIT_INTERNAL


def handle_errors(func: F) -> F:
    """Run a command body; turn its return value or library error into the exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            code = func(*args, **kwargs)
        except typer.Exit:
            raise
        except (Exception, KeyboardInterrupt) as exc:
            raise typer.Exit(report_error(exc)) from None
        raise typer.Exit(code or EXIT_OK)

    return wrapper  # type: ignore[return-value]  # functools.wraps keeps the signature typer reads


#: jsonschema's optional format checkers: it imports them when installed (the test extra's
#: jupyter_server brings them, ~20 ms with arrow), and dlaas-gen never checks ``format``
#: (no validator is given a format checker). Not ``idna``: requests needs it.
FORMAT_ONLY_MODULES = ("fqdn", "rfc3987", "rfc3986_validator", "rfc3339_validator", "webcolors",
                       "jsonpointer", "uri_template", "isoduration")


def main() -> None:
    """Console-script entry point (click already exits 2 on usage errors).

    Why the two settings: they save ~30 ms of imports on every command that loads the
    pipeline, and they are made only here, in the ``dlaas-gen`` process, never when the
    library is imported by another program: jsonschema's format-only dependencies are hidden
    (`FORMAT_ONLY_MODULES`), and pydantic skips its plugin discovery (an entry-point scan of
    every installed distribution; dlaas-gen's models use no plugin).
    """
    for name in FORMAT_ONLY_MODULES:
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    app()
