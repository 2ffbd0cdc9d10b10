"""Golden in/out pairs under tests/fixtures/flux_v1: exact bytes, idempotency, --write == --out."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from dlaas_gen.commands.migrate import Options, migrate
from tests.conftest import FIXTURES

FLUX_V1 = FIXTURES / "flux_v1"
CASES = sorted(p.name for p in FLUX_V1.iterdir() if (p / "in").is_dir())


def _options(case: str) -> Options:
    return Options(assume_helm3=case != "helm2")


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


@pytest.fixture
def case_dir(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
             ) -> Path:
    shutil.copytree(FLUX_V1 / request.param / "in", tmp_path / "in")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_cases_cover_every_shape() -> None:
    assert {"helm_repo", "git_chart", "shared_repos", "kustomize", "beta", "oci", "helm2",
            "crlf", "already_migrated"} <= set(CASES)


@pytest.mark.parametrize("case_dir", CASES, indirect=True)
def test_out_matches_golden(case_dir: Path, request: pytest.FixtureRequest) -> None:
    case = request.node.callspec.params["case_dir"]
    result = migrate(["in"], _options(case), out="out")
    assert result.written
    assert _tree(case_dir / "out") == _tree(FLUX_V1 / case / "out")


@pytest.mark.parametrize("case_dir", CASES, indirect=True)
@pytest.mark.usefixtures("case_dir")
def test_second_run_changes_nothing(request: pytest.FixtureRequest) -> None:
    case = request.node.callspec.params["case_dir"]
    migrate(["in"], _options(case), out="out")
    again = migrate(["out"], _options(case))
    assert again.changed_files == []
    assert not again.has_errors


@pytest.mark.parametrize("case_dir", CASES, indirect=True)
def test_write_in_place_equals_out(case_dir: Path, request: pytest.FixtureRequest) -> None:
    case = request.node.callspec.params["case_dir"]
    before = _tree(case_dir / "in")
    result = migrate(["in"], _options(case), write=True)
    after = _tree(case_dir / "in")
    assert after == _tree(FLUX_V1 / case / "out")
    changed = {Path(f.path).relative_to("in").as_posix() for f in result.changed_files}
    assert changed == {k for k in before if before[k] != after[k]}


@pytest.mark.parametrize("case_dir", ["helm_repo"], indirect=True)
@pytest.mark.usefixtures("case_dir")
def test_non_flux_document_kept_byte_for_byte() -> None:
    result = migrate(["in"], _options("helm_repo"))
    text = result.changed_files[0].migrated or ""
    assert 'data:\n  key:    "value"   \n  other: \'x\'\n' in text
    assert "fluxcd.io/tag.worker" not in text
    assert "image: ghcr.io/example/worker:main-abc   # pinned" in text
    assert "# podinfo release, managed by the Helm Operator\n" in text
    assert 'enabled: "On"   # stays a string' in text


@pytest.mark.parametrize("case_dir", ["crlf"], indirect=True)
@pytest.mark.usefixtures("case_dir")
def test_crlf_final_newline_tabs_and_quotes_survive() -> None:
    result = migrate(["in"], _options("crlf"))
    text = result.changed_files[0].migrated or ""
    assert "\n" not in text.replace("\r\n", "")
    assert not text.endswith("\n")
    assert 'mode: "On"  \r\n' in text
    assert 'tabbed: "a\tb"\r\n' in text
    assert "yes_no: 'yes'" in text
    assert 'version: "1.0"' in text
