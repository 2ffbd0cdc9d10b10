"""A fleet of escape-like sites: ``sites/escape.yaml`` copied with its ingress host varied.

The same fleet as ``make bench`` renders (each copy keeps its origins file; the chart locks are
copied so the sites render as the repository's).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from dlaas_gen import yamlio
from tests.conftest import REPO

SOURCE_SITE = REPO / "sites" / "escape.yaml"
SOURCE_ORIGINS = REPO / "sites" / "escape.origins.yaml"


def make_fleet(root: Path, count: int) -> Path:
    """Write `count` escape-like sites into ``root/sites`` (and ``root/charts``); returns `root`.

    The ingress host is replaced everywhere it appears (the XCache site name contains it, as
    the site rules require), so no two sites share a host.
    """
    text = SOURCE_SITE.read_text(encoding="utf-8")
    host = str(yamlio.load_fast(text)["ingress"]["host"])
    first, _, rest = host.partition(".")
    sites = root / "sites"
    sites.mkdir(parents=True)
    origins = SOURCE_ORIGINS.read_text(encoding="utf-8") if SOURCE_ORIGINS.exists() else None
    for index in range(count):
        name = f"site{index:04d}"
        (sites / f"{name}.yaml").write_text(text.replace(host, f"{first}-{index:04d}.{rest}"),
                                            encoding="utf-8")
        if origins is not None:
            (sites / f"{name}.origins.yaml").write_text(origins, encoding="utf-8")
    if (REPO / "charts").is_dir():
        shutil.copytree(REPO / "charts", root / "charts")
    return root
