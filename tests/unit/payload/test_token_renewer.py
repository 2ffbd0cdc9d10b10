"""Tests for the in-pod token renewer (``dlaas_gen/payload/token_renewer.py``)."""

from __future__ import annotations

import ast
import json
import os
import re
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from werkzeug import Response

from dlaas_gen.payload import token_renewer as tr
from dlaas_gen.payloads import payload_text

SCRIPT = Path(tr.__file__)
USERINFO = "https://iam-escape.cloud.cnaf.infn.it/userinfo"
STATE = {
    "access_token": "raw.A.sig",
    "access_token_expires_at": 4e9,
    "exchanged_tokens": {
        "rucio": {"access_token": "rucio.A.sig", "audience": "rucio", "expires_at": 4e9},
        "eos": {"access_token": "eos.A.sig", "audience": "eos-eulake", "expires_at": 4e9},
    },
}


def config_dict(tmp_path: Path) -> dict:
    return {
        "files": [
            {"path": str(tmp_path / "oauth.token"), "source": "access_token"},
            {"path": str(tmp_path / "rucio_oauth.token"),
             "source": "exchanged_tokens/rucio/access_token"},
            {"path": str(tmp_path / "eos_oauth.token"),
             "source": "exchanged_tokens/eos/access_token",
             "format": "eos", "userinfo_endpoint": USERINFO},
        ]
    }


class FakeHub:
    """The hub's ``GET /users/<name>`` on pytest-httpserver, with a swappable auth state."""

    def __init__(self, httpserver, user: str = "alice", token: str = "srv-token"):
        self.state: dict | None = json.loads(json.dumps(STATE))
        self.token = token
        self.fail_next = 0
        self.requests = 0
        self.server = httpserver
        httpserver.expect_request(f"/hub/api/users/{user}").respond_with_handler(self.handle)
        self.client = tr.HubClient(httpserver.url_for("/hub/api"), user, token, timeout=2)

    def handle(self, request):
        self.requests += 1
        if request.headers.get("Authorization") != f"token {self.token}":
            return Response("{}", status=403)
        if self.fail_next:
            self.fail_next -= 1
            return Response("hub restarting", status=503)
        return Response(json.dumps({"kind": "user", "name": "alice", "auth_state": self.state}),
                        content_type="application/json")


@pytest.fixture
def hub(httpserver):
    return FakeHub(httpserver)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_sync_writes_exact_formats_with_mode_0600(tmp_path, hub):
    config = tr.Config.from_dict(config_dict(tmp_path))
    assert tr.sync_once(config, hub.client) is True
    assert (tmp_path / "oauth.token").read_bytes() == b"raw.A.sig"
    assert (tmp_path / "rucio_oauth.token").read_bytes() == b"rucio.A.sig"
    assert (tmp_path / "eos_oauth.token").read_bytes() == (
        b"oauth2:eos.A.sig:iam-escape.cloud.cnaf.infn.it/userinfo"
    )
    for name in ("oauth.token", "rucio_oauth.token", "eos_oauth.token"):
        path = tmp_path / name
        assert mode(path) == 0o600
        assert path.stat().st_uid == os.getuid()
        # eosxd's SecurityChecker: owner-read set and nothing for group/other.
        assert path.stat().st_mode & 0o077 == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "eos_oauth.token", "oauth.token", "rucio_oauth.token"]  # no temp files left


def test_unchanged_state_does_not_rewrite_and_change_replaces_atomically(tmp_path, hub):
    config = tr.Config.from_dict(config_dict(tmp_path))
    tr.sync_once(config, hub.client)
    rucio = tmp_path / "rucio_oauth.token"
    inode = rucio.stat().st_ino
    tr.sync_once(config, hub.client)
    assert rucio.stat().st_ino == inode  # content equal: left alone

    with rucio.open("rb") as reader:  # a reader that opened the old file...
        hub.state["exchanged_tokens"]["rucio"]["access_token"] = "rucio.B.sig"
        tr.sync_once(config, hub.client)
        assert reader.read() == b"rucio.A.sig"  # ...keeps a complete old file (rename)
    assert rucio.read_bytes() == b"rucio.B.sig"
    assert rucio.stat().st_ino != inode
    assert mode(rucio) == 0o600


