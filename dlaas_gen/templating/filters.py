"""Jinja filters: pure functions, registered on the render environment.

Why: templates may not build YAML by hand; a value that needs more than substitution goes
through one of these small, unit-tested functions (kapitan's jinja2_filters).
"""

from __future__ import annotations

import json
import pickle
from collections.abc import Mapping
from typing import Any

from jinja2 import Environment

from dlaas_gen import yamlio

#: The key `to_yaml` dumps a scalar under, to write it the way it is written as a map's value.
_SCALAR_KEY = "_"


def to_yaml(value: Any) -> str:
    """Serialise `value` as block YAML without a trailing newline (for ``| indent(n)``).

    A scalar is written as it would be as the value of a map key: plain when YAML reads it
    back as the same value, quoted otherwise (``'2'``, ``'true'``), so a template that writes
    ``key: {{ value | to_yaml }}`` gives the bytes a dump of the whole object would give.
    """
    try:
        key = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, TypeError, AttributeError):
        return _to_yaml(value)
    text = _DUMPED.get(key)
    if text is None:
        if len(_DUMPED) > _DUMPED_MAX:
            _DUMPED.clear()
        text = _DUMPED[key] = _to_yaml(value)
    return text


#: `to_yaml` results by the pickle of the value: the same value is dumped once per process.
#: Why pickle: it keeps types and order (``1`` vs ``"1"`` vs ``True``, key order), so two
#: values with one key are equal and of the same types, and dump to the same text; a fleet
#: dumps the same embedded scripts for every site, and the dumper is pure-Python work.
_DUMPED: dict[bytes, str] = {}
_DUMPED_MAX = 4096


def _to_yaml(value: Any) -> str:
    if isinstance(value, Mapping | list | tuple):
        return yamlio.dump_doc(value).rstrip("\n")
    text = yamlio.dump_doc({_SCALAR_KEY: value})
    return text[len(_SCALAR_KEY) + 2:].rstrip("\n")


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
