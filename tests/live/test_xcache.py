"""Live (b): the real xrootd runs the rendered XCache Deployment, as the pod runs it.

What runs as the pod runs it: a fresh render of ``sites/escape.yaml`` whose static origin is a
local xrootd (the site edit below; the allow-list is generated from it, never written here). The
Deployment's init container and then its xrootd container run with their command, env, uid
(10940), read-only root, the ConfigMaps at their mount paths in the kubelet's layout, empty
emptyDirs and empty hostPath disks (owned by the cache's uid, as ``docs/xcache.md`` asks the node
preparation to do). The refresh CronJob's pod runs the rendered ``xcache_refresh.py`` with the
rendered config; what it PATCHes into the authdb ConfigMap is what the kubelet then swaps in
(``..data``), while xrootd keeps running.

What stands in for the world: two plain xrootd origins (Debian's xrootd serving a folder, each in
a pod of the test's own) on 127.0.0.1 ports of the private network namespace, one on the
allow-list and one not; a CRIC catalogue and the Kubernetes API, served with TLS by a test CA on
127.0.0.1 (the job image's CA bundle is that CA; the ServiceAccount token is a test token). The
client is Debian's ``xrdcp`` in the same network namespace, using the seed's URL form
``root://cache//root://origin//path``.

Why the wait: xrootd re-reads the authdb every ``acc.authrefresh`` seconds and refuses less than
60 (XrdAccConfig.cc, ``xart``), which is the rendered value, so the allow-list change takes up to a
minute to show; the other steps run while it is pending.
"""

from __future__ import annotations

import http.server
import json
import os
import re
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.live.harness import (
    REPO,
    HostDir,
    NetNS,
    PodRun,
    Rendered,
    plain_image,
    render_fresh,
    require_program,
    wait_for,
)
from tests.support.tls import make_tls

ORIGIN = ("127.0.0.1", 1095)  # on the allow-list (the site's static origin)
UNLISTED = ("127.0.0.1", 1096)  # not on it until the refresh job adds it from CRIC
CRIC_PORT, API_PORT = 8443, 6443
CRIC_PATH = "/api/doma/rse/query/"
TOKEN = "test-serviceaccount-token"  # noqa: S105 - a throwaway token of the fake API server
FILE_SIZE = 3 * 2**20 + 12345  # several 1 MiB cache blocks and a partial one
STATIC = ("      - root://eoseulake.cern.ch:1094\n"
          "      - davs://eoseulake.cern.ch:443\n")


def _site_edit(text: str) -> str:
    """The test site: the local origin as the static origin, CRIC on 127.0.0.1, and the
    shortest allow-list refresh xrootd takes (stated, though it is also the default)."""
    assert text.count(STATIC) == 1 and text.count("url: https://escape-cric.cern.ch/") == 1
    text = text.replace(STATIC, f"      - root://{ORIGIN[0]}:{ORIGIN[1]}\n")
    text = text.replace("url: https://escape-cric.cern.ch/",
                        f"url: https://127.0.0.1:{CRIC_PORT}/")
    return text.replace(
        "  mode: forwarding\n", "  mode: forwarding\n  authdb_refresh_seconds: 60\n"
    )


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> Rendered:
    require_program("xrootd", "xrootd-server")
    require_program("xrdcp", "xrootd-client")
    return render_fresh(
        tmp_path_factory.mktemp("xcache-render"), "escape", edit={"escape.yaml": _site_edit}
    )


# -- stand-ins -------------------------------------------------------------------------------------


def origin_pod(port: int, folder: Path) -> tuple[dict[str, Any], dict[str, Path], Path]:
    """A plain xrootd serving ``folder/data`` as ``/data`` on `port`, as an unprivileged user.

    Returns the pod, its hostPath folders and the folder to put files in.
    """
    conf, data = folder / "conf", folder / "srv"
    (data / "data").mkdir(parents=True)
    conf.mkdir()
    (conf / "origin.cfg").write_text(
        f"xrd.port {port}\nall.export /data\noss.localroot /srv\n"
        "all.adminpath /var/run/xrootd\nall.pidpath /var/run/xrootd\n"
    )
    for path in (conf, data, data / "data"):
        path.chmod(0o755)
    pod = {
        "kind": "Pod",
        "metadata": {"name": f"origin-{port}", "namespace": "storage"},
        "spec": {
            "containers": [
                {
                    "name": "xrootd",
                    "command": ["xrootd", "-c", "/etc/origin/origin.cfg"],
                    "securityContext": {"runAsUser": 65534, "runAsGroup": 65534},
                    "volumeMounts": [
                        {"name": "conf", "mountPath": "/etc/origin", "readOnly": True},
                        {"name": "srv", "mountPath": "/srv", "readOnly": True},
                        {"name": "run", "mountPath": "/var/run/xrootd"},
                    ],
                }
            ],
            "volumes": [
                {"name": "conf", "hostPath": {"path": "/origin-conf"}},
                {"name": "srv", "hostPath": {"path": "/origin-srv"}},
                {"name": "run", "emptyDir": {}},
            ],
        },
    }
    return pod, {"/origin-conf": conf, "/origin-srv": data}, data / "data"


