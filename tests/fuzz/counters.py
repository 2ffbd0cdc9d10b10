"""Fuzz case counters shared by the tests and the session summary (one module instance)."""

from __future__ import annotations

import os

EXAMPLES = int(os.environ.get("DLAAS_FUZZ_EXAMPLES", "200"))
COUNTS = {"run": 0, "failed": 0}


def record(ok: bool) -> None:
    """Count one case."""
    COUNTS["run"] += 1
    COUNTS["failed"] += 0 if ok else 1
