"""Live (d): the single-user postStart hook and the token renewer, against a hub API stand-in.

The user pod is the one the real KubeSpawner makes from a fresh render of ``sites/escape.yaml``
(the ConfigMap files at their subPath mounts, the token emptyDir, the scratch hostPath at
``/scratch``, uid 1000, the pod's env). Its postStart ``exec`` command runs in the container as
the kubelet runs it; the renewer it detaches keeps running there. The hub is a stand-in on
127.0.0.1:8081 inside the pod's private network namespace serving ``GET /hub/api/users/<name>``
with the auth state ``hub_tokens.py`` writes; ``hub`` resolves to it through the pod's
``/etc/hosts`` (the stand-in for the cluster DNS name of the hub Service). What is not run: the
notebook server itself (the hook does not need it) and eosxd (the scratch hostPath is a plain
folder, writable as the EOS folder is for users).

Order is proven with one inotify queue over the token folder and the scratch folder: the kernel
queues the rename that installs ``eos.token`` and the creation of ``/scratch/<user>`` in the order
they happen.
"""

from __future__ import annotations

import ctypes
import json
import os
import re
import stat
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path, PurePosixPath
from typing import Any

import pytest

from tests.live.harness import (
    HostDir,
    NetNS,
    PodRun,
    Rendered,
    docker_stacks_image,
    user_pod,
    wait_for,
)

#: What the hub gives the server at spawn (``Spawner.api_token``); the offline spawner has none.
API_TOKEN = "server-token-of-alice"
USERINFO_HOST = "iam-escape.cloud.cnaf.infn.it/userinfo"
IN_CREATE, IN_MOVED_TO, IN_ISDIR = 0x100, 0x80, 0x40000000


def auth_state(generation: str, eos: bool = True) -> dict[str, Any]:
    """Auth state as ``hub_tokens.py`` stores it (oauthenticator keys plus exchanged tokens)."""
    later = time.time() + 3600
    state: dict[str, Any] = {
        "access_token": f"access.{generation}.sig", "access_token_expires_at": later,
        "refresh_token": f"refresh.{generation}", "token_response": {},
        "exchanged_tokens": {"rucio": {"access_token": f"rucio.{generation}.sig",
                                       "audience": "rucio", "expires_at": later}},
        "exchange_errors": {},
    }
    if eos:
        state["exchanged_tokens"]["eos"] = {"access_token": f"eos.{generation}.sig",
                                            "audience": "eos-eulake", "expires_at": later}
    else:
        state["exchange_errors"]["eos"] = "token exchange for audience eos-eulake failed: 400"
    return state