class FakeApi:
    """The two ConfigMap calls of the refresh job (GET, merge PATCH with resourceVersion)."""

    def __init__(self, namespace: str, name: str, data: dict[str, str]) -> None:
        self.path = f"/api/v1/namespaces/{namespace}/configmaps/{name}"
        self.name = name
        self.data = dict(data)
        self.version = 41
        self.patches: list[dict[str, Any]] = []

    def handle(self, handler: http.server.BaseHTTPRequestHandler) -> tuple[int, Any]:
        if handler.headers.get("Authorization") != f"Bearer {TOKEN}":
            return 401, {"kind": "Status", "code": 401}
        if handler.path != self.path:
            return 404, {"kind": "Status", "code": 404}
        if handler.command == "PATCH":
            assert handler.headers.get("Content-Type") == "application/merge-patch+json"
            body = json.loads(handler.rfile.read(int(handler.headers["Content-Length"])))
            if body.get("metadata", {}).get("resourceVersion") != str(self.version):
                return 409, {"kind": "Status", "code": 409}
            self.patches.append(body)
            self.data.update(body.get("data") or {})
            self.version += 1
        return 200, {
            "metadata": {"name": self.name, "resourceVersion": str(self.version)},
            "data": self.data,
        }


def serve_tls(ns: NetNS, port: int, cert: Path, key: Path, respond) -> http.server.HTTPServer:
    """An HTTPS server on 127.0.0.1:`port` inside `ns`; `respond(handler)` -> (status, JSON)."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def _answer(self) -> None:
            status, body = respond(self)
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_PATCH = _answer

        def log_message(self, *args: Any) -> None:
            pass

    def bind() -> http.server.HTTPServer:  # the socket is made in the namespace
        server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        return server

    server = ns.call(bind)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def cric_catalogue() -> dict[str, Any]:
    """The CRIC fixture (the ``?json`` shape) plus an RSE whose root door is the unlisted origin."""
    data = json.loads((REPO / "tests/fixtures/cric/rse_query.json").read_text())
    data["LOCAL-NEW-RSE"] = {
        "name": "LOCAL-NEW-RSE",
        "protocols": {
            "xrootd": {
                "flavour": "root",
                "endpoint": f"{UNLISTED[0]}:{UNLISTED[1]}",
                "path": "/data",
            }
        },
    }
    return data


# -- helpers ---------------------------------------------------------------------------------------


def xrdcp(
    ns: NetNS, cache_port: int, origin: tuple[str, int], name: str, out: Path
) -> subprocess.CompletedProcess:
    """``xrdcp root://cache//root://origin//data/<name>`` (the seed's form), client in `ns`."""
    url = f"root://127.0.0.1:{cache_port}//root://{origin[0]}:{origin[1]}//data/{name}"
    return ns.run(["xrdcp", "--force", "--nopbar", url, str(out)], timeout=60)


def files_below(root: Path) -> Iterator[Path]:
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            yield path


def directive(config: str, name: str) -> list[str]:
    return [line.split()[1:] for line in config.splitlines() if line.split()[:1] == [name]]


def folders_matter(
    deployment: dict[str, Any],
    rendered: Rendered,
    tmp_path: Path,
    ns: NetNS,
    disks: list[str],
    uid: int,
) -> None:
    """xrootd alone stops on empty volumes; the init container fails on root-owned disks."""
    with PodRun(
        deployment,
        rendered,
        tmp_path / "bare",
        netns=ns,
        host_dirs={d: HostDir(uid, uid, 0o750) for d in disks},
    ) as bare:
        stopped = bare.run("xrootd", timeout=30)
    assert stopped.returncode != 0
    assert re.search(r"Unable to (use localroot|create \w+ space at)", stopped.stdout), (
        stopped.stdout[-2000:]
    )
    [init] = deployment["spec"]["template"]["spec"]["initContainers"]
    with PodRun(deployment, rendered, tmp_path / "root-owned", netns=ns) as unprepared:
        failed = unprepared.run(init["name"], init=True, timeout=30)
    assert failed.returncode != 0 and "Permission denied" in failed.stdout, failed.stdout


