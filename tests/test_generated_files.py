"""Committed generated files are what the code produces: rendered/, the schema, vendored schemas."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from dlaas_gen.loader import discover_sites, is_site_file
from dlaas_gen.pipeline import build_site
from dlaas_gen.resources import schemas_dir
from dlaas_gen.schema import SCHEMA_LINE, site_schema_text
from dlaas_gen.writer import check_sites
from tests.conftest import REPO, SHARED


def test_rendered_is_up_to_date() -> None:
    """A fresh render of every site equals the committed rendered/ (nothing is written)."""
    plans = {}
    for path in discover_sites(REPO / "sites"):
        built = build_site(path, REPO / "rendered")
        assert [p.format() for p in built.problems if p.is_error] == []
        plans[built.site.name] = built.plan
    drift = check_sites(REPO / "rendered", plans)
    assert [p.format() for p in drift] == [], "run `make render` and commit rendered/"
    on_disk = sorted(p.name for p in (REPO / "rendered").iterdir() if not p.name.startswith("."))
    assert on_disk == sorted(plans)


def test_site_schema_is_up_to_date() -> None:
    committed = (REPO / "sites" / "site.schema.json").read_text(encoding="utf-8")
    assert committed == site_schema_text(), "run `make schema` and commit sites/site.schema.json"


def test_every_site_file_declares_the_schema() -> None:
    fixtures = [p for p in (REPO / "tests/fixtures/sites").glob("*.yaml") if is_site_file(p)]
    for path in [*discover_sites(REPO / "sites"), *fixtures]:
        assert path.read_text(encoding="utf-8").splitlines()[0] == SCHEMA_LINE, path


def _sums(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_vendored_schemas_match_shared() -> None:
    """The schemas shipped in the package are byte-identical to ../shared/schemas."""
    if not SHARED.joinpath("schemas").is_dir():
        pytest.fail(f"{SHARED / 'schemas'} is missing: the tests need the shared folder beside the repo")
    assert _sums(schemas_dir()) == _sums(SHARED / "schemas")


def test_vendored_checksums_file_holds() -> None:
    expected = {}
    for line in (schemas_dir() / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split(maxsplit=1)
        expected[name.lstrip("*").removeprefix("./")] = digest
    actual = _sums(schemas_dir())
    for name, digest in expected.items():
        assert actual[name] == digest, name
    assert any(p.name.endswith(".txt") for p in (schemas_dir() / "LICENSES").iterdir())