def test_wrong_mode_is_repaired(tmp_path, hub):
    config = tr.Config.from_dict(config_dict(tmp_path))
    eos = tmp_path / "eos_oauth.token"
    eos.write_bytes(b"oauth2:eos.A.sig:iam-escape.cloud.cnaf.infn.it/userinfo")
    eos.chmod(0o644)  # eosxd rejects this
    tr.sync_once(config, hub.client)
    assert mode(eos) == 0o600


def test_atomic_write_creates_directory_and_cleans_up_on_error(tmp_path, monkeypatch):
    target = tmp_path / "tokens" / "t"
    tr.atomic_write(str(target), b"x")
    assert target.read_bytes() == b"x" and mode(target) == 0o600

    def boom(*_args):
        raise OSError("disk full")

    monkeypatch.setattr(tr.os, "replace", boom)
    with pytest.raises(OSError):
        tr.atomic_write(str(target), b"y")
    assert target.read_bytes() == b"x"
    assert [p.name for p in target.parent.iterdir()] == ["t"]


def test_missing_source_leaves_file_and_reports_exchange_error(tmp_path, hub, caplog):
    config = tr.Config.from_dict(config_dict(tmp_path))
    tr.sync_once(config, hub.client)
    del hub.state["exchanged_tokens"]["eos"]
    hub.state["exchange_errors"] = {"eos": "token exchange for audience 'eos-eulake' failed"}
    assert tr.sync_once(config, hub.client) is False
    assert (tmp_path / "eos_oauth.token").read_bytes().startswith(b"oauth2:eos.A.sig:")
    assert "eos-eulake' failed" in caplog.text
    assert "eos.A.sig" not in caplog.text and "raw.A.sig" not in caplog.text  # no token leaks


def test_hub_errors_are_precise(tmp_path, httpserver):
    config = tr.Config.from_dict(config_dict(tmp_path))
    hub = FakeHub(httpserver, token="other")
    with pytest.raises(tr.RenewerError, match="403.*read:users:name!user"):
        tr.sync_once(config, tr.HubClient(httpserver.url_for("/hub/api"), "alice", "srv-token"))
    httpserver.clear()
    httpserver.expect_request("/hub/api/users/alice").respond_with_json({"name": "alice"})
    with pytest.raises(tr.RenewerError, match="admin:auth_state!user"):
        tr.sync_once(config, hub.client)
    unreachable = tr.HubClient("http://127.0.0.1:9/hub/api", "alice", "t", timeout=1)
    with pytest.raises(tr.RenewerError, match="unreachable"):
        tr.sync_once(config, unreachable)
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"files": []}, "non-empty 'files'"),
        ({"files": [{"path": "rel", "source": "a"}]}, "absolute"),
        ({"files": [{"path": "/t", "source": "a", "format": "jwt"}]}, "format must be"),
        ({"files": [{"path": "/t", "source": "a", "format": "eos"}]}, "needs userinfo_endpoint"),
        ({"files": [{"path": "/t", "source": "a", "userinfo_endpoint": "x"}]}, "only applies"),
        ({"files": [{"path": "/t", "source": "a"}, {"path": "/t", "source": "b"}]}, "unique"),
        ({"files": [{"path": "/t", "source": "a", "mode": 384}]}, "unknown file key"),
        ({"files": [{"path": "/t"}]}, "misses 'source'"),
        ({"files": [{"path": "/t", "source": "a"}], "poll": 1}, "unknown config key"),
    ],
)
def test_config_errors(raw, message):
    with pytest.raises(tr.RenewerError, match=message):
        tr.Config.from_dict(raw)


def test_interval_is_at_least_60_seconds():
    config = tr.Config.from_dict({"files": [{"path": "/t", "source": "a"}], "interval_seconds": 5})
    assert config.interval == 60