# -- the test --------------------------------------------------------------------------------------


def test_cache_starts_empty_serves_from_disk_refuses_unlisted_and_reloads_the_allow_list(
    rendered: Rendered, tmp_path: Path
) -> None:
    deployment = rendered.get("Deployment", "xcache", "xcache")
    config = rendered.configmap_data("xcache-config", "xcache")["xcache.cfg"]
    [[port]] = directive(config, "xrd.port")
    [[refresh]] = directive(config, "acc.authrefresh")
    cache_port, refresh_s = int(port), int(refresh)
    authdb = rendered.configmap_data("xcache-authdb", "xcache")["authdb"]
    assert f"/root:/{ORIGIN[0]}:{ORIGIN[1]}/ lr" in authdb  # generated from the site edit
    assert f":{UNLISTED[1]}/" not in authdb
    disks = [
        v["hostPath"]["path"]
        for v in deployment["spec"]["template"]["spec"]["volumes"]
        if "hostPath" in v
    ]
    uid = deployment["spec"]["template"]["spec"]["containers"][0]["securityContext"]["runAsUser"]

    with NetNS() as ns:
        origin_spec, origin_dirs, origin_data = origin_pod(ORIGIN[1], tmp_path / "origin")
        content = os.urandom(FILE_SIZE)
        (origin_data / "file.bin").write_bytes(content)
        (origin_data / "file.bin").chmod(0o644)
        other_spec, other_dirs, other_data = origin_pod(UNLISTED[1], tmp_path / "unlisted")
        (other_data / "other.bin").write_bytes(b"other origin\n" * 1000)
        (other_data / "other.bin").chmod(0o644)

        with (
            PodRun(
                origin_spec, None, tmp_path / "origin-pod", netns=ns, host_dirs=origin_dirs
            ) as origin,
            PodRun(
                other_spec, None, tmp_path / "unlisted-pod", netns=ns, host_dirs=other_dirs
            ) as other,
            PodRun(
                deployment,
                rendered,
                tmp_path / "cache",
                netns=ns,
                host_dirs={d: HostDir(uid, uid, 0o750) for d in disks},
            ) as cache,
        ):
            origin_proc = origin.start("xrootd")
            other_proc = other.start("xrootd")
            ns.wait_port(ORIGIN[1], proc=origin_proc)
            ns.wait_port(UNLISTED[1], proc=other_proc)

            # 1. Start from empty volumes: the init container, then xrootd.
            mounts = ("/xcache-meta", "/xcache-data_1", "/xcache-data_2", "/var/run/xrootd", "/tmp")
            assert all(not any(cache.host_path("xrootd", m).iterdir()) for m in mounts)
            cache.run_init_containers()
            proc = cache.start("xrootd")
            ns.wait_port(cache_port, proc=proc)

            # 2. Read through the cache from the listed origin (the seed's URL form).
            first = xrdcp(ns, cache_port, ORIGIN, "file.bin", tmp_path / "first.bin")
            assert first.returncode == 0, first.stdout + first.stderr + proc.output()[-3000:]
            assert (tmp_path / "first.bin").read_bytes() == content

            # 3. ... and from the cache's disks once the origin is gone (xrootd restarted too, so
            #    nothing is left in its memory).
            meta = cache.host_path("xrootd", "/xcache-meta")
            data_disks = [
                cache.host_path("xrootd", d) for d in ("/xcache-data_1", "/xcache-data_2")
            ]
            wait_for(
                lambda: (
                    sum(p.stat().st_size for d in data_disks for p in files_below(d)) >= FILE_SIZE
                ),
                timeout=20,
                what="the file's blocks on the data disks",
            )
            # the namespace (oss.localroot) links the file into a data disk, its state into meta
            entry = meta / "namespace" / "data"
            assert str((entry / "file.bin").readlink()).startswith("/xcache-data_")
            assert str((entry / "file.bin.cinfo").readlink()).startswith("/xcache-meta/xrdcinfos/")
            origin.stop("xrootd")
            cache.stop("xrootd")
            proc = cache.start("xrootd")
            ns.wait_port(cache_port, proc=proc)
            started = time.monotonic()
            again = xrdcp(ns, cache_port, ORIGIN, "file.bin", tmp_path / "again.bin")
            assert again.returncode == 0, again.stdout + again.stderr + proc.output()[-3000:]
            assert (tmp_path / "again.bin").read_bytes() == content

            # 4. An origin that is not on the allow-list is refused, and never contacted.
            refused = xrdcp(ns, cache_port, UNLISTED, "other.bin", tmp_path / "refused.bin")
            assert refused.returncode != 0, refused.stdout
            # kXR_NotAuthorized (3010), from the cache's authorization, before any open upstream
            assert "[3010]" in refused.stderr and "permission denied" in refused.stderr, (
                refused.stderr
            )
            assert not (tmp_path / "refused.bin").exists()
            assert " login" not in other_proc.output()

            # 5. The refresh job (rendered CronJob pod and script) adds it from CRIC; what it
            #    PATCHes is what the kubelet swaps into the mounted authdb (..data).
            ca_path, cert, key = make_tls(tmp_path / "tls")
            ca_pem = ca_path.read_text()
            catalogue = cric_catalogue()
            serve_tls(
                ns,
                CRIC_PORT,
                cert,
                key,
                lambda h: (200, catalogue) if h.path.startswith(CRIC_PATH) else (404, {}),
            )
            api = FakeApi("xcache", "xcache-authdb", {"authdb": authdb})
            serve_tls(ns, API_PORT, cert, key, api.handle)
            job = rendered.get("CronJob", "xcache-origins-refresh", "xcache")
            with PodRun(
                job,
                rendered,
                tmp_path / "refresh",
                netns=ns,
                image=plain_image(files={"/etc/ssl/certs/ca-certificates.crt": ca_pem}),
                service_account={"token": TOKEN, "ca.crt": ca_pem, "namespace": "xcache"},
                kube_api=("127.0.0.1", API_PORT),
            ) as refresh:
                result = refresh.run("refresh", timeout=60)
            assert result.returncode == 0, result.stdout
            assert (
                f"added ['/root:/{UNLISTED[0]}:{UNLISTED[1]}/', "
                f"'/xroot:/{UNLISTED[0]}:{UNLISTED[1]}/']"
            ) in result.stdout, result.stdout
            assert len(api.patches) == 1
            cache.update_configmap("xcache-authdb", api.data)
            swapped = time.monotonic() - started
            mounted = cache.host_path("xrootd", "/etc/xcache/authdb/authdb").read_text()
            assert mounted == api.data["authdb"]
            assert f"/root:/{UNLISTED[0]}:{UNLISTED[1]}/ lr" in mounted

            # 6. While xrootd has not re-read it yet: the folders matter. Without the init
            #    container xrootd stops at start, and disks the node preparation did not hand to
            #    the cache's uid fail the init container visibly (another network namespace).
            with NetNS() as elsewhere:
                folders_matter(deployment, rendered, tmp_path, elsewhere, disks, uid)

            # 7. The running xrootd (same process) allows it within acc.authrefresh seconds.
            pid = proc.program_pid()

            def unlisted_readable() -> bool:
                out = tmp_path / "now-allowed.bin"
                return xrdcp(ns, cache_port, UNLISTED, "other.bin", out).returncode == 0

            # xrootd looks at the authdb every refresh_s seconds from its start: the first look
            # after the swap must see the change (a busy machine may swap after the first look).
            first_look = (int(swapped // refresh_s) + 1) * refresh_s
            wait_for(
                unlisted_readable,
                timeout=first_look + 15 - (time.monotonic() - started),
                interval=0.5,
                what="the refreshed allow-list",
            )
            assert (tmp_path / "now-allowed.bin").read_bytes() == (
                other_data / "other.bin"
            ).read_bytes()
            assert proc.poll() is None and proc.program_pid() == pid
            # xrootd's refresh thread re-read the swapped file (once at start, once now)
            assert proc.output().count("auth entries processed in /etc/xcache/authdb/authdb") == 2
            # what was cached before still is
            assert xrdcp(ns, cache_port, ORIGIN, "file.bin", tmp_path / "last.bin").returncode == 0
