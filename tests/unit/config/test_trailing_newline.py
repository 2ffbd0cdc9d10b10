"""A value that passes a site-file pattern only because of a trailing newline is refused.

Why: Python's ``$`` also matches before a final newline, and YAML gives one to every literal
block scalar (``version: |``); ``4.4.0\\n`` would reach the HelmRelease and fail in the cluster.
The patterns are applied with ``fullmatch``.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from pydantic import ValidationError

from dlaas_gen import yamlio
from dlaas_gen.config import SiteConfig
from tests.conftest import REPO

DEMO = yamlio.load_fast((REPO / "sites" / "demo.yaml").read_text())
ESCAPE = yamlio.load_fast((REPO / "sites" / "escape.yaml").read_text())


def with_value(data: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(data)
    node = changed
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return changed


@pytest.mark.parametrize(("data", "path"), [
    (DEMO, ("chart", "version")),
    (DEMO, ("singleuser", "image", "tag")),
    (DEMO, ("namespace",)),
    (DEMO, ("ingress", "host")),
    (ESCAPE, ("auth", "issuer")),
    (ESCAPE, ("xcache", "site_name")),
], ids=lambda value: ".".join(map(str, value)) if isinstance(value, tuple) else "")
def test_a_trailing_newline_is_refused(data: dict[str, Any], path: tuple[Any, ...]) -> None:
    node: Any = data
    for key in path:
        node = node[key] if not isinstance(node, dict) or key in node else None
    good = str(node) if node is not None else "4.4.0"
    SiteConfig.model_validate(with_value(data, path, good))
    with pytest.raises(ValidationError):
        SiteConfig.model_validate(with_value(data, path, good + "\n"))
