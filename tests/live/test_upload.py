"""Live (e): the rendered ``datalakectl upload`` against a real Rucio server, as a user account
that only the documented admin steps set up (no ``admin`` attribute).

What runs as the pod runs it: the single-user pod the real KubeSpawner builds from a fresh render
of ``sites/escape.yaml``; ``datalakectl``, its config and ``rucio.cfg`` from the rendered
ConfigMap at their mount paths (``subPath``), the pod's env and uid (1000), the scratch hostPath at
``/scratch``, the token file in the in-memory token volume. The command is the one a user types:
``datalakectl upload "$SCRATCH/out.root" --lifetime 30d``.

What stands in for the world: the Rucio server (PyPI ``rucio`` 41.5.1, ``.venv-rucio``, SQLite)
listens with TLS on port 443 in the pod's private network namespace; the image's ``/etc/hosts``
maps the host names ``rucio.cfg`` names to 127.0.0.1 and a test CA is the image's CA bundle at
``ca_cert``. The destination RSE exists beforehand, as in the data lake. The token is a Rucio
token of the account from ``/auth/userpass`` (an IAM token cannot be checked offline), written
where the renewer writes it, mode 0600. Nothing rendered is changed.

The Rucio admin steps are the Python blocks of ``docs/datalake.md`` ("One-time Rucio admin steps
for a site (register mode)"), executed as they are, so the page and the test cannot drift.
"""

from __future__ import annotations

import configparser
import json
import os
import re
import subprocess
import textwrap
import zlib
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.live.harness import REPO, HostDir, NetNS, PodRun, Rendered, docker_stacks_image, user_pod
from tests.realtools.rucio_server import (
    ROOT_PASSWORD,
    ROOT_USER,
    RucioServer,
    ServerVenvMissing,
    server_python,
)
from tests.support.tls import make_tls

DOCS = REPO / "docs" / "datalake.md"
SECTION = "## One-time Rucio admin steps for a site (register mode)"
#: The scratch RSE name of the origin report: not allowed to users by the generic policy.
REPORT_SCRATCH_RSE = "JUPYTER-SCRATCH-EULAKE"
USER_PASSWORD = "alice-test-password"  # noqa: S105 - throwaway test server
ISSUER = "https://iam-escape.cloud.cnaf.infn.it/"

# Why single-threaded: SQLite has one writer. TLS with the test CA's leaf certificate.
_SERVE_TLS = textwrap.dedent(
    """
    import sys
    from werkzeug.serving import make_server
    from rucio.web.rest.flaskapi.v1.main import application
    make_server("127.0.0.1", int(sys.argv[1]), application, threaded=False,
                ssl_context=(sys.argv[2], sys.argv[3])).serve_forever()
    """
)


def admin_blocks(text: str) -> list[str]:
    """The ```python blocks of the admin-steps section, dedented, in page order."""
    start = text.index(SECTION)
    end = text.find("\n## ", start + len(SECTION))
    section = text[start:end if end != -1 else len(text)]
    blocks = re.findall(r"^( *)```python\n(.*?)^\1```", section, flags=re.M | re.S)
    return [textwrap.dedent(body) for _, body in blocks]


def collapse(pfn: str) -> str:
    """A PFN with repeated slashes in its path collapsed (Rucio does not round-trip them)."""
    scheme, rest = pfn.split("://", 1)
    host, _, path = rest.partition("/")
    return f"{scheme}://{host}/" + re.sub("/+", "/", path).lstrip("/")


