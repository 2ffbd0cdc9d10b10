"""Format problems for people and machines.

Why: checks produce `Problem` data; this module alone decides how they look (yamllint's
``cli.Format``): ``text`` for people (coloured on a terminal), ``parsable`` for editors and
grep, ``json`` for scripts, ``gitlab`` for GitLab's Code Quality widget.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

from dlaas_gen.problem import Problem

FORMATS = ("text", "parsable", "json", "gitlab")
_COLORS = {"error": "\033[31m", "warning": "\033[33m"}
_RESET = "\033[0m"


def format_problems(problems: Sequence[Problem], fmt: str = "text", *, color: bool = False) -> str:
    """Render `problems` in one of `FORMATS` (empty string when there are none, except json).

    Why: one finding reached twice in a run (the same site loaded for two checks, the same
    object found by two passes) is printed once.
    """
    ordered = sorted(unique_problems(problems))
    if fmt == "json":
        return json.dumps([_as_dict(p) for p in ordered], indent=2) + "\n"
    if fmt == "gitlab":
        return json.dumps([_as_gitlab(p) for p in ordered], indent=2) + "\n"
    if fmt == "parsable":
        return "".join(
            f"{p.path}:{p.line}:{p.col}: [{p.level}] {p.message} ({p.rule})\n" for p in ordered
        )
    lines = []
    for p in ordered:
        text = p.format()
        if color:
            shown = f"{_COLORS.get(p.level, '')}{p.level}{_RESET}"
            text = text.replace(f": {p.level}:", f": {shown}:", 1)
        lines.append(text + "\n")
    return "".join(lines)


def unique_problems(problems: Sequence[Problem]) -> list[Problem]:
    """`problems` without repeats (same place, level, rule and message), first one kept."""
    seen = {(p.path, p.line, p.col, p.level, p.rule, p.message): p for p in reversed(problems)}
    return list(reversed(seen.values()))


def _as_dict(p: Problem) -> dict[str, object]:
    return {"path": p.path, "line": p.line, "column": p.col, "level": p.level,
            "rule": p.rule, "message": p.message}


def _as_gitlab(p: Problem) -> dict[str, object]:
    fingerprint = hashlib.sha256(f"{p.path}:{p.line}:{p.rule}:{p.message}".encode()).hexdigest()
    return {
        "description": p.message,
        "check_name": p.rule,
        "fingerprint": fingerprint,
        "severity": "major" if p.is_error else "minor",
        "location": {"path": p.path, "lines": {"begin": max(p.line, 1)}},
    }
