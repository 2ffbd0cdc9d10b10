"""Plaintext secret material in a rendered tree: the ``SEC`` rules of ``validate``.

Why: Flux applies whatever is in git, and git keeps it forever; a private key, a token or a
``kind: Secret`` with data in ``rendered/`` is a leak even if it is removed later. Messages name
the place and the kind of material, never the value.
"""

from __future__ import annotations

from collections.abc import Iterator

from dlaas_gen import secretlike
from dlaas_gen.manifest import Manifest
from dlaas_gen.problem import Problem
from dlaas_gen.validate.tree_rules.registry import objects, rule

#: (id, severity, reason) of each scan rule, for the README table.
SCAN_RULES = (
    ("SEC001", "error", "a private key block (-----BEGIN ... PRIVATE KEY-----) in any value"),
    ("SEC002", "error", "a JSON Web Token (eyJ...eyJ...sig) in any value"),
    ("SEC003", "error", "a high-entropy value under a secret-like key (password, token, "
     "client_secret...), also in key: value lines inside embedded files"),
    ("SEC004", "error", "a kind: Secret with data or stringData (ops create Secrets; "
     "manifests only reference them)"),
)
_BY_REASON = {"a private key block": "SEC001", "a JSON Web Token": "SEC002"}


def _problem(m: Manifest, loc: list[object], rule_id: str, message: str) -> Problem:
    line, col = m.locate(loc, value=True)
    return Problem(m.path, line, col, rule=rule_id, message=message)


@rule("secret-material")
def check_secret_material(tree: list[Manifest]) -> Iterator[Problem]:
    """SEC001-SEC003: credential-looking values anywhere in any object."""
    for m in objects(tree):
        for loc, reason in secretlike.walk(m.doc):
            rule_id = _BY_REASON.get(reason, "SEC003")
            where = ".".join(map(str, loc))
            yield _problem(m, list(loc), rule_id, f"{m.kind} {m.key.name} {where}: looks like "
                           f"{reason}; keep it in a Secret created by ops and reference it")


@rule("secret-object")
def check_secret_objects(tree: list[Manifest]) -> Iterator[Problem]:
    """SEC004: Secrets with data in the tree."""
    for m in objects(tree):
        if m.kind != "Secret" or not isinstance(m.doc, dict):
            continue
        for key in ("data", "stringData"):
            if m.doc.get(key):
                yield _problem(m, [key], "SEC004", f"Secret {m.key.name} carries {key} in plain "
                               "text; create it out of band (or use a SealedSecret/ExternalSecret)")
