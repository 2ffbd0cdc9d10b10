"""``chart pull``: a Helm repository served on 127.0.0.1, the digest check, retries, refusals.

On every failure the lock folder must stay as it was (or not exist).
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import pytest
from werkzeug import Response

from dlaas_gen.commands.charts import pull as pull_mod
from dlaas_gen.commands.charts.pull import ChartPullError, check_repo_url, pull_chart
from dlaas_gen.errors import UsageError
from tests.support.helm_repo import VERSION, build_chart, index_yaml, serve, z2jh_values_text


@pytest.fixture
def sleeps() -> list[float]:
    return []


def pull(httpserver, charts_dir: Path, sleeps: list[float], url: str | None = None,
         version: str = VERSION):
    return pull_chart(url or httpserver.url_for("/helm/"), "jupyterhub", version, charts_dir,
                      sleep=sleeps.append)


def test_pull_writes_archive_values_and_schema(tmp_path, httpserver, sleeps) -> None:
    data = build_chart()
    serve(httpserver, {VERSION: data, "4.3.8": build_chart("4.3.8")})
    result = pull(httpserver, tmp_path / "charts", sleeps)
    folder = tmp_path / "charts" / f"jupyterhub-{VERSION}"
    assert result.written and result.folder == folder
    assert sorted(p.name for p in folder.iterdir()) == [
        f"jupyterhub-{VERSION}.tgz", "values.schema.json", "values.yaml"]
    assert (folder / f"jupyterhub-{VERSION}.tgz").read_bytes() == data
    assert (folder / "values.yaml").read_text() == z2jh_values_text()
    assert result.digest == "sha256:" + hashlib.sha256(data).hexdigest()
    assert all(p.stat().st_mode & 0o044 for p in folder.iterdir()), "readable like other files"
    assert [r.path for r, _ in httpserver.log] == [
        "/helm/index.yaml",
        f"/helm/jupyterhub-{VERSION}.tgz",
    ]
    # The same chart again: nothing rewritten.
    stamp = (folder / "values.yaml").stat().st_mtime_ns
    again = pull(httpserver, tmp_path / "charts", sleeps)
    assert not again.written and (folder / "values.yaml").stat().st_mtime_ns == stamp


def test_digest_mismatch_writes_nothing(tmp_path, httpserver, sleeps) -> None:
    serve(httpserver, {VERSION: build_chart()}, digests={VERSION: "0" * 64})
    with pytest.raises(
        ChartPullError,
        match=r"digest mismatch: the index says sha256:0{64}, "
        r"the archive is sha256:[0-9a-f]{64}; nothing was written",
    ):
        pull(httpserver, tmp_path / "charts", sleeps)
    assert not (tmp_path / "charts").exists()


def test_failed_pull_leaves_an_existing_lock_byte_for_byte(tmp_path, httpserver, sleeps) -> None:
    serve(httpserver, {VERSION: build_chart()})
    folder = pull(httpserver, tmp_path / "charts", sleeps).folder
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    httpserver.clear()
    serve(
        httpserver,
        {VERSION: build_chart(values_text="changed: true\n")},
        digests={VERSION: "1" * 64},
    )
    with pytest.raises(ChartPullError, match="digest mismatch"):
        pull(httpserver, tmp_path / "charts", sleeps)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


def test_index_without_digest_is_refused(tmp_path, httpserver, sleeps) -> None:
    text = index_yaml({VERSION: build_chart()}).replace("digest:", "checksum:")
    httpserver.expect_request("/helm/index.yaml").respond_with_data(text)
    with pytest.raises(ChartPullError, match="has no SHA-256 digest in the index"):
        pull(httpserver, tmp_path / "charts", sleeps)


def test_version_not_in_index_names_the_newest(tmp_path, httpserver, sleeps) -> None:
    serve(httpserver, {"4.3.8": build_chart("4.3.8"), "4.4.0-0.dev": build_chart("4.4.0-0.dev")})
    with pytest.raises(
        ChartPullError,
        match=r"jupyterhub 4\.3\.9 is not in the index "
        r"\(newest: 4\.3\.8\)",
    ):
        pull(httpserver, tmp_path / "charts", sleeps)


def test_chart_yaml_must_match_the_index(tmp_path, httpserver, sleeps) -> None:
    serve(httpserver, {VERSION: build_chart(chart_yaml_version="9.9.9")})
    with pytest.raises(ChartPullError, match="Chart.yaml says jupyterhub 9.9.9, expected"):
        pull(httpserver, tmp_path / "charts", sleeps)
    assert not (tmp_path / "charts").exists()


def test_archive_without_schema_is_refused(tmp_path, httpserver, sleeps) -> None:
    serve(httpserver, {VERSION: build_chart(with_schema=False)})
    with pytest.raises(ChartPullError, match="the archive has no jupyterhub/values.schema.json"):
        pull(httpserver, tmp_path / "charts", sleeps)


def test_not_an_archive(tmp_path, httpserver, sleeps) -> None:
    junk = b"<html>maintenance</html>"
    httpserver.expect_request("/helm/index.yaml").respond_with_data(index_yaml({VERSION: junk}))
    httpserver.expect_request(f"/helm/jupyterhub-{VERSION}.tgz").respond_with_data(junk)
    with pytest.raises(ChartPullError, match="not a chart archive"):
        pull(httpserver, tmp_path / "charts", sleeps)


def test_not_an_index(tmp_path, httpserver, sleeps) -> None:
    httpserver.expect_request("/helm/index.yaml").respond_with_data("- just\n- a list\n")
    with pytest.raises(ChartPullError, match="not a Helm repository index"):
        pull(httpserver, tmp_path / "charts", sleeps)


def test_5xx_is_retried_with_backoff(tmp_path, httpserver, sleeps) -> None:
    data = build_chart()
    answers = [
        Response("busy", 503),
        Response("oops", 502),
        Response(index_yaml({VERSION: data}), 200),
    ]
    httpserver.expect_request("/helm/index.yaml").respond_with_handler(lambda _r: answers.pop(0))
    httpserver.expect_request(f"/helm/jupyterhub-{VERSION}.tgz").respond_with_data(data)
    assert pull(httpserver, tmp_path / "charts", sleeps).written
    assert sleeps == [1.0, 2.0]


def test_5xx_three_times_fails(tmp_path, httpserver, sleeps) -> None:
    httpserver.expect_request("/helm/index.yaml").respond_with_data("down", status=500)
    with pytest.raises(ChartPullError, match=r"HTTP 500 \(after 3 attempts\)"):
        pull(httpserver, tmp_path / "charts", sleeps)
    assert len(httpserver.log) == 3 and not (tmp_path / "charts").exists()


def test_4xx_is_not_retried(tmp_path, httpserver, sleeps) -> None:
    httpserver.expect_request("/helm/index.yaml").respond_with_data("no", status=404)
    with pytest.raises(ChartPullError, match="HTTP 404"):
        pull(httpserver, tmp_path / "charts", sleeps)
    assert len(httpserver.log) == 1 and sleeps == []


def test_a_timeout_is_retried_then_succeeds(tmp_path, httpserver, monkeypatch) -> None:
    monkeypatch.setattr(pull_mod, "READ_TIMEOUT", 0.2)
    data = build_chart()
    slow = [True]
    waits: list[float] = []

    def handler(_request):
        if slow:
            slow.pop()
            time.sleep(0.6)
        return Response(index_yaml({VERSION: data}), 200)

    def wait(seconds: float) -> None:  # the test server answers one request at a time
        waits.append(seconds)
        time.sleep(0.6)

    httpserver.expect_request("/helm/index.yaml").respond_with_handler(handler)
    httpserver.expect_request(f"/helm/jupyterhub-{VERSION}.tgz").respond_with_data(data)
    result = pull_chart(
        httpserver.url_for("/helm/"), "jupyterhub", VERSION, tmp_path / "charts", sleep=wait
    )
    assert result.written and waits == [1.0]
    assert [r.path for r, _ in httpserver.log].count("/helm/index.yaml") == 2


@pytest.mark.slow  # three real read timeouts
def test_timeouts_three_times_fail(tmp_path, httpserver, monkeypatch) -> None:
    monkeypatch.setattr(pull_mod, "READ_TIMEOUT", 0.1)

    def handler(_request):
        time.sleep(0.3)
        return Response("late", 200)

    def wait(_seconds: float) -> None:  # let the one-request-at-a-time test server finish
        time.sleep(0.35)

    httpserver.expect_request("/helm/index.yaml").respond_with_handler(handler)
    with pytest.raises(ChartPullError, match=r"timed out \(after 3 attempts\)"):
        pull_chart(
            httpserver.url_for("/helm/"), "jupyterhub", VERSION, tmp_path / "charts", sleep=wait
        )
    time.sleep(0.35)  # the last slow answer, so the next test starts with an idle server
    assert len(httpserver.log) == 3 and not (tmp_path / "charts").exists()


def test_unreachable_fails_in_bounded_time(tmp_path, sleeps) -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(ChartPullError, match=r"unreachable .*\(after 3 attempts\)"):
        pull_chart(
            f"http://127.0.0.1:{port}/",
            "jupyterhub",
            VERSION,
            tmp_path / "charts",
            sleep=sleeps.append,
        )


@pytest.mark.parametrize(
    "url",
    [
        "http://charts.example.org/",
        "http://10.0.0.1/helm",
        "http://127.0.0.1.example.org/",
        "ftp://127.0.0.1/",
        "file:///srv/charts",
    ],
)
def test_plain_http_only_for_loopback(url) -> None:
    with pytest.raises(UsageError):
        check_repo_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "https://hub.jupyter.org/helm-chart/",
        "http://127.0.0.1:8080/",
        "http://[::1]:8080/x",
        "http://localhost/",
    ],
)
def test_accepted_repository_urls(url) -> None:
    assert check_repo_url(url) == url


@pytest.mark.usefixtures("httpserver")
def test_pull_refuses_http_before_any_request(tmp_path, sleeps) -> None:
    with pytest.raises(UsageError, match="only accepted for a loopback host"):
        pull_chart(
            "http://charts.example.org/",
            "jupyterhub",
            VERSION,
            tmp_path / "charts",
            sleep=sleeps.append,
        )
    assert not (tmp_path / "charts").exists()


def test_archive_url_leaving_https_is_refused(tmp_path, httpserver, sleeps) -> None:
    text = index_yaml({VERSION: build_chart()}).replace(
        f"jupyterhub-{VERSION}.tgz", f"http://charts.example.org/jupyterhub-{VERSION}.tgz"
    )
    httpserver.expect_request("/helm/index.yaml").respond_with_data(text)
    with pytest.raises(ChartPullError, match="leads to http://charts.example.org/.*loopback"):
        pull(httpserver, tmp_path / "charts", sleeps)
    assert len(httpserver.log) == 1 and not (tmp_path / "charts").exists()
