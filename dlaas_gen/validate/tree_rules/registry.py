"""The registry of tree rules: each rule is a function over a whole tree, under one rule id.

Why: some invariants span objects (unique identities, profileList in one place) or encode
policy (pinned images) that no schema expresses; each rule module registers its functions
here and `dlaas_gen.validate.tree_rules.run_rules` runs them all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from dlaas_gen.manifest import Manifest
from dlaas_gen.problem import Problem

Rule = Callable[[list[Manifest]], Iterator[Problem]]
RULES: dict[str, Rule] = {}


def rule(rule_id: str) -> Callable[[Rule], Rule]:
    """Register a rule under `rule_id`."""

    def decorator(func: Rule) -> Rule:
        RULES[rule_id] = func
        return func

    return decorator


def at(m: Manifest, loc: list[Any], rule_id: str, message: str, level: str = "error") -> Problem:
    """A problem of `rule_id` at `loc` inside `m`."""
    line, col = m.locate(loc)
    return Problem(m.path, line, col, level=level, rule=rule_id, message=message)


def objects(tree: list[Manifest]) -> list[Manifest]:
    """The cluster objects of a tree (folder indexes excluded)."""
    return [m for m in tree if not m.is_kustomize_config]
