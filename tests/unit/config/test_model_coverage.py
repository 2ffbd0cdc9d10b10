"""The maximal fixtures set every optional field of the site model (so snapshots cover it)."""

from __future__ import annotations

import typing
from typing import Any

from pydantic import BaseModel

from dlaas_gen import yamlio
from dlaas_gen.config import SiteConfig
from tests.conftest import FIXTURES

MAXIMAL = ["maximal.yaml", "maximal-variants.yaml"]


def _models(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models(arg)]


def _all_fields(model: type[BaseModel], seen: set[type[BaseModel]]) -> set[tuple[str, str]]:
    if model in seen:
        return set()
    seen.add(model)
    fields = set()
    for name, info in model.model_fields.items():
        fields.add((model.__name__, info.alias or name))
        for sub in _models(info.annotation):
            fields |= _all_fields(sub, seen)
    return fields


def _set_fields(model: type[BaseModel], data: Any, found: set[tuple[str, str]]) -> None:
    if not isinstance(data, dict):
        return
    by_key = {info.alias or name: info for name, info in model.model_fields.items()}
    for name, value in data.items():
        if name not in by_key:
            continue
        found.add((model.__name__, name))
        candidates = _models(by_key[name].annotation)
        items = value if isinstance(value, list) else [value]
        if name == "images" and isinstance(value, dict):
            items = list(value.values())  # a map of name to image
        for item in items:
            for sub in candidates:
                tag = sub.model_fields.get("type")
                if tag is not None and isinstance(item, dict) and item.get("type") != tag.default:
                    continue
                _set_fields(sub, item, found)


def test_maximal_fixtures_set_every_field() -> None:
    expected = _all_fields(SiteConfig, set())
    found: set[tuple[str, str]] = set()
    for name in MAXIMAL:
        data = yamlio.plain(yamlio.load_roundtrip((FIXTURES / "sites" / name).read_text()))
        _set_fields(SiteConfig, data, found)
    missing = sorted(expected - found)
    assert missing == [], f"set these in tests/fixtures/sites/maximal*.yaml: {missing}"
