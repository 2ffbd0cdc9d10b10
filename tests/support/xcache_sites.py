"""Site texts with an XCache, for the xcache and cric tests."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import REPO, write_site

BASE = """\
singleuser:
  image:
    name: quay.io/jupyter/minimal-notebook
    tag: '1'
xcache:
  image:
    name: hub.opensciencegrid.org/opensciencegrid/xcache
    tag: "24-release"
  site_name: DLAAS-hub.test.example.org
  disks:
    data: [/scratch, /scratch_1]
    meta: /xcache-meta
  origins:
    static: [root://eoseulake.cern.ch:1094]
    cric:
      schemes: [root, davs]
      exclude_rses: [OLD-DECOMMISSIONED]
"""
FIXED = """\
singleuser:
  image:
    name: quay.io/jupyter/minimal-notebook
    tag: '1'
xcache:
  image:
    name: hub.opensciencegrid.org/opensciencegrid/xcache
    tag: "24-release"
  site_name: DLAAS-hub.test.example.org
  mode: fixed_origin
  origin: eospilot.cern.ch:1094
  disks:
    data: [/scratch]
    meta: /xcache-meta
"""
SITE_NAME = "DLAAS-hub.test.example.org"
CRIC_DIR = REPO / "tests" / "fixtures" / "cric"


def position(text: str, needle: str, nth: int = 1) -> tuple[int, int]:
    """1-based (line, col) of the `nth` occurrence of `needle` in `text`."""
    index = -1
    for _ in range(nth):
        index = text.index(needle, index + 1)
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def site_with_lock(
    folder: Path, name: str = "s", text: str = BASE, lock: str | None = None
) -> Path:
    """Write a site and (by default) the escape lock file next to it."""
    path = write_site(folder, name, text)
    lock_text = lock if lock is not None else (REPO / "sites" / "escape.origins.yaml").read_text()
    (folder / f"{name}.origins.yaml").write_text(lock_text)
    return path