class Server:
    """The Rucio server started in a network namespace, and clients that run inside it."""

    def __init__(self, netns: NetNS, workdir: Path, ca: Path, cert: Path, key: Path) -> None:
        self.netns, self.workdir, self.ca = netns, workdir, ca
        self.rucio = RucioServer(workdir=workdir)
        workdir.mkdir(parents=True, exist_ok=True)
        self.rucio.write_config()
        self.rucio.bootstrap()
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        env["RUCIO_CONFIG"] = str(workdir / "rucio.cfg")
        self.log = workdir / "server.log"
        with self.log.open("w") as out:
            self.process = netns.popen(
                [str(server_python()), "-c", _SERVE_TLS, "443", str(cert), str(key)],
                env=env,
                cwd=workdir,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        try:
            netns.wait_port(443, timeout=60)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{self.log.read_text()[-3000:]}") from None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def client(self, account: str, username: str, password: str):
        """A rucio-clients Client logged in with userpass (built inside the namespace)."""
        from rucio.client import Client

        def make():
            return Client(
                rucio_host="https://127.0.0.1",
                auth_host="https://127.0.0.1",
                account=account,
                auth_type="userpass",
                ca_cert=str(self.ca),
                creds={"username": username, "password": password},
            )

        return self.netns.call(make)

    def call(self, fn, *args, **kwargs):
        """Run a client call inside the namespace (its sockets live there)."""
        return self.netns.call(fn, *args, **kwargs)


@pytest.fixture
def token_cache(tmp_path, monkeypatch):
    """A token cache of this test's own: rucio-clients keeps tokens under a temp-dir prefix
    chosen at import, and a token of another test's server must not be reused."""
    from rucio.client.baseclient import BaseClient

    monkeypatch.setattr(BaseClient, "TOKEN_PATH_PREFIX", str(tmp_path / "token-cache") + "/.rucio_")


@pytest.mark.usefixtures("token_cache")
def test_documented_steps_let_a_plain_user_upload(
    rendered_sites: dict[str, Rendered], tmp_path
) -> None:
    try:
        server_python()
    except ServerVenvMissing as exc:
        pytest.fail(str(exc), pytrace=False)
    rendered = rendered_sites["escape"]
    spec = user_pod(rendered)
    env_of = {e["name"]: e.get("value") for e in spec["spec"]["containers"][0]["env"]}
    account = env_of["JUPYTERHUB_USER"]
    image = docker_stacks_image()
    # the scratch folder stands in for EOS, where the user's token lets them write
    scratch_volume = next(
        v
        for v in spec["spec"]["volumes"]
        if (v.get("hostPath") or {}).get("path", "").endswith("/scratch")
    )
    host_dirs = {scratch_volume["hostPath"]["path"]: HostDir(uid=1000, gid=100, mode=0o755)}
    with (
        NetNS() as netns,
        PodRun(
            spec, rendered, tmp_path / "pod", netns=netns, image=image, host_dirs=host_dirs
        ) as pod,
    ):
        # what the rendered pod reads, from the files at their mount paths
        env = pod.env("notebook")
        ctl_config = json.loads(pod.host_path("notebook", env["DATALAKECTL_CONFIG"]).read_text())
        cfg = configparser.ConfigParser(interpolation=None)
        cfg.read_string(pod.host_path("notebook", env["RUCIO_CONFIG"]).read_text())
        client_cfg = cfg["client"]
        hosts = sorted({urlparse(client_cfg[k]).hostname for k in ("rucio_host", "auth_host")})
        ports = {urlparse(client_cfg[k]).port or 443 for k in ("rucio_host", "auth_host")}
        assert ports == {443}, ports
        assert urlparse(client_cfg["rucio_host"]).scheme == "https"

        ca, cert, key = make_tls(tmp_path / "tls", hosts)
        image.files["/etc/hosts"] = f"127.0.0.1 localhost {' '.join(hosts)}\n"
        image.files[client_cfg["ca_cert"]] = ca.read_text()
        server = Server(netns, tmp_path / "rucio-server", ca, cert, key)
        try:
            root = server.client("root", ROOT_USER, ROOT_PASSWORD)
            destination = ctl_config["default_rse"]
            # the data lake's destination RSE exists before the site is set up
            server.call(root.add_rse, destination)
            server.call(
                root.add_protocol,
                destination,
                {
                    "scheme": "root",
                    "hostname": "eoseulake.cern.ch",
                    "port": 1094,
                    "prefix": "/eos/eulake/tests/rucio_test/eulake_1/",
                    "impl": "rucio.rse.protocols.xrootd.Default",
                    "domains": {
                        "lan": {"read": 1, "write": 1, "delete": 1},
                        "wan": {
                            "read": 1,
                            "write": 1,
                            "delete": 1,
                            "third_party_copy_read": 1,
                            "third_party_copy_write": 1,
                        },
                    },
                },
            )

            # the admin steps, exactly as the page gives them
            blocks = admin_blocks(DOCS.read_text("utf-8"))
            assert len(blocks) >= 4, (
                f"{DOCS}: expected the admin steps' Python blocks, got {blocks}"
            )
            namespace = {
                "c": root,
                "account": account,
                "email": f"{account}@example.org",
                "sub": "a1b2c3d4-0000-4000-8000-000000000001",
                "issuer": ISSUER,
            }
            for block in blocks:
                server.call(exec, compile(block, f"{DOCS.name} (admin steps)", "exec"), namespace)
            # the page's values are the site's: the RSE it made is the rendered scratch RSE
            assert namespace["SCRATCH"] == ctl_config["scratch_rse"]
            rse_info = server.call(root.get_rse, ctl_config["scratch_rse"])
            [proto] = [p for p in rse_info["protocols"] if p["scheme"] == "root"]
            assert rse_info["deterministic"] is False
            page_prefix = f"root://{proto['hostname']}:{proto['port']}/{proto['prefix']}"
            assert collapse(page_prefix) == collapse(ctl_config["scratch_pfn_prefix"])
            # (the client yields the attribute list as one item)
            attributes = server.call(
                lambda: {
                    a["key"]
                    for page in root.list_account_attributes(account)
                    for a in (page if isinstance(page, list) else [page])
                }
            )
            assert "admin" not in attributes, attributes

            # test-only login: a userpass identity, to get a token of the account
            server.call(
                root.add_identity,
                account,
                account,
                "USERPASS",
                f"{account}@example.org",
                password=USER_PASSWORD,
            )
            user = server.client(account, account, USER_PASSWORD)
            token_path = pod.host_path("notebook", client_cfg["auth_token_file_path"])
            token_path.write_text(user.auth_token)
            os.chown(token_path, 1000, 100)
            token_path.chmod(0o600)

            # the user writes a file to $SCRATCH and uploads it, as in a notebook terminal
            run = pod.run(
                "notebook",
                [
                    "bash",
                    "-c",
                    'mkdir -p "$SCRATCH" && '
                    'head -c 300000 /dev/urandom > "$SCRATCH/out.root" && '
                    'datalakectl upload "$SCRATCH/out.root" --lifetime 30d',
                ],
                timeout=120,
            )
            assert run.returncode == 0, run.stdout
            local = pod.host_path("notebook", f"{env['SCRATCH']}/out.root")
            data = local.read_bytes()
            adler = f"{zlib.adler32(data) & 0xFFFFFFFF:08x}"
            scratch_rse = ctl_config["scratch_rse"]
            pfn = f"{ctl_config['scratch_pfn_prefix'].rstrip('/')}/{account}/out.root"
            lines = run.stdout.strip().splitlines()
            assert lines[0] == (
                f"replica user.{account}:out.root registered on {scratch_rse}: "
                f"{pfn} ({len(data)} bytes, adler32 {adler})"
            ), run.stdout
            assert re.fullmatch(
                rf"rule [0-9a-f]{{32}} on {scratch_rse} \(copies 1, lifetime 1d\)", lines[1]
            ), run.stdout
            assert re.fullmatch(
                rf"rule [0-9a-f]{{32}} on {destination} \(copies 1, lifetime 30d\)", lines[2]
            ), run.stdout

            # what the server now holds
            did = {"scope": f"user.{account}", "name": "out.root"}
            [replica] = server.call(lambda: list(root.list_replicas([did])))
            assert replica["bytes"] == len(data) and replica["adler32"] == adler
            assert [collapse(p) for p in replica["rses"][scratch_rse]] == [collapse(pfn)]
            assert replica["states"] == {scratch_rse: "AVAILABLE"}
            rules = server.call(
                lambda: {
                    r["rse_expression"]: r for r in root.list_did_rules(did["scope"], did["name"])
                }
            )
            assert set(rules) == {scratch_rse, destination}
            assert {r["account"] for r in rules.values()} == {account}
            assert rules[scratch_rse]["state"] == "OK"
            assert rules[destination]["state"] == "REPLICATING"
            life = rules[destination]["expires_at"] - rules[destination]["created_at"]
            assert abs(life.total_seconds() - 30 * 86400) < 60, life

            # the negative control: the report's RSE name, made by the same step 1, refuses it
            first = blocks[0].replace(f'"{scratch_rse}"', f'"{REPORT_SCRATCH_RSE}"', 1)
            assert first != blocks[0]
            server.call(exec, compile(first, "step 1, report's name", "exec"), dict(namespace))
            from rucio.common.exception import AccessDenied

            other = {
                "scope": did["scope"],
                "name": "other.root",
                "bytes": 1,
                "adler32": "00020002",
                "pfn": f"{ctl_config['scratch_pfn_prefix'].rstrip('/')}/{account}/other.root",
            }
            with pytest.raises(AccessDenied, match="can not add file replicas"):
                server.call(user.add_replicas, rse=REPORT_SCRATCH_RSE, files=[other])
        except BaseException:
            print(f"--- Rucio server log ---\n{server.log.read_text()[-3000:]}")
            raise
        finally:
            server.stop()


def test_admin_blocks_are_found_in_the_page() -> None:
    """The extraction itself: the blocks come out in order and compile."""
    blocks = admin_blocks(DOCS.read_text("utf-8"))
    assert blocks[0].startswith("SCRATCH = ")
    assert any("add_scope(account" in b for b in blocks)
    for block in blocks:
        compile(block, "block", "exec")
