"""Small derivations shared by component context builders."""

from __future__ import annotations

from typing import Any

from dlaas_gen.config.base import Resources
from dlaas_gen.quantity import parse_quantity

MANAGED_BY = "dlaas-gen"
SITE_LABEL = "dlaas-gen.io/site"


def common_labels(site: str, component: str) -> dict[str, str]:
    """Labels put on every rendered object."""
    return {
        "app.kubernetes.io/managed-by": MANAGED_BY,
        "app.kubernetes.io/part-of": "dlaas",
        "app.kubernetes.io/component": component,
        SITE_LABEL: site,
    }


def cpu_number(value: str | int | float | None) -> float | int | None:
    """Turn a CPU quantity (``500m``, ``2``) into the number z2jh and KubeSpawner take.

    Why: z2jh passes ``singleuser.cpu`` to JupyterHub's ``Spawner.cpu_limit``/``cpu_guarantee``,
    which are ``Float`` traits (cores), not quantities; every suffix the site model accepts
    (``m``, ``k``...) is converted here (`dlaas_gen.quantity`).
    """
    if value is None:
        return None
    number = parse_quantity(value)
    return int(number) if number.denominator == 1 else float(number)


def resources_values(cpu: Resources | None, memory: Resources | None) -> dict[str, Any]:
    """z2jh ``singleuser.cpu`` / ``singleuser.memory`` blocks (unset parts omitted)."""
    out: dict[str, Any] = {}
    if cpu is not None:
        bounds = (("limit", cpu.limit), ("guarantee", cpu.guarantee))
        numbers = {k: cpu_number(v) for k, v in bounds}
        cpu_block = {k: v for k, v in numbers.items() if v is not None}
        if cpu_block:
            out["cpu"] = cpu_block
    if memory is not None:
        memory_block = {
            k: str(v) for k, v in (("limit", memory.limit), ("guarantee", memory.guarantee)) if v
        }
        if memory_block:
            out["memory"] = memory_block
    return out
