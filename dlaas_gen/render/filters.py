"""Jinja filters: pure functions, registered on the render environment.

Why: templates may not build YAML by hand; a value that needs more than substitution goes
through one of these small, unit-tested functions (kapitan's jinja2_filters).
"""

from __future__ import annotations

import json
from typing import Any

from jinja2 import Environment

from dlaas_gen import yamlio


def to_yaml(value: Any) -> str:
    """Serialise `value` as block YAML without a trailing newline (for ``| indent(n)``)."""
    return yamlio.dump_doc(value).rstrip("\n")


def to_json(value: Any) -> str:
    """Serialise a scalar or container as JSON (valid YAML flow style)."""
    return json.dumps(value, sort_keys=False)


def quote(value: Any) -> str:
    """Return `value` as a double-quoted YAML scalar (JSON string escaping)."""
    return json.dumps(str(value))


def register(env: Environment) -> None:
    """Add the filters to `env`."""
    env.filters["to_yaml"] = to_yaml
    env.filters["to_json"] = to_json
    env.filters["quote"] = quote
