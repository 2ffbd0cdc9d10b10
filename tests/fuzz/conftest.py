"""Mark every test here ``fuzz``; print how many fuzz cases ran and failed at the end.

`make fuzz` sets ``DLAAS_FUZZ_EXAMPLES`` (examples per test); `make test` runs the default;
`make test-fast` leaves the fuzz run out (``-m "not fuzz"``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.fuzz.counters import COUNTS, EXAMPLES

FUZZ_DIR = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if FUZZ_DIR in item.path.resolve().parents:
            item.add_marker(pytest.mark.fuzz)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if COUNTS["run"]:
        terminalreporter.write_line(
            f"fuzz: {COUNTS['run']} cases run, {COUNTS['failed']} failed "
            f"(DLAAS_FUZZ_EXAMPLES={EXAMPLES} per test)")
