"""Print how many fuzz cases ran and failed at the end of the session.

`make fuzz` sets ``DLAAS_FUZZ_EXAMPLES`` (examples per test); `make test` runs the default.
"""

from __future__ import annotations

from typing import Any

from tests.fuzz.counters import COUNTS, EXAMPLES


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if COUNTS["run"]:
        terminalreporter.write_line(
            f"fuzz: {COUNTS['run']} cases run, {COUNTS['failed']} failed "
            f"(DLAAS_FUZZ_EXAMPLES={EXAMPLES} per test)")
