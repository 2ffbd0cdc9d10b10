"""The live tier: every test here runs real programs on a fresh render (see harness.py).

Every test is marked ``live`` (``make test-live`` runs only these) and first checks that the
harness can run: root, bubblewrap, util-linux, iproute2. A missing program fails with the install
command; nothing here skips.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.live.harness import Rendered, render_fresh, require_harness

LIVE_DIR = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items):
    for item in items:
        if LIVE_DIR in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.live)


@pytest.fixture(autouse=True)
def _live_requirements():
    require_harness()


@pytest.fixture(scope="session")
def rendered_sites(tmp_path_factory) -> dict[str, Rendered]:
    """Every shipped site, rendered once per session by the real CLI from a copy of sites/."""
    return render_fresh(tmp_path_factory.mktemp("live-render"))
