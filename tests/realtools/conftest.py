"""Fixtures for tests against real tools: a real Rucio server and the datalakectl runner."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.realtools.rucio_server import (
    DataLake,
    RucioServer,
    ServerVenvMissing,
    free_port,
    run_python,
    server_python,
    setup_datalake,
)

DATALAKECTL = Path(__file__).resolve().parents[2] / "dlaas_gen" / "payload" / "datalakectl.py"

# Variables through which the client could pick up a token or account other than the test's.
_CLIENT_ENV = ("BEARER_TOKEN", "BEARER_TOKEN_FILE", "XDG_RUNTIME_DIR", "RUCIO_ACCOUNT",
               "RUCIO_AUTH_TYPE", "RUCIO_VO", "RUCIO_CONFIG", "X509_CERT_DIR", "PYTHONPATH")


@pytest.fixture(scope="session")
def rucio_server(tmp_path_factory):
    """A started Rucio server (session-wide); fails, never skips, without ``.venv-rucio``."""
    try:
        server_python()
    except ServerVenvMissing as exc:
        pytest.fail(str(exc), pytrace=False)
    server = RucioServer(workdir=tmp_path_factory.mktemp("rucio-server"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def datalake(rucio_server, tmp_path_factory):
    """Accounts, scopes, the scratch/destination/posix RSEs and limits on the server."""
    lake = DataLake(posix_dir=tmp_path_factory.mktemp("posix-rse"))
    return setup_datalake(rucio_server, lake)


@pytest.fixture(scope="session")
def user_token(rucio_server, datalake):
    """A Rucio token for the test user, as the hub would deliver it in the token file."""
    return rucio_server.userpass_token(datalake.user, datalake.user, datalake.password)


@dataclass
class Ctl:
    """Runs ``datalakectl`` as a subprocess in a per-test home with its own configs.

    Attributes:
        home: Per-test directory (TMPDIR, configs, token file).
        scratch: The scratch mount (``scratch_path``), with the user's subdirectory made.
        config: The datalakectl JSON config written before each run.
        rucio_host: What the client's rucio.cfg points to.
    """

    home: Path
    lake: DataLake
    rucio_host: str
    token: str | None
    config: dict = field(default_factory=dict)

    @property
    def scratch(self) -> Path:
        """The scratch mount root."""
        return self.home / "scratch"

    @property
    def token_file(self) -> Path:
        """Where rucio.cfg says the token is (``auth_token_file_path``)."""
        return self.home / "rucio_oauth.token"

    def user_file(self, name: str, data: bytes) -> Path:
        """Create ``$SCRATCH/<name>`` (``$SCRATCH`` = scratch/<user>) with ``data``."""
        path = self.scratch / self.lake.user / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return path

    def _write_files(self) -> dict[str, str]:
        (self.home / "rucio.cfg").write_text(
            "[client]\n"
            f"rucio_host = {self.rucio_host}\nauth_host = {self.rucio_host}\n"
            f"auth_type = oidc\naccount = {self.lake.user}\n"
            f"auth_token_file_path = {self.token_file}\nrequest_retries = 1\n"
        )
        if self.token is not None:
            self.token_file.write_text(self.token)
        elif self.token_file.exists():
            self.token_file.unlink()
        (self.home / "datalakectl.json").write_text(json.dumps(self.config))
        env = {k: v for k, v in os.environ.items() if k not in _CLIENT_ENV}
        # Why TMPDIR per test: the client caches tokens under the temp dir chosen at import.
        env.update(
            RUCIO_CONFIG=str(self.home / "rucio.cfg"),
            DATALAKECTL_CONFIG=str(self.home / "datalakectl.json"),
            TMPDIR=str(self.home / "tmp"),
            JUPYTERHUB_USER=self.lake.user,
        )
        (self.home / "tmp").mkdir(exist_ok=True)
        return env

    def run(self, *argv: str):
        """Run ``datalakectl <argv>``; return the CompletedProcess."""
        return run_python([str(DATALAKECTL), *argv], env=self._write_files())


@pytest.fixture
def ctl(tmp_path, rucio_server, datalake, user_token):
    """A datalakectl runner in register mode against the session's Rucio server."""
    runner = Ctl(home=tmp_path, lake=datalake, rucio_host=rucio_server.url, token=user_token)
    runner.scratch.mkdir()
    runner.config = {
        "mode": "register",
        "scratch_path": str(runner.scratch),
        "scratch_rse": datalake.scratch_rse,
        "scratch_pfn_prefix": datalake.scratch_pfn_prefix,
        "scratch_rule_lifetime": "1d",
        "default_rse": datalake.dest_rse,
        "max_lifetime": "90d",
    }
    return runner


@pytest.fixture
def dead_server_url():
    """A URL on 127.0.0.1 where nothing listens."""
    return f"http://127.0.0.1:{free_port()}"
