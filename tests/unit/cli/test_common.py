"""The one error handler: each library error is one line on stderr and its exit code.

Exit codes are the interface (0 ok, 1 problems, 2 usage or unreadable input, 3 a bug); only a
bug prints a traceback, and a finding reported twice is printed once.
"""

from __future__ import annotations

import io

import pytest
import typer
from typer.testing import CliRunner

from dlaas_gen.cli import _common
from dlaas_gen.cli._progress import TerminalProgress, progress_line
from dlaas_gen.errors import ConfigError, DlaasGenError, LockedError, ProblemsError, UsageError
from dlaas_gen.problem import WARNING, Problem

PROBLEM = Problem("sites/a.yaml", 3, 5, rule="site-schema", message="bad value")


def _run(raise_: BaseException | None = None, code: int | None = None):
    app = typer.Typer()

    @app.command()
    @_common.handle_errors
    def cmd() -> int | None:
        if raise_ is not None:
            raise raise_
        return code

    return CliRunner().invoke(app, [])


@pytest.mark.parametrize(("error", "code", "stderr"), [
    (ProblemsError([PROBLEM, PROBLEM]), 1,
     "sites/a.yaml:3:5: error: bad value [site-schema]\n"),
    (ConfigError([PROBLEM, Problem("sites/a.yaml", 9, 1, WARNING, "hint", "w")]), 1,
     "sites/a.yaml:3:5: error: bad value [site-schema]\nsites/a.yaml:9:1: warning: w [hint]\n"),
    (LockedError("another run holds rendered/.lock"), 1,
     "dlaas-gen: another run holds rendered/.lock\n"),
    (UsageError("no site named 'x'"), 2, "dlaas-gen: no site named 'x'\n"),
    (DlaasGenError("chart lock is stale"), 1, "dlaas-gen: chart lock is stale\n"),
    (KeyboardInterrupt(), 130, "dlaas-gen: interrupted\n"),
])
def test_library_errors_are_one_line_and_an_exit_code(error, code, stderr) -> None:
    result = _run(error)
    assert (result.exit_code, result.stderr, result.stdout) == (code, stderr, "")


def test_a_bug_exits_3_with_its_traceback() -> None:
    result = _run(ZeroDivisionError("boom"))
    assert result.exit_code == _common.EXIT_INTERNAL == 3
    first, *rest = result.stderr.splitlines()
    assert first == "dlaas-gen: internal error (a bug; please report it with the lines below)"
    assert rest[0] == "Traceback (most recent call last):"
    assert rest[-1] == "ZeroDivisionError: boom"


@pytest.mark.parametrize(("returned", "code"), [(None, 0), (0, 0), (1, 1), (2, 2)])
def test_the_returned_code_is_the_exit_code(returned, code) -> None:
    result = _run(code=returned)
    assert (result.exit_code, result.stderr) == (code, "")


def test_exit_code_constants() -> None:
    assert (_common.EXIT_OK, _common.EXIT_PROBLEMS, _common.EXIT_USAGE,
            _common.EXIT_INTERNAL) == (0, 1, 2, 3)


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_color_only_on_a_terminal_without_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert _common.use_color(_Tty()) is True
    assert _common.use_color(io.StringIO()) is False
    monkeypatch.setenv("NO_COLOR", "")
    assert _common.use_color(_Tty()) is False


def test_progress_is_silent_off_a_terminal() -> None:
    stream = io.StringIO()
    with progress_line(stream) as progress:
        progress(1, 5, "alpha")
    assert stream.getvalue() == ""


def test_progress_on_a_terminal_is_cleared_however_the_block_ends() -> None:
    stream = _Tty()
    with pytest.raises(RuntimeError), progress_line(stream) as progress:
        progress(1, 1, "only")  # one site: too fast to show
        progress(2, 3, "beta")
        raise RuntimeError
    assert stream.getvalue() == "\r\033[K[2/3] beta\r\033[K"


def test_progress_clear_without_a_line_writes_nothing() -> None:
    stream = _Tty()
    TerminalProgress(stream).clear()
    assert stream.getvalue() == ""
