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
from collections.abc import Callable
from typing import Any, TypeVar

import typer

from dlaas_gen import __version__
from dlaas_gen.errors import DlaasGenError, LockedError, ProblemsError, UsageError

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3


class OutputFormat(str, enum.Enum):
    """Report formats shared by commands that print problems."""

    text = "text"
    parsable = "parsable"
    json = "json"
    gitlab = "gitlab"


app = typer.Typer(
    name="dlaas-gen",
    help="Render Data-Lake-as-a-Service site files into validated Flux v2 manifests.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
)

F = TypeVar("F", bound=Callable[..., Any])


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"dlaas-gen {__version__}")
        raise typer.Exit(EXIT_OK)


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version_callback, is_eager=True, help="Print the version."
    ),
) -> None:
    """Render Data-Lake-as-a-Service site files into validated Flux v2 manifests."""


def err(message: str) -> None:
    """Print one line to standard error."""
    typer.echo(message, err=True)


def use_color(stream: Any = None) -> bool:
    """Colour only on a terminal, never with NO_COLOR set."""
    stream = stream or sys.stdout
    return "NO_COLOR" not in os.environ and hasattr(stream, "isatty") and stream.isatty()


def handle_errors(func: F) -> F:
    """Run a command body and turn library errors into one line and an exit code.

    Why: bad input must never show a traceback; only a real bug (exit 3) prints one, so it can
    be reported.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            code = func(*args, **kwargs)
        except typer.Exit:
            raise
        except ProblemsError as exc:
            for line in dict.fromkeys(p.format() for p in exc.problems):  # each finding once
                err(line)
            raise typer.Exit(EXIT_PROBLEMS) from None
        except LockedError as exc:
            err(f"dlaas-gen: {exc}")
            raise typer.Exit(EXIT_PROBLEMS) from None
        except UsageError as exc:
            err(f"dlaas-gen: {exc}")
            raise typer.Exit(EXIT_USAGE) from None
        except DlaasGenError as exc:
            err(f"dlaas-gen: {exc}")
            raise typer.Exit(EXIT_PROBLEMS) from None
        except KeyboardInterrupt:
            err("dlaas-gen: interrupted")
            raise typer.Exit(130) from None
        except Exception:  # noqa: BLE001 - last resort: a bug, exit 3 with the traceback
            err("dlaas-gen: internal error (a bug; please report it with the lines below)")
            err(traceback.format_exc().rstrip())
            raise typer.Exit(EXIT_INTERNAL) from None
        raise typer.Exit(code or EXIT_OK)

    return wrapper  # type: ignore[return-value]


def main() -> None:
    """Console-script entry point (click already exits 2 on usage errors)."""
    app()
