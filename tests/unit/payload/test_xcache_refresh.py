"""The in-cluster refresh script, run as the CronJob runs it (the rendered ConfigMap's files).

CRIC and the Kubernetes API are both served by pytest-httpserver on 127.0.0.1: the script must
turn the catalogue into the same authdb the generator renders, and PATCH it into the ConfigMap
only when it changed, with the ServiceAccount token and optimistic locking.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from werkzeug import Request, Response

from dlaas_gen import yamlio
from dlaas_gen.context.xcache import FOLDER as XCACHE_FOLDER
from dlaas_gen.payload.xcache_refresh import authdb_origins
from dlaas_gen.payloads import payload_text
from tests.conftest import REPO
from tests.support.xcache_sites import CRIC_DIR

RENDERED = REPO / "rendered" / "escape" / XCACHE_FOLDER
CM_PATH = "/api/v1/namespaces/xcache/configmaps/xcache-authdb"
CRIC_PATH = "/api/doma/rse/query/"
TOKEN = "sa-token-123"


def rendered_data(name: str) -> dict[str, str]:
    return yamlio.plain(yamlio.load_roundtrip((RENDERED / name).read_text()))["data"]


class FakeKube:
    """GET and PATCH of one ConfigMap, recording every PATCH."""

    def __init__(self, httpserver, authdb: str, patch_status: int = 200):
        self.data = {"authdb": authdb}
        self.patches: list[tuple[dict, dict]] = []
        self.auth: list[str] = []
        self.patch_status = patch_status
        httpserver.expect_request(CM_PATH, method="GET").respond_with_handler(self.get)
        httpserver.expect_request(CM_PATH, method="PATCH").respond_with_handler(self.patch)

    def get(self, request: Request) -> Response:
        self.auth.append(request.headers.get("Authorization", ""))
        body = {"metadata": {"name": "xcache-authdb", "resourceVersion": "41"}, "data": self.data}
        return Response(json.dumps(body), 200, content_type="application/json")

    def patch(self, request: Request) -> Response:
        self.auth.append(request.headers.get("Authorization", ""))
        body = json.loads(request.get_data())
        self.patches.append((body, dict(request.headers)))
        if self.patch_status != 200:
            return Response("{}", self.patch_status)
        self.data = {**self.data, **body["data"]}
        return Response(json.dumps({"data": self.data}), 200, content_type="application/json")


@pytest.fixture
def job(tmp_path: Path, httpserver):
    """Write the rendered script, its config (CRIC URL pointed at the local server), a token."""
    files = rendered_data("configmap-xcache-origins-refresh.yaml")
    assert files["xcache_refresh.py"] == payload_text("xcache_refresh.py")
    config = json.loads(files["config.json"])
    config["cric_url"] = httpserver.url_for(CRIC_PATH) + "?json"
    (tmp_path / "xcache_refresh.py").write_text(files["xcache_refresh.py"])
    (tmp_path / "config.json").write_text(json.dumps(config))
    sa = tmp_path / "sa"
    sa.mkdir()
    (sa / "token").write_text(TOKEN + "\n")

    def run(*extra: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, str(tmp_path / "xcache_refresh.py"), "--config",
             str(tmp_path / "config.json"), "--kube-api", httpserver.url_for(""),
             "--sa-dir", str(sa), *extra],
            capture_output=True, text=True, timeout=60, check=False)

    return run


def catalogue(name: str = "rse_query_doma.json") -> dict:
    return json.loads((CRIC_DIR / name).read_text())


def test_new_origin_is_written_into_the_authdb(job, httpserver) -> None:
    initial = rendered_data("configmap-xcache-authdb.yaml")["authdb"]
    kube = FakeKube(httpserver, initial)
    data = catalogue()
    data["rses"]["NEW-RSE"] = {"protocols": [
        {"scheme": "root", "hostname": "new.example.org", "port": 1095,
         "domains": {"wan": {"read": 1}}}]}
    httpserver.expect_request(CRIC_PATH).respond_with_json(data)
    result = job()
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        "xcache-refresh: updated ConfigMap xcache/xcache-authdb: 8 origin(s), added "
        "['/root:/new.example.org:1095/', '/xroot:/new.example.org:1095/'], removed none\n")
    [(body, headers)] = kube.patches
    assert headers["Content-Type"] == "application/merge-patch+json"
    assert body["metadata"] == {"resourceVersion": "41"}
    new = body["data"]["authdb"]
    assert "/root:/new.example.org:1095/ lr" in new
    assert authdb_origins(initial) < authdb_origins(new)  # everything allowed before still is
    assert kube.auth == [f"Bearer {TOKEN}"] * 2


def test_same_catalogue_as_the_lock_leaves_the_rendered_authdb_alone(job, httpserver) -> None:
    """The job and the generator produce the same bytes for the same catalogue."""
    kube = FakeKube(httpserver, rendered_data("configmap-xcache-authdb.yaml")["authdb"])
    httpserver.expect_request(CRIC_PATH).respond_with_json(catalogue("rse_query.json"))
    result = job()
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        "xcache-refresh: unchanged ConfigMap xcache/xcache-authdb: 7 origin(s)\n")
    assert kube.patches == []
    assert "INFN-NA-DPM" in result.stderr  # the hostless entry is dropped with a warning


def test_removed_origin_is_dropped(job, httpserver) -> None:
    kube = FakeKube(httpserver, rendered_data("configmap-xcache-authdb.yaml")["authdb"])
    data = catalogue()
    del data["rses"]["PIC-DCACHE"]
    httpserver.expect_request(CRIC_PATH).respond_with_json(data)
    result = job()
    assert result.returncode == 0, result.stderr
    assert "removed ['/root:/xrootd.pic.es:1094/', '/xroot:/xrootd.pic.es:1094/']" in result.stdout
    assert "xrootd.pic.es" not in kube.data["authdb"]
    assert "/root:/eoseulake.cern.ch:1094/ lr" in kube.data["authdb"]  # static origin stays


def test_dry_run_writes_nothing(job, httpserver) -> None:
    kube = FakeKube(httpserver, "# old\n")
    httpserver.expect_request(CRIC_PATH).respond_with_json(catalogue())
    result = job("--dry-run")
    assert result.returncode == 0 and result.stdout.startswith("xcache-refresh: would update")
    assert kube.patches == []


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (404, "gone", "HTTP 404"),
        (200, "<html>", "not valid JSON"),
        (200, json.dumps({"X": {"protocols": {}}}), "lists no origin"),
    ],
)
def test_failures_leave_the_configmap_alone(job, httpserver, status, body, message) -> None:
    kube = FakeKube(httpserver, "# old\n")
    httpserver.expect_request(CRIC_PATH).respond_with_data(body, status=status)
    result = job()
    assert result.returncode == 1 and result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1 and message in result.stderr
    assert kube.patches == [] and kube.data == {"authdb": "# old\n"}


def test_api_refusal_is_exit_1(job, httpserver) -> None:
    FakeKube(httpserver, "# old\n", patch_status=403)
    httpserver.expect_request(CRIC_PATH).respond_with_json(catalogue())
    result = job()
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        f"xcache-refresh: error: Kubernetes API PATCH {CM_PATH}: HTTP 403"
    )


@pytest.mark.slow  # the script's real backoff between attempts
def test_5xx_is_retried(job, httpserver) -> None:
    kube = FakeKube(httpserver, "# old\n")
    answers = [Response("busy", 503), Response(json.dumps(catalogue()), 200)]
    httpserver.expect_request(CRIC_PATH).respond_with_handler(lambda _r: answers.pop(0))
    result = job()
    assert result.returncode == 0, result.stderr
    assert len(kube.patches) == 1