def test_loop_survives_hub_hiccups_and_stops(tmp_path, hub):
    config = tr.Config.from_dict(config_dict(tmp_path))
    hub.fail_next = 2
    stop = threading.Event()
    worker = threading.Thread(target=tr.run, args=(config, hub.client, stop, 0.05))
    worker.start()
    try:
        deadline = time.monotonic() + 5
        while not (tmp_path / "oauth.token").exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert (tmp_path / "oauth.token").read_bytes() == b"raw.A.sig"
        hub.state["access_token"] = "raw.B.sig"
        while (tmp_path / "oauth.token").read_bytes() != b"raw.B.sig":
            assert time.monotonic() < deadline
            time.sleep(0.02)
    finally:
        stop.set()
        worker.join(2)
    assert not worker.is_alive()
    assert hub.requests >= 4


def _env(httpserver, config_path: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTERHUB_")}
    env.update(
        JUPYTERHUB_API_URL=httpserver.url_for("/hub/api"),
        JUPYTERHUB_USER="alice",
        JUPYTERHUB_API_TOKEN="srv-token",
        DLAAS_TOKEN_RENEWER_CONFIG=str(config_path),
    )
    return env


def test_cli_once_and_sigterm(tmp_path, hub, httpserver):
    config_path = tmp_path / "renewer.json"
    files = tmp_path / "files"
    config_path.write_text(json.dumps(config_dict(files)))
    env = _env(httpserver, config_path)
    once = subprocess.run([sys.executable, str(SCRIPT), "--once"], env=env,
                          capture_output=True, text=True, timeout=10)
    assert once.returncode == 0, once.stderr
    assert (files / "rucio_oauth.token").read_bytes() == b"rucio.A.sig"

    hub.state["access_token"] = "raw.C.sig"
    proc = subprocess.Popen([sys.executable, str(SCRIPT)], env=env,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 5
        while (files / "oauth.token").read_bytes() != b"raw.C.sig":
            assert time.monotonic() < deadline
            time.sleep(0.02)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(5) == 0
    finally:
        proc.kill()
    assert "stopped" in proc.stderr.read()


@pytest.mark.usefixtures("hub")
def test_cli_detach_returns_at_once_and_keeps_polling(tmp_path, httpserver):
    """``--detach`` is for postStart: exit 0 at once, poll in the background."""
    raw = config_dict(tmp_path / "files")
    raw["log_file"] = str(tmp_path / "renewer.log")
    config_path = tmp_path / "renewer.json"
    config_path.write_text(json.dumps(raw))
    done = subprocess.run([sys.executable, str(SCRIPT), "--detach"],
                          env=_env(httpserver, config_path), timeout=10)
    assert done.returncode == 0
    assert (tmp_path / "files" / "oauth.token").read_bytes() == b"raw.A.sig"
    deadline = time.monotonic() + 5
    log = tmp_path / "renewer.log"
    while "polling" not in (log.read_text() if log.exists() else ""):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    pid = int(re.search(r"token-renewer\[(\d+)\] INFO polling", log.read_text()).group(1))
    try:
        assert stat.S_IMODE(log.stat().st_mode) == 0o600
    finally:
        os.kill(pid, signal.SIGTERM)
    while "stopped" not in log.read_text():
        assert time.monotonic() < deadline
        time.sleep(0.02)


def test_cli_once_fails_without_hub_and_without_config(tmp_path, httpserver):
    config_path = tmp_path / "renewer.json"
    config_path.write_text(json.dumps(config_dict(tmp_path)))
    env = _env(httpserver, config_path)  # no handler registered: hub answers 500
    once = subprocess.run([sys.executable, str(SCRIPT), "--once"], env=env,
                          capture_output=True, text=True, timeout=10)
    assert once.returncode == 1
    del env["DLAAS_TOKEN_RENEWER_CONFIG"]
    bad = subprocess.run([sys.executable, str(SCRIPT), "--once"], env=env,
                         capture_output=True, text=True, timeout=10)
    assert bad.returncode == 2 and "no config" in bad.stderr


def test_stdlib_only_and_python38_syntax():
    source = payload_text("token_renewer.py")
    tree = ast.parse(source, feature_version=(3, 8))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert imported <= set(sys.stdlib_module_names) | {"__future__"}


# -- postStart: folders created only once the EOS token file is in place (--mkdir) ---------------


def _without_eos(hub) -> None:
    del hub.state["exchanged_tokens"]["eos"]
    hub.state["exchange_errors"] = {"eos": "exchange refused"}


def _with_eos(hub) -> None:
    hub.state["exchanged_tokens"]["eos"] = dict(STATE["exchanged_tokens"]["eos"])
    hub.state.pop("exchange_errors", None)


def test_tokens_ready_needs_every_eos_file_private_and_ours(tmp_path):
    config = tr.Config.from_dict(config_dict(tmp_path))
    assert not tr.tokens_ready(config)
    (tmp_path / "oauth.token").write_text("x")  # raw files do not count
    assert not tr.tokens_ready(config)
    eos = tmp_path / "eos_oauth.token"
    tr.atomic_write(str(eos), b"oauth2:t:host/userinfo")
    assert tr.tokens_ready(config)
    eos.chmod(0o644)
    assert not tr.tokens_ready(config)
    eos.chmod(0o600)
    eos.write_bytes(b"")
    assert not tr.tokens_ready(config)


def test_make_dir_creates_parents_and_reports_the_reason(tmp_path):
    assert tr.make_dir(str(tmp_path / "a" / "b")) is None
    assert (tmp_path / "a" / "b").is_dir()
    assert tr.make_dir(str(tmp_path / "a" / "b")) is None  # mkdir -p: existing is fine
    (tmp_path / "file").write_text("")
    assert tr.make_dir(str(tmp_path / "file" / "x")) == "Not a directory"


def test_first_sync_waits_for_the_eos_token_before_creating(tmp_path, hub, monkeypatch, caplog):
    config = tr.Config.from_dict(config_dict(tmp_path))
    eos = tmp_path / "eos_oauth.token"
    scratch = tmp_path / "scratch" / "alice"
    seen = []

    def checked(path: str, timeout: float = 60.0):
        seen.append((path, eos.exists() and mode(eos) == 0o600))
        return real(path, timeout)

    real = tr.make_dir
    monkeypatch.setattr(tr, "make_dir", checked)
    _without_eos(hub)
    pending = tr.PendingDirs([str(scratch)])
    result = {}
    worker = threading.Thread(target=lambda: result.setdefault(
        "done", tr.first_sync(config, hub.client, pending, wait=10, retry=0.05)))
    with caplog.at_level("INFO", logger="dlaas.token_renewer"):
        worker.start()
        deadline = time.monotonic() + 5
        while hub.requests < 3:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        assert not scratch.exists() and seen == []  # retried, never tried without the token
        _with_eos(hub)
        worker.join(10)
    assert result == {"done": True}
    assert scratch.is_dir() and seen == [(str(scratch), True)]
    assert pending.paths == []
    assert f"{scratch}: waiting for the EOS token file(s)" in caplog.text
    assert f"{scratch}: created" in caplog.text


def test_first_sync_is_bounded_and_says_what_is_missing(tmp_path, hub, caplog):
    config = tr.Config.from_dict(config_dict(tmp_path))
    (tmp_path / "file").write_text("")
    pending = tr.PendingDirs([str(tmp_path / "file" / "alice")])
    start = time.monotonic()
    with caplog.at_level("INFO", logger="dlaas.token_renewer"):
        assert tr.first_sync(config, hub.client, pending, wait=0.5, retry=0.1) is False
    assert time.monotonic() - start < 5
    assert "cannot create: Not a directory" in caplog.text
    assert "not created within 0.5s; the background renewer retries every poll" in caplog.text
    assert pending.paths == [str(tmp_path / "file" / "alice")]


def test_first_sync_does_not_wait_for_a_token_the_hub_lacks(tmp_path, hub):
    """A failed Rucio exchange is logged, not waited for: it would only slow every spawn."""
    config = tr.Config.from_dict(config_dict(tmp_path))
    del hub.state["exchanged_tokens"]["rucio"]
    start = time.monotonic()
    assert tr.first_sync(config, hub.client, tr.PendingDirs([str(tmp_path / "s")]), wait=10) is True
    assert time.monotonic() - start < 5 and (tmp_path / "s").is_dir()


def test_first_sync_retries_hub_errors(tmp_path, hub):
    config = tr.Config.from_dict(config_dict(tmp_path))
    hub.fail_next = 2
    assert tr.first_sync(config, hub.client, tr.PendingDirs([]), wait=10, retry=0.05) is True
    assert hub.requests == 3 and (tmp_path / "eos_oauth.token").exists()


def test_loop_creates_pending_folder_once_the_token_arrives(tmp_path, hub):
    config = tr.Config.from_dict(config_dict(tmp_path))
    _without_eos(hub)
    scratch = tmp_path / "scratch"
    pending = tr.PendingDirs([str(scratch)])
    stop = threading.Event()
    worker = threading.Thread(target=tr.run, args=(config, hub.client, stop, 0.05, pending))
    worker.start()
    try:
        deadline = time.monotonic() + 5
        while hub.requests < 3:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        assert not scratch.exists()
        _with_eos(hub)
        while not scratch.is_dir():
            assert time.monotonic() < deadline
            time.sleep(0.02)
    finally:
        stop.set()
        worker.join(2)
    assert pending.paths == []


def _log_pid(log: Path) -> int:
    return int(re.search(r"token-renewer\[(\d+)\] INFO polling", log.read_text()).group(1))


def test_cli_detach_mkdir_then_sigusr1_syncs_at_once(tmp_path, hub, httpserver):
    """postStart: the folder exists when the hook returns; SIGUSR1 makes the poller sync now."""
    raw = config_dict(tmp_path / "files")
    raw["log_file"] = str(tmp_path / "renewer.log")
    config_path = tmp_path / "renewer.json"
    config_path.write_text(json.dumps(raw))
    scratch = tmp_path / "scratch" / "alice"
    done = subprocess.run([sys.executable, str(SCRIPT), "--detach", "--mkdir", str(scratch),
                           "--wait", "10"], env=_env(httpserver, config_path), timeout=20)
    assert done.returncode == 0 and scratch.is_dir()
    log = tmp_path / "renewer.log"
    deadline = time.monotonic() + 5
    while "polling" not in log.read_text():
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert f"{scratch}: created" in log.read_text()  # the foreground phase is in the log too
    pid = _log_pid(log)
    try:
        hub.state["exchanged_tokens"]["eos"]["access_token"] = "eos.B.sig"
        os.kill(pid, signal.SIGUSR1)  # the interval is 60 s: only the signal can do this
        eos = tmp_path / "files" / "eos_oauth.token"
        while b"eos.B.sig" not in eos.read_bytes():
            assert time.monotonic() < deadline
            time.sleep(0.02)
        assert mode(eos) == 0o600
    finally:
        os.kill(pid, signal.SIGTERM)
    while "stopped" not in log.read_text():
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert log.read_text().count(f"{scratch}: created") == 1  # no duplicate log lines


@pytest.mark.usefixtures("hub")
def test_cli_mkdir_needs_detach_and_absolute_paths(tmp_path, httpserver):
    raw = config_dict(tmp_path / "files")
    raw["log_file"] = str(tmp_path / "renewer.log")
    config_path = tmp_path / "renewer.json"
    config_path.write_text(json.dumps(raw))
    env = _env(httpserver, config_path)
    once = subprocess.run([sys.executable, str(SCRIPT), "--once", "--mkdir", "/x"], env=env,
                          capture_output=True, text=True, timeout=10)
    assert once.returncode == 2 and "--mkdir needs --detach" in once.stderr
    # "$SCRATCH" unset in the hook: nothing is made in the working directory, the hook exits 0
    done = subprocess.run([sys.executable, str(SCRIPT), "--detach", "--mkdir", "", "--wait", "1"],
                          env=env, cwd=tmp_path, capture_output=True, text=True, timeout=20)
    assert done.returncode == 0
    assert "--mkdir needs absolute paths; not creating ''" in (tmp_path / "renewer.log").read_text()
    deadline = time.monotonic() + 5
    while "polling" not in (tmp_path / "renewer.log").read_text():
        assert time.monotonic() < deadline
        time.sleep(0.02)
    os.kill(_log_pid(tmp_path / "renewer.log"), signal.SIGTERM)
