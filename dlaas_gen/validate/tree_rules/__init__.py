"""Project rules over a rendered tree, one small function per rule id.

The rules live in one module per subject (`core`, `notebook`, `scratch`, `secrets`, `xcache`)
and register themselves in `registry`; `run_rules` runs every one.
"""

from __future__ import annotations

from collections.abc import Iterator

from dlaas_gen.manifest import Manifest
from dlaas_gen.problem import Problem
from dlaas_gen.validate.tree_rules import core, notebook, scratch, secrets, xcache
from dlaas_gen.validate.tree_rules.registry import RULES, objects

#: The rule modules, each registering its rules when imported.
MODULES = (core, secrets, xcache, scratch, notebook)

__all__ = ["MODULES", "RULES", "objects", "run_rules"]


def run_rules(tree: list[Manifest]) -> Iterator[Problem]:
    """Run every registered rule in registration order."""
    for func in RULES.values():
        yield from func(tree)
