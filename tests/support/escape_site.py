"""Edits of the ESCAPE example site for tests of site rules (shared by config and context tests)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dlaas_gen.errors import ConfigError
from dlaas_gen.loader import load_site
from tests.conftest import REPO

ESCAPE = (REPO / "sites" / "escape.yaml").read_text()


def site_with(tmp_path: Path, old: str, new: str, name: str = "s") -> Path:
    """The ESCAPE site with the first `old` replaced by `new`, written as ``<name>.yaml``."""
    assert old in ESCAPE, old
    path = tmp_path / f"{name}.yaml"
    path.write_text(ESCAPE.replace(old, new, 1))
    return path


def line_of(path: Path, needle: str) -> int:
    """The line equal to `needle`, else the first line holding it (1-based)."""
    lines = path.read_text().splitlines()
    exact = [i for i, line in enumerate(lines, 1) if line == needle]
    return exact[0] if exact else next(i for i, line in enumerate(lines, 1) if needle in line)


def errors(path: Path) -> list[tuple[int, int, str]]:
    """(line, column, message) of each problem that makes `path` fail to load."""
    with pytest.raises(ConfigError) as info:
        load_site(path)
    return [(p.line, p.col, p.message) for p in info.value.problems]
