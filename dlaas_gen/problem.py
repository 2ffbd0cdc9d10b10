"""The `Problem` record every check produces.

Why: checks yield data; formatting and exit codes are decided in one place (report.py, cli.py),
as yamllint does with its LintProblem.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import PurePath

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True, order=True)
class Problem:
    """One finding, located in a file.

    Attributes:
        path: file the finding is about (as given, usually relative).
        line: 1-based line, 0 when unknown.
        col: 1-based column, 0 when unknown.
        level: ``error`` or ``warning``.
        rule: short rule id, e.g. ``site-schema`` or ``profile-default``.
        message: one line for a human.
    """

    path: str
    line: int = 0
    col: int = 0
    level: str = field(default=ERROR, compare=False)
    rule: str = ""
    message: str = ""

    @property
    def is_error(self) -> bool:
        """True when the problem must fail the run."""
        return self.level == ERROR

    def format(self) -> str:
        """Return ``path:line:col: level: message [rule]`` on one line."""
        where = _one_line(self.path)
        if self.line:
            where += f":{self.line}:{self.col or 1}"
        return f"{where}: {self.level}: {_one_line(self.message)} [{self.rule}]"


def reprefix(problem: Problem, new: str | os.PathLike[str],
             old: str | os.PathLike[str] | None = None) -> Problem:
    """`problem` named from another place; line, column, level, rule and message kept.

    Why: checks report paths relative to what they were given (a rendered folder, a scratch
    copy); the user must see the path they can open. This is the one place that rewrites them.

    Args:
        problem: a finding.
        new: the folder (or file) to name the finding from.
        old: without it, ``problem.path`` is relative to `new` (a finding inside a rendered
            folder, named from the folder's parent) and becomes ``new/path``. With it, a path
            that is `old` or lies inside it is moved to `new` (a finding in a scratch copy,
            named at the real file); a problem elsewhere comes back unchanged.

    Returns:
        The problem with its new path.
    """
    if old is None:
        return replace(problem, path=str(PurePath(new) / problem.path))
    try:
        rest = PurePath(problem.path).relative_to(old)
    except ValueError:
        return problem
    return replace(problem, path=str(PurePath(new) / rest))


_CONTROL = {c: f"\\x{c:02x}" for c in [*range(0x20), 0x7F, 0x85]}
_CONTROL.update({ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t",
                 0x2028: "\\u2028", 0x2029: "\\u2029"})


def _one_line(text: str) -> str:
    """`text` with line breaks and control characters escaped.

    Why: messages quote keys and values from user files; a key holding a newline would
    otherwise split one problem over two lines and break ``file:line:col`` parsers.
    """
    return text.translate(_CONTROL)
