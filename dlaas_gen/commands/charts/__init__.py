"""Helm chart locks ``charts/<chart>-<version>/``: pulled once, read offline by render.

Why: the policy and the value checks must use the defaults and schema of the chart version a
site pins; see `dlaas_gen.commands.charts.lock` (the lock) and `dlaas_gen.commands.charts.pull` (``chart pull``).
"""

from dlaas_gen.commands.charts.lock import (
    CHART,
    ChartFiles,
    ChartLockError,
    archive_path,
    available,
    charts_dir_for,
    load_chart,
    lock_dir,
)

__all__ = [
    "CHART",
    "ChartFiles",
    "ChartLockError",
    "archive_path",
    "available",
    "charts_dir_for",
    "load_chart",
    "lock_dir",
]
