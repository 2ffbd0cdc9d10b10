"""``cric sync`` library: both CRIC JSON shapes, determinism, --check, every failure mode.

CRIC is served by pytest-httpserver on 127.0.0.1; on every failure the lock file must stay
byte-for-byte as it was.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import requests
from werkzeug import Response

from dlaas_gen.commands.cric import CricError, Deadline, fetch_catalogue, sync_site
from dlaas_gen.commands.cric import fetch as fetch_mod
from dlaas_gen.errors import UsageError
from dlaas_gen.loader import load_site
from dlaas_gen.origins_file import read_origins_file
from tests.conftest import write_site
from tests.support.xcache_sites import BASE, CRIC_DIR, FIXED, site_with_lock

PATH = "/api/doma/rse/query/"
EXPECTED = {
    "https": ["dcache-escape-webdav.desy.de:2880", "eoseulake.cern.ch:443"],
    "root": ["dcache-escape-xrootd.desy.de:1094", "eoseulake.cern.ch:1094", "eospilot.cern.ch:1094",
             "t2-dpm-dome.na.infn.it:1094", "xrootd.pic.es:1094"],
}


def catalogue(name: str = "rse_query.json") -> dict:
    return json.loads((CRIC_DIR / name).read_text())


@pytest.fixture
def no_sleep() -> list[float]:
    return []


def sync(site, httpserver, sleeps: list[float], **kwargs):
    return sync_site(site, cric_url=httpserver.url_for(PATH), sleep=sleeps.append, **kwargs)


@pytest.mark.parametrize("shape", ["rse_query.json", "rse_query_doma.json"])
def test_both_shapes_give_the_same_origins(tmp_path, httpserver, no_sleep, shape) -> None:
    site = load_site(write_site(tmp_path, "s", BASE))
    httpserver.expect_request(PATH).respond_with_json(catalogue(shape))
    result = sync(site, httpserver, no_sleep)
    assert result.written and result.changed and result.count == 7
    assert read_origins_file(result.path).origins == EXPECTED
    assert any("INFN-NA-DPM" in w and "dropped" in w for w in result.warnings)


def test_same_catalogue_twice_same_bytes(tmp_path, httpserver, no_sleep) -> None:
    site = load_site(write_site(tmp_path, "s", BASE))
    httpserver.expect_request(PATH).respond_with_json(catalogue())
    first = sync(site, httpserver, no_sleep)
    data = first.path.read_bytes()
    mtime = first.path.stat().st_mtime_ns
    second = sync(site, httpserver, no_sleep)
    assert (second.changed, second.written) == (False, False)
    assert second.path.read_bytes() == data and second.path.stat().st_mtime_ns == mtime


def test_shape_swap_is_up_to_date(tmp_path, httpserver, no_sleep) -> None:
    site = load_site(write_site(tmp_path, "s", BASE))
    httpserver.expect_request(PATH).respond_with_json(catalogue())
    data = sync(site, httpserver, no_sleep).path.read_bytes()
    httpserver.clear()
    httpserver.expect_request(PATH).respond_with_json(catalogue("rse_query_doma.json"))
    assert sync(site, httpserver, no_sleep, check=True).changed is False
    assert site.path.with_name("s.origins.yaml").read_bytes() == data


def test_check_reports_drift_and_writes_nothing(tmp_path, httpserver, no_sleep) -> None:
    path = site_with_lock(tmp_path)
    before = path.with_name("s.origins.yaml").read_bytes()
    data = catalogue()
    data["NEW-RSE"] = {"protocols": {"r": {"flavour": "root", "endpoint": "new.example.org:1095"}}}
    httpserver.expect_request(PATH).respond_with_json(data)
    result = sync(load_site(path), httpserver, no_sleep, check=True)
    assert (result.changed, result.written) == (True, False)
    assert result.path.read_bytes() == before


def test_exclusions_and_schemes_are_applied(tmp_path, httpserver, no_sleep) -> None:
    text = BASE.replace("[root, davs]", "[davs]").replace("[OLD-DECOMMISSIONED]", "[EULAKE-1]")
    site = load_site(write_site(tmp_path, "s", text))
    httpserver.expect_request(PATH).respond_with_json(catalogue())
    result = sync(site, httpserver, no_sleep)
    assert read_origins_file(result.path).origins == {
        "https": ["dcache-escape-webdav.desy.de:2880"]
    }


def test_retries_5xx_then_succeeds_with_backoff(tmp_path, httpserver, no_sleep) -> None:
    site = load_site(write_site(tmp_path, "s", BASE))
    answers = [
        Response("busy", 503),
        Response("oops", 500),
        Response(json.dumps(catalogue()), 200, content_type="application/json"),
    ]
    httpserver.expect_request(PATH).respond_with_handler(lambda _r: answers.pop(0))
    assert sync(site, httpserver, no_sleep).count == 7
    assert no_sleep == [1.0, 2.0]


def _intact(tmp_path: Path):
    path = site_with_lock(tmp_path)
    lock = path.with_name("s.origins.yaml")
    return load_site(path), lock, lock.read_bytes()


def test_5xx_three_times_fails_lock_intact(tmp_path, httpserver, no_sleep) -> None:
    site, lock, before = _intact(tmp_path)
    httpserver.expect_request(PATH).respond_with_data("down", status=502)
    with pytest.raises(CricError, match=r"HTTP 502 \(after 3 attempts\)"):
        sync(site, httpserver, no_sleep)
    assert len(httpserver.log) == 3 and lock.read_bytes() == before


def test_4xx_is_not_retried(tmp_path, httpserver, no_sleep) -> None:
    site, lock, before = _intact(tmp_path)
    httpserver.expect_request(PATH).respond_with_data("no", status=404)
    with pytest.raises(CricError, match="HTTP 404"):
        sync(site, httpserver, no_sleep)
    assert len(httpserver.log) == 1 and no_sleep == [] and lock.read_bytes() == before


def test_invalid_json(tmp_path, httpserver, no_sleep) -> None:
    site, lock, before = _intact(tmp_path)
    httpserver.expect_request(PATH).respond_with_data("<html>maintenance</html>")
    with pytest.raises(CricError, match="not valid JSON"):
        sync(site, httpserver, no_sleep)
    assert lock.read_bytes() == before


def test_not_a_catalogue(tmp_path, httpserver, no_sleep) -> None:
    site, lock, before = _intact(tmp_path)
    httpserver.expect_request(PATH).respond_with_json(["a", "list"])
    with pytest.raises(CricError, match="not a JSON object keyed by RSE"):
        sync(site, httpserver, no_sleep)
    assert lock.read_bytes() == before


def test_empty_result(tmp_path, httpserver, no_sleep) -> None:
    site, lock, before = _intact(tmp_path)
    httpserver.expect_request(PATH).respond_with_json(
        {"X": {"protocols": {"g": {"flavour": "gsiftp", "endpoint": "x.org:2811"}}}}
    )
    with pytest.raises(CricError, match="no origin for schemes root, davs"):
        sync(site, httpserver, no_sleep)
    assert lock.read_bytes() == before


def test_unreachable(tmp_path, no_sleep) -> None:
    site, lock, before = _intact(tmp_path)
    with pytest.raises(CricError, match=r"unreachable \(\[Errno 111\] Connection refused\)"):
        sync_site(site, cric_url="http://127.0.0.1:9/x", sleep=no_sleep.append)
    assert no_sleep == [1.0, 2.0] and lock.read_bytes() == before


def test_read_timeout(tmp_path, httpserver, no_sleep, monkeypatch) -> None:
    site, lock, before = _intact(tmp_path)
    monkeypatch.setattr(fetch_mod, "READ_TIMEOUT", 0.2)

    def slow(_request):
        time.sleep(0.5)
        return Response("{}", 200)

    httpserver.expect_request(PATH).respond_with_handler(slow)
    with pytest.raises(CricError, match=r"timed out \(after 3 attempts\)"):
        sync(site, httpserver, no_sleep)
    assert lock.read_bytes() == before


def test_whole_run_deadline(tmp_path, httpserver, no_sleep) -> None:
    site, lock, before = _intact(tmp_path)
    httpserver.expect_request(PATH).respond_with_data("down", status=500)
    ticks = iter(range(0, 1000, 30))  # every clock reading is 30 s later
    deadline = Deadline(45.0, clock=lambda: next(ticks))
    with pytest.raises(CricError, match="gave up after 45 s"):
        sync(site, httpserver, no_sleep, deadline=deadline)
    failures = [entry for entry in httpserver.log if entry[1].status_code == 500]
    assert len(failures) < 3 and lock.read_bytes() == before


def test_timeouts_and_ca_file_reach_requests(tmp_path) -> None:
    seen = {}

    class Session:
        def get(self, url, **kwargs):
            seen.update(kwargs, url=url)
            response = requests.Response()
            response.status_code = 200
            response._content = json.dumps(catalogue()).encode()
            return response

    (tmp_path / "ca.pem").write_text("-----BEGIN CERTIFICATE-----\n")
    text = BASE.replace("      schemes:", "      ca_file: ca.pem\n      schemes:")
    site = load_site(write_site(tmp_path, "s", text))
    sync_site(site, session=Session())
    assert seen["url"] == "https://escape-cric.cern.ch/api/doma/rse/query/?json"
    assert seen["verify"] == str(tmp_path / "ca.pem")
    assert seen["timeout"] == (5.0, 10.0)


def test_missing_ca_file(tmp_path) -> None:
    text = BASE.replace("      schemes:", "      ca_file: nowhere.pem\n      schemes:")
    with pytest.raises(CricError, match="CA file .*nowhere.pem does not exist"):
        sync_site(load_site(write_site(tmp_path, "s", text)))


def test_site_without_cric_is_a_usage_error(tmp_path) -> None:
    with pytest.raises(UsageError, match="no xcache.origins.cric"):
        sync_site(load_site(write_site(tmp_path, "s", FIXED)))


def test_fetch_defaults_verify_true(httpserver) -> None:
    httpserver.expect_request("/c").respond_with_json({"A": {}})
    assert fetch_catalogue(httpserver.url_for("/c")) == {"A": {}}
