"""Exception types shared by the library.

Why: the CLI maps exception classes to exit codes (user errors → 1 or 2, bugs → 3), so the
library raises typed errors carrying structured problems instead of printing or exiting.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dlaas_gen.problem import Problem


class DlaasGenError(Exception):
    """Base class of every error the library raises on purpose."""


class UsageError(DlaasGenError):
    """Bad invocation or unreadable input (exit code 2)."""


class ProblemsError(DlaasGenError):
    """One or more problems found in user input (exit code 1).

    Attributes:
        problems: every problem found, not just the first.
    """

    def __init__(self, problems: Sequence[Problem]):
        """Keep every problem; the message names the first three."""
        self.problems = list(problems)
        super().__init__("; ".join(p.format() for p in self.problems[:3]))


class ConfigError(ProblemsError):
    """A site file failed to parse or validate."""


class LockedError(DlaasGenError):
    """Another dlaas-gen run holds the render lock (`dlaas_gen.render_lock`)."""
