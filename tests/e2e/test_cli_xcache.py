"""End-to-end: ``cric sync`` (with a local CRIC), ``xcache rucio-config``, render with the lock."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dlaas_gen.cli import app
from dlaas_gen.commands.cric import fetch as fetch_mod
from tests.conftest import REPO

PATH = "/api/doma/rse/query/"
LOCK = Path("sites/escape.origins.yaml")
AUTHDB = Path("rendered/escape/cache/configmap-xcache-authdb.yaml")


def run(runner: CliRunner, *args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch) -> None:
    monkeypatch.setattr(fetch_mod, "_sleep", lambda _s: None)


def catalogue(extra: bool = False) -> dict:
    data = json.loads((REPO / "tests/fixtures/cric/rse_query_doma.json").read_text())
    if extra:
        data["rses"]["NEW-RSE"] = {"protocols": [
            {"scheme": "davs", "hostname": "webdav.new.example.org", "port": None,
             "domains": {"wan": {"read": 1}}}]}
    return data


@pytest.mark.usefixtures("repo_copy")
def test_sync_unchanged_catalogue(runner, httpserver) -> None:
    httpserver.expect_request(PATH).respond_with_json(catalogue())
    before = LOCK.read_bytes()
    result = run(runner, "cric", "sync", "escape", "--cric-url", httpserver.url_for(PATH))
    assert result.exit_code == 0, result.output
    assert result.stdout == "unchanged sites/escape.origins.yaml (7 origins)\n"
    assert "warning: escape: RSE INFN-NA-DPM" in result.stderr
    assert LOCK.read_bytes() == before


@pytest.mark.usefixtures("repo_copy")
def test_sync_all_sites_takes_only_cric_sites(runner, httpserver) -> None:
    httpserver.expect_request(PATH).respond_with_json(catalogue())
    result = run(runner, "cric", "sync", "--cric-url", httpserver.url_for(PATH), "--check")
    assert result.exit_code == 0, result.output
    assert result.stdout == "up to date: sites/escape.origins.yaml (7 origins)\n"


@pytest.mark.usefixtures("repo_copy")
def test_check_sync_render_cycle(runner, httpserver) -> None:
    httpserver.expect_request(PATH).respond_with_json(catalogue(extra=True))
    url = httpserver.url_for(PATH)
    before = LOCK.read_bytes()
    result = run(runner, "cric", "sync", "--check", "--cric-url", url)
    assert result.exit_code == 1
    assert ("sites/escape.origins.yaml: out of date with CRIC: run `dlaas-gen cric sync escape`"
            in result.stderr)
    assert LOCK.read_bytes() == before
    assert run(runner, "render", "--check").exit_code == 0

    result = run(runner, "cric", "sync", "escape", "--cric-url", url)
    assert (
        result.exit_code == 0 and result.stdout == "wrote sites/escape.origins.yaml (8 origins)\n"
    )
    assert "webdav.new.example.org:443" in LOCK.read_text()
    assert run(runner, "render", "--check").exit_code == 1  # the authdb ConfigMap is stale now
    assert run(runner, "render").exit_code == 0
    assert "/https:/webdav.new.example.org:443/ lr" in AUTHDB.read_text()
    assert run(runner, "cric", "sync", "--check", "--cric-url", url).exit_code == 0


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (
            500,
            "down",
            "escape: CRIC http://localhost:{port}/api/doma/rse/query/: HTTP 500 (after 3 attempts)",
        ),
        (403, "no", "HTTP 403 FORBIDDEN"),
        (200, "not json", "the answer is not valid JSON"),
        (200, "{}", "no origin for schemes root, davs (site escape); lock file left as it is"),
    ],
)
@pytest.mark.usefixtures("repo_copy")
def test_failures_one_line_exit_1_lock_intact(
    runner, httpserver, status, body, message
) -> None:
    httpserver.expect_request(PATH).respond_with_data(body, status=status)
    before = LOCK.read_bytes()
    result = run(runner, "cric", "sync", "escape", "--cric-url", httpserver.url_for(PATH))
    assert result.exit_code == 1
    [line] = result.stderr.splitlines()
    assert line.startswith("dlaas-gen: escape: ")
    assert message.format(port=httpserver.port) in line
    assert LOCK.read_bytes() == before


@pytest.mark.usefixtures("repo_copy")
def test_unreachable(runner) -> None:
    before = LOCK.read_bytes()
    result = run(runner, "cric", "sync", "escape", "--cric-url", "http://127.0.0.1:9/")
    assert result.exit_code == 1
    assert result.stderr == (
        "dlaas-gen: escape: CRIC http://127.0.0.1:9/: unreachable ([Errno 111] "
        "Connection refused) (after 3 attempts)\n"
    )
    assert LOCK.read_bytes() == before


@pytest.mark.usefixtures("repo_copy")
def test_site_without_cric_is_usage_error(runner) -> None:
    result = run(runner, "cric", "sync", "demo")
    assert result.exit_code == 2
    assert result.stderr == "dlaas-gen: site 'demo' has no xcache.origins.cric section\n"


@pytest.mark.usefixtures("repo_copy")
def test_rucio_config(runner) -> None:
    result = run(runner, "xcache", "rucio-config", "escape")
    assert result.exit_code == 0
    assert (
        "[root-proxy-internal]\nDLAAS-dlaas.escape.example.org = "
        "xcache.xcache.svc.cluster.local:1094\n"
    ) in result.stdout
    assert "CERN-local ones included, comes through the cache" in result.stdout
    assert run(runner, "xcache", "rucio-config", "demo").exit_code == 2


@pytest.mark.usefixtures("repo_copy")
def test_rucio_config_refuses_a_shared_site_name(runner) -> None:
    site = Path("sites/escape.yaml")
    text = site.read_text()
    site.write_text(
        text.replace("  site_name: DLAAS-dlaas.escape.example.org", "  site_name: CERN")
    )
    line = text[: text.index("  site_name: DLAAS")].count("\n") + 1
    result = run(runner, "xcache", "rucio-config", "escape")
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.startswith(
        f"sites/escape.yaml:{line}:3: error: site_name 'CERN' is a shared name: every Rucio client "
        "presenting SITE_NAME=CERN would be sent to this cluster's internal cache address; use a "
        "name unique to this deployment, e.g. 'DLAAS-dlaas.escape.example.org' [site-rule]"
    )


@pytest.mark.usefixtures("repo_copy")
def test_render_without_lock_fails_at_the_lock(runner) -> None:
    LOCK.unlink()
    result = run(runner, "render", "--check")
    assert result.exit_code == 1
    assert (
        "sites/escape.origins.yaml:1:1: error: missing: run `dlaas-gen cric sync` and commit "
        "the lock file [xcache-origins]"
    ) in result.stderr


@pytest.mark.usefixtures("repo_copy")
def test_lock_file_is_not_a_site(runner) -> None:
    result = run(runner, "render", "--check")
    assert result.exit_code == 0 and "escape.origins" not in result.output
