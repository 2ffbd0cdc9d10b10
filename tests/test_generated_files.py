"""Committed generated files are what the code produces (rendered/, the schema); vendored files
match the checksum list shipped with them."""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

from dlaas_gen.commands.docs.schema import site_schema_text
from dlaas_gen.defaults import SCHEMA_LINE
from dlaas_gen.loader import discover_sites, is_site_file
from dlaas_gen.pipeline import build_site
from dlaas_gen.resources import schemas_dir
from dlaas_gen.writer import check_sites
from tests.conftest import REPO


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


_SUM_LINE = re.compile(r"(?P<digest>[0-9a-f]{64}) [ *](?:\./)?(?P<name>.+)")
#: Files beside the vendored schemas that describe them and so are not in the checksum list.
_NOT_VENDORED = {"SHA256SUMS", "README.md"}


def vendored_mismatches(root: Path) -> list[str]:
    """What differs between the files under ``root`` and its ``SHA256SUMS`` (sha256sum output)."""
    listed: dict[str, str] = {}
    problems = []
    for number, line in enumerate((root / "SHA256SUMS").read_text().splitlines(), 1):
        match = _SUM_LINE.fullmatch(line)
        if match is None:
            problems.append(f"SHA256SUMS:{number}: not a sha256sum line")
            continue
        listed[match["name"]] = match["digest"]
    actual = {name: digest for name, digest in _sums(root).items() if name not in _NOT_VENDORED}
    problems += [f"{name}: not in SHA256SUMS" for name in sorted(set(actual) - set(listed))]
    problems += [f"{name}: listed but missing" for name in sorted(set(listed) - set(actual))]
    problems += [f"{name}: checksum differs" for name in sorted(set(listed) & set(actual))
                 if listed[name] != actual[name]]
    return problems


def test_vendored_schemas_match_shipped_checksums() -> None:
    """Every vendored file is in the shipped SHA256SUMS with its digest, and nothing else is."""
    assert vendored_mismatches(schemas_dir()) == []
    assert any(p.name.endswith(".txt") for p in (schemas_dir() / "LICENSES").iterdir())


def test_vendored_check_finds_a_changed_an_extra_and_a_missing_file(tmp_path: Path) -> None:
    root = tmp_path / "schemas"
    shutil.copytree(schemas_dir(), root)
    with (root / "z2jh/values.yaml").open("a") as handle:
        handle.write("# edited\n")
    (root / "flux/json/extra.json").write_text("{}")
    (root / "flux-v1/json/helmrelease-helm-v1.json").unlink()
    assert vendored_mismatches(root) == [
        "flux/json/extra.json: not in SHA256SUMS",
        "flux-v1/json/helmrelease-helm-v1.json: listed but missing",
        "z2jh/values.yaml: checksum differs",
    ]
