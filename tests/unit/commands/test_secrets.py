"""`secrets` names the keys source-controller reads for the Git URL's scheme."""

from __future__ import annotations

from pathlib import Path

import pytest

from dlaas_gen.commands.secrets import expected_secrets
from tests.conftest import FIXTURES, write_site

BASE = (FIXTURES / "sites" / "minimal.yaml").read_text()


def _keys(tmp_path: Path, url: str) -> list[str]:
    text = BASE + (f"gitops:\n  source:\n    name: lab-repo\n    url: {url}\n"
                   "    secret_ref: lab-git\n")
    rows = expected_secrets(write_site(tmp_path / "sites", "lab", text))
    return [r.key for r in rows if r.name == "lab-git" and r.namespace == "flux-system"]


def test_ssh_url_needs_identity_and_known_hosts(tmp_path: Path) -> None:
    assert _keys(tmp_path, "ssh://git@git.example.org/lab/deploy.git") == [
        "identity",
        "known_hosts",
    ]


@pytest.mark.parametrize("url", ["https://git.example.org/lab/deploy.git"])
def test_https_url_needs_username_password_or_bearer_token(tmp_path: Path, url: str) -> None:
    keys = _keys(tmp_path, url)
    assert keys == ["bearerToken", "password", "username"]
    assert "identity" not in keys


def test_cli_text_names_the_https_keys(runner, tmp_path: Path, monkeypatch) -> None:
    from dlaas_gen.cli import app

    _keys(tmp_path, "https://git.example.org/lab/deploy.git")
    monkeypatch.chdir(tmp_path)
    out = runner.invoke(app, ["secrets", "lab"], catch_exceptions=False).stdout
    assert "flux-system/lab-git key=username" in out and "key=identity" not in out
    assert (
        "flux-system/lab-git key=bearerToken  # Git over HTTPS, bearer token: instead of "
        "username and password" in out
    )
