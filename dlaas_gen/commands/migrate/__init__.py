"""``dlaas-gen migrate``: Flux v1 (Helm Operator, fluxd annotations) and Flux v2 beta → GA.

Public API: `migrate`, `scan`, `Options`, `MigrationResult`, `format_text`, `format_json`,
`operator_release_name`. The library never prints or exits; the CLI formats the result.
"""

from __future__ import annotations

from dlaas_gen.commands.migrate.engine import migrate, scan
from dlaas_gen.commands.migrate.helmop import operator_release_name
from dlaas_gen.commands.migrate.model import Finding, MigrationResult, ObjectPlan, Options
from dlaas_gen.commands.migrate.report import format_json, format_text

__all__ = [
    "Finding",
    "MigrationResult",
    "ObjectPlan",
    "Options",
    "format_json",
    "format_text",
    "migrate",
    "operator_release_name",
    "scan",
]