class HubStandIn:
    """``GET /hub/api/users/<user>`` with auth state, for the server's own API token only."""

    def __init__(self, user: str, state: dict[str, Any]) -> None:
        self.user = user
        self.state = state
        self.requests = 0
        self.lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None

    def handler(self) -> type[BaseHTTPRequestHandler]:
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                with hub.lock:
                    hub.requests += 1
                    state = json.loads(json.dumps(hub.state))
                if self.path != f"/hub/api/users/{hub.user}":
                    return self._send(404, {"status": 404})
                if self.headers.get("Authorization") != f"token {API_TOKEN}":
                    return self._send(403, {"status": 403})
                return self._send(200, {"kind": "user", "name": hub.user, "admin": False,
                                        "auth_state": state})

            def _send(self, code: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        return Handler

    def set(self, state: dict[str, Any]) -> None:
        with self.lock:
            self.state = state

    @contextmanager
    def serving(self, ns: NetNS, port: int) -> Iterator[HubStandIn]:
        self.server = ns.call(ThreadingHTTPServer, ("127.0.0.1", port), self.handler())
        thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.server.shutdown()
            self.server.server_close()


class Inotify:
    """One inotify queue over several folders: (folder, name, mask) in the order they happened."""

    def __init__(self, *folders: Path) -> None:
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.fd = self.libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        assert self.fd >= 0, os.strerror(ctypes.get_errno())
        self.watches = {}
        for folder in folders:
            wd = self.libc.inotify_add_watch(self.fd, str(folder).encode(), IN_CREATE | IN_MOVED_TO)
            assert wd >= 0, os.strerror(ctypes.get_errno())
            self.watches[wd] = folder
        self.events: list[tuple[Path, str, int]] = []

    def read(self) -> list[tuple[Path, str, int]]:
        while True:
            try:
                data = os.read(self.fd, 65536)
            except BlockingIOError:
                return self.events
            offset = 0
            while offset < len(data):
                wd, mask, _, length = struct.unpack_from("iIII", data, offset)
                name = data[offset + 16:offset + 16 + length].rstrip(b"\0").decode()
                self.events.append((self.watches[wd], name, mask))
                offset += 16 + length

    def close(self) -> None:
        os.close(self.fd)


def _api_port(env: dict[str, str]) -> int:
    match = re.fullmatch(r"http://hub:(\d+)/hub/api", env["JUPYTERHUB_API_URL"])
    assert match, env["JUPYTERHUB_API_URL"]
    return int(match.group(1))


@pytest.fixture
def escape(rendered_sites: dict[str, Rendered]) -> Rendered:
    return rendered_sites["escape"]


@contextmanager
def user_server(escape: Rendered, tmp_path: Path,
                state: dict[str, Any]) -> Iterator[tuple[PodRun, HubStandIn, dict]]:
    pod = user_pod(escape)
    [container] = pod["spec"]["containers"]
    for entry in container["env"]:
        if entry["name"] in ("JUPYTERHUB_API_TOKEN", "JPY_API_TOKEN"):
            assert entry["value"] == ""  # the hub fills it in at spawn
            entry["value"] = API_TOKEN
    env = {e["name"]: e.get("value") for e in container["env"]}
    volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
    scratch_mount = next(m for m in container["volumeMounts"] if m["mountPath"] == "/scratch")
    scratch_host = volumes[scratch_mount["name"]]["hostPath"]["path"]
    home = tmp_path / "home-share"
    home.mkdir()
    os.chown(home, 1000, 100)
    image = docker_stacks_image(files={"/etc/hosts": "127.0.0.1\tlocalhost\n127.0.0.1\thub\n"})
    with (
        NetNS() as ns,
        HubStandIn(env["JUPYTERHUB_USER"], state).serving(ns, _api_port(env)) as hub,
    ):
        with PodRun(
            pod,
            escape,
            tmp_path / "pod",
            netns=ns,
            image=image,
            claims={"dlaas-home-share": home},
            host_dirs={scratch_host: HostDir(mode=0o1777)},
        ) as run:
            yield run, hub, container


def renewer_files(escape: Rendered) -> dict[str, dict[str, Any]]:
    config = json.loads(escape.configmap_data("dlaas-notebook-files")["token-renewer.json"])
    return {f["source"]: f for f in config["files"]}


def _mode_owner(path: Path) -> tuple[int, int]:
    st = path.stat()
    return stat.S_IMODE(st.st_mode), st.st_uid


def _renewer_log(run: PodRun) -> str:
    return run.exec("notebook", ["cat", "/tmp/dlaas-token-renewer.log"]).stdout


def assert_token_before_scratch(
    events: list[tuple[Path, str, int]], tokens: Path, scratch: Path, eos_name: str, user: str
) -> None:
    order = [
        (folder, name)
        for folder, name, mask in events
        if (folder == tokens and name == eos_name and mask & IN_MOVED_TO)
        or (folder == scratch and name == user and mask & IN_CREATE and mask & IN_ISDIR)
    ]
    assert order == [(tokens, eos_name), (scratch, user)], events


def test_hook_writes_tokens_then_scratch_and_renews(escape: Rendered, tmp_path: Path) -> None:
    files = renewer_files(escape)
    eos_spec = files["exchanged_tokens/eos/access_token"]
    with user_server(escape, tmp_path, auth_state("A")) as (run, hub, container):
        env = run.env("notebook")
        user, scratch_dir = env["JUPYTERHUB_USER"], env["SCRATCH"]
        assert scratch_dir == f"/scratch/{user}"
        # OAUTH2_TOKEN points eosxd at the file the renewer writes in the EOS format
        assert env["OAUTH2_TOKEN"] == f"FILE:{eos_spec['path']}" and eos_spec["format"] == "eos"
        tokens = run.host_path("notebook", str(PurePosixPath(eos_spec["path"]).parent))
        scratch = run.host_path("notebook", "/scratch")
        watch = Inotify(tokens, scratch)
        try:
            hook = container["lifecycle"]["postStart"]["exec"]["command"]
            started = time.monotonic()
            done = run.exec("notebook", hook, timeout=60)
            took = time.monotonic() - started
            assert done.returncode == 0, done.stdout
            assert took < 15, f"postStart took {took:.1f}s with the hub answering at once"
            assert_token_before_scratch(
                watch.read(), tokens, scratch, PurePosixPath(eos_spec["path"]).name, user
            )
        finally:
            watch.close()
        eos_file = run.host_path("notebook", eos_spec["path"])
        assert eos_file.read_text() == f"oauth2:eos.A.sig:{USERINFO_HOST}"
        for spec in files.values():
            assert _mode_owner(run.host_path("notebook", spec["path"])) == (0o600, 1000), spec
        assert (scratch / user).is_dir() and (scratch / user).stat().st_uid == 1000
        log = wait_for(
            lambda: (lambda t: t if "INFO polling" in t else "")(_renewer_log(run)),
            timeout=15,
            what="the detached renewer polling",
        )
        assert f"{scratch_dir}: created" in log

        # the hub refreshed the tokens: the running renewer rewrites every file at its next poll
        # (SIGUSR1 = poll now; the 60 s timer itself is covered by the unit tests)
        hub.set(auth_state("B"))
        pid = re.search(r"token-renewer\[(\d+)\] INFO polling", log).group(1)
        assert run.exec("notebook", ["kill", "-USR1", pid]).returncode == 0
        wait_for(
            lambda: eos_file.read_text() == f"oauth2:eos.B.sig:{USERINFO_HOST}",
            timeout=15,
            what="eos.token renewed",
        )
        for spec in files.values():
            path = run.host_path("notebook", spec["path"])
            wait_for(lambda p=path: ".B." in p.read_text(), timeout=5, what=f"{path.name} renewed")
            assert _mode_owner(path) == (0o600, 1000)


def test_scratch_waits_for_a_late_eos_token(escape: Rendered, tmp_path: Path) -> None:
    """The EOS exchange fails at first: the hook retries and creates $SCRATCH only after."""
    files = renewer_files(escape)
    eos_spec = files["exchanged_tokens/eos/access_token"]
    rucio_spec = files["exchanged_tokens/rucio/access_token"]
    with user_server(escape, tmp_path, auth_state("A", eos=False)) as (run, hub, container):
        user = run.env("notebook")["JUPYTERHUB_USER"]
        tokens = run.host_path("notebook", str(PurePosixPath(eos_spec["path"]).parent))
        scratch = run.host_path("notebook", "/scratch")
        eos_file = run.host_path("notebook", eos_spec["path"])
        watch = Inotify(tokens, scratch)
        try:
            hook = run.start("notebook", container["lifecycle"]["postStart"]["exec"]["command"])
            wait_for(lambda: hub.requests >= 3, timeout=20, what="the hook retrying the hub")
            # still in the hook: the other tokens are written, no EOS token, no folder
            assert hook.poll() is None
            assert run.host_path("notebook", rucio_spec["path"]).read_text() == "rucio.A.sig"
            assert not eos_file.exists() and not (scratch / user).exists()
            hub.set(auth_state("A"))  # the hub's next exchange succeeds
            assert hook.wait(timeout=30) == 0, hook.output()
            assert_token_before_scratch(watch.read(), tokens, scratch, eos_file.name, user)
        finally:
            watch.close()
        assert _mode_owner(eos_file) == (0o600, 1000) and (scratch / user).is_dir()
        log = _renewer_log(run)
        assert f"/scratch/{user}: waiting for the EOS token file(s) before creating it" in log
        assert log.index("waiting for the EOS token") < log.index(f"/scratch/{user}: created")
