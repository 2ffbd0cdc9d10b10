"""Snapshots of the rendered output of the fixture sites (one golden copy per output)."""

from __future__ import annotations

import pytest
from syrupy.assertion import SnapshotAssertion

from dlaas_gen.pipeline import build_site
from tests.conftest import FIXTURES

SITES = ["minimal", "maximal", "maximal-variants"]


@pytest.mark.parametrize("site", SITES)
def test_rendered_fixture_site(site: str, snapshot: SnapshotAssertion) -> None:
    built = build_site(FIXTURES / "sites" / f"{site}.yaml")
    assert [p.format() for p in built.problems if p.is_error] == []
    files = {path: data.decode() for path, data in sorted(built.plan.items())}
    assert files == snapshot
