"""Progress of runs over many sites, on a terminal only.

Why: progress lines are for people watching; in CI logs, pipes and pre-commit output they are
noise, so they go to standard error and only when it is a terminal, and the line is cleared
before the report is printed.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import Any, TextIO

#: Fewer sites than this finish too fast to need a progress line.
MIN_SITES = 2


class TerminalProgress:
    """A ``[3/40] site`` line rewritten in place on a terminal; silent otherwise."""

    def __init__(self, stream: TextIO | None = None) -> None:
        """Write to `stream` (default: standard error at call time)."""
        self.stream = stream or sys.stderr
        self.enabled = bool(getattr(self.stream, "isatty", lambda: False)())
        self.shown = False

    def __call__(self, index: int, total: int, name: str, *_: Any) -> None:
        """Show that item `index` of `total` (`name`) is being processed."""
        if not self.enabled or total < MIN_SITES:
            return
        self.stream.write(f"\r\033[K[{index}/{total}] {name}")
        self.stream.flush()
        self.shown = True

    def clear(self) -> None:
        """Erase the progress line (before any report is printed)."""
        if self.shown:
            self.stream.write("\r\033[K")
            self.stream.flush()
            self.shown = False


@contextlib.contextmanager
def progress_line(stream: TextIO | None = None) -> Iterator[TerminalProgress]:
    """A `TerminalProgress` that is cleared however the block ends."""
    progress = TerminalProgress(stream)
    try:
        yield progress
    finally:
        progress.clear()
