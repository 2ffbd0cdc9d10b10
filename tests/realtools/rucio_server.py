"""A real Rucio server (PyPI ``rucio``) on 127.0.0.1 with SQLite, for tests.

Why a subprocess from a separate venv: the server package and ``rucio-clients`` both install the
top-level ``rucio/`` package, so the server lives in ``<repo>/.venv-rucio`` (made by
``tests/realtools/setup_rucio_venv.sh``) and the code under test keeps the project venv's client.
The site setup follows the one-time Rucio admin runbook in ``docs/datalake.md``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
SERVER_VENV = Path(os.environ.get("RUCIO_SERVER_VENV", REPO_ROOT / ".venv-rucio"))
SETUP_HINT = "bash tests/realtools/setup_rucio_venv.sh"
ROOT_USER, ROOT_PASSWORD = "ddmlab", "secret"  # noqa: S105 - throwaway test server

_BOOTSTRAP = textwrap.dedent(
    """
    from rucio.db.sqla.util import build_database, create_base_vo, create_root_account
    build_database()
    create_base_vo()
    create_root_account()
    """
)

# Why single-threaded: SQLite has one writer; threaded=True gives "database is locked".
_SERVE = textwrap.dedent(
    """
    import sys
    from werkzeug.serving import make_server
    from rucio.web.rest.flaskapi.v1.main import application
    make_server("127.0.0.1", int(sys.argv[1]), application, threaded=False).serve_forever()
    """
)

_ALEMBIC_INI = """\
[alembic]
script_location = {script_location}
sqlalchemy.url = sqlite:///{db}

[loggers]
keys = root,sqlalchemy,alembic

[handlers]
keys = console

[formatters]
keys = generic

[logger_root]
level = WARN
handlers = console
qualname =

[logger_sqlalchemy]
level = WARN
handlers =
qualname = sqlalchemy.engine

[logger_alembic]
level = WARN
handlers =
qualname = alembic

[handler_console]
class = StreamHandler
args = (sys.stderr,)
level = NOTSET
formatter = generic

[formatter_generic]
format = %(levelname)-5.5s [%(name)s] %(message)s
"""

_SERVER_CFG = """\
[common]
logdir = {workdir}
loglevel = WARNING

[database]
default = sqlite:///{db}

[bootstrap]
userpass_identity = {user}
userpass_pwd = {password}
userpass_email = root@example.org

[alembic]
cfg = {workdir}/alembic.ini

[policy]
permission = generic
schema = generic
lfn2pfn_algorithm_default = hash
support = test@example.org
support_rucio = test@example.org

[monitor]
enable_metrics = False
"""


class ServerVenvMissing(RuntimeError):
    """The server virtualenv is absent: the tests must fail, never skip."""


def server_python() -> Path:
    """Return the server venv's python, or raise ServerVenvMissing with the fix."""
    python = SERVER_VENV / "bin" / "python"
    if not python.exists():
        raise ServerVenvMissing(
            f"Rucio server venv missing: {python} not found. Create it with `{SETUP_HINT}` "
            "(make test does this)."
        )
    return python


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _site_packages(python: Path) -> Path:
    out = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    )
    return Path(out.stdout.strip())


@dataclass
class RucioServer:
    """One Rucio server process with its own SQLite database under ``workdir``.

    Attributes:
        workdir: Directory for rucio.cfg, alembic.ini, the database and the server log.
        port: The TCP port on 127.0.0.1.
    """

    workdir: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        """Base URL of the REST API (also the auth host)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        """The server's stdout/stderr."""
        return self.workdir / "server.log"

    def _env(self) -> dict[str, str]:
        env = dict(os.environ, RUCIO_CONFIG=str(self.workdir / "rucio.cfg"))
        env.pop("PYTHONPATH", None)
        return env

    def write_config(self) -> None:
        """Write rucio.cfg and alembic.ini for a fresh SQLite database."""
        python = server_python()
        db = self.workdir / "rucio.db"
        migrate = _site_packages(python) / "rucio" / "db" / "sqla" / "migrate_repo"
        (self.workdir / "alembic.ini").write_text(
            _ALEMBIC_INI.format(script_location=migrate, db=db)
        )
        (self.workdir / "rucio.cfg").write_text(
            _SERVER_CFG.format(workdir=self.workdir, db=db, user=ROOT_USER, password=ROOT_PASSWORD)
        )

    def bootstrap(self) -> None:
        """Create the tables, the base VO and the root account."""
        done = subprocess.run(
            [str(server_python()), "-c", _BOOTSTRAP], env=self._env(), cwd=self.workdir,
            capture_output=True, text=True, timeout=120,
        )
        if done.returncode != 0:
            raise RuntimeError(f"Rucio database bootstrap failed:\n{done.stderr[-4000:]}")

    def start(self, timeout: float = 60.0) -> None:
        """Write config, bootstrap, start the server and wait for ``GET /ping``."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.write_config()
        self.bootstrap()
        with self.log_path.open("w") as log:
            self.process = subprocess.Popen(
                [str(server_python()), "-c", _SERVE, str(self.port)], env=self._env(),
                cwd=self.workdir, stdout=log, stderr=subprocess.STDOUT,
            )
        self._wait_for_ping(timeout)

    def _wait_for_ping(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"Rucio server exited:\n{self.log_path.read_text()[-4000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/ping", timeout=2) as resp:
                    if resp.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"Rucio server did not answer /ping within {timeout}s")

    def stop(self) -> None:
        """Terminate the server process (kill after 10 s)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def userpass_token(self, account: str, username: str, password: str) -> str:
        """Return a Rucio token from ``GET /auth/userpass`` (what a token file would hold)."""
        request = urllib.request.Request(
            f"{self.url}/auth/userpass",
            headers={
                "X-Rucio-Account": account,
                "X-Rucio-Username": username,
                "X-Rucio-Password": password,
            },
        )
        with urllib.request.urlopen(request, timeout=10) as resp:
            return resp.headers["X-Rucio-Auth-Token"]

    def admin_client(self):
        """A rucio-clients Client logged in as root (no config file needed)."""
        from rucio.client import Client

        return Client(
            rucio_host=self.url, auth_host=self.url, account="root", auth_type="userpass",
            creds={"username": ROOT_USER, "password": ROOT_PASSWORD},
        )


@dataclass
class DataLake:
    """Names of the accounts and RSEs set up by :func:`setup_datalake`."""

    user: str = "jdoe"
    password: str = "jdoe-secret"  # noqa: S105
    scope: str = "user.jdoe"
    plain_user: str = "plain"
    scratch_rse: str = "JUPYTER-SCRATCH-EULAKE"
    scratch_host: str = "eoseulake.cern.ch"
    scratch_prefix: str = "/eos/scratch"
    dest_rse: str = "EULAKE-1"
    posix_rse: str = "POSIX-USERDISK"
    posix_dir: Path | None = None

    @property
    def scratch_pfn_prefix(self) -> str:
        """The PFN of the scratch root, as a site would write it in the config."""
        return f"root://{self.scratch_host}:1094/{self.scratch_prefix}"


def _add_user(admin, name: str, password: str, admin_attr: bool) -> None:
    admin.add_account(name, "USER", f"{name}@example.org")
    admin.add_identity(name, name, "USERPASS", email=f"{name}@example.org", password=password)
    admin.add_scope(name, f"user.{name}")
    if admin_attr:
        # Why: the generic policy only lets root/admin add replicas on RSEs not named
        # *SCRATCHDISK/*USERDISK/*MOCK/*LOCALGROUPDISK.
        admin.add_account_attribute(name, "admin", "True")


def _add_root_protocol_rse(admin, lake: DataLake) -> None:
    admin.add_rse(lake.scratch_rse, deterministic=False)
    admin.add_protocol(lake.scratch_rse, {
        "scheme": "root", "hostname": lake.scratch_host, "port": 1094,
        "prefix": lake.scratch_prefix, "impl": "rucio.rse.protocols.xrootd.Default",
        "domains": {
            "lan": {"read": 1, "write": 1, "delete": 1},
            "wan": {"read": 1, "write": 1, "delete": 1, "third_party_copy_read": 1,
                    "third_party_copy_write": 1},
        },
    })
    admin.add_rse_attribute(lake.scratch_rse, "greedyDeletion", True)


def _add_destination_rse(admin, lake: DataLake) -> None:
    admin.add_rse(lake.dest_rse)
    admin.add_protocol(lake.dest_rse, {
        "scheme": "root", "hostname": "eulake.example.org", "port": 1094,
        "prefix": "/eos/eulake/rucio", "impl": "rucio.rse.protocols.xrootd.Default",
        "domains": {
            "lan": {"read": 1, "write": 1, "delete": 1},
            "wan": {"read": 1, "write": 1, "delete": 1, "third_party_copy_read": 1,
                    "third_party_copy_write": 1},
        },
    })


def _add_posix_rse(admin, lake: DataLake) -> None:
    """A deterministic RSE on a local directory: ``UploadClient`` really copies files there."""
    admin.add_rse(lake.posix_rse)
    admin.add_protocol(lake.posix_rse, {
        "scheme": "file", "hostname": "localhost", "port": 0, "prefix": str(lake.posix_dir),
        "impl": "rucio.rse.protocols.posix.Default",
        "domains": {
            "lan": {"read": 1, "write": 1, "delete": 1},
            "wan": {"read": 1, "write": 1, "delete": 1},
        },
    })


def setup_datalake(server: RucioServer, lake: DataLake) -> DataLake:
    """Create accounts, scopes, RSEs and limits as a site admin would (docs/datalake.md runbook)."""
    admin = server.admin_client()
    _add_user(admin, lake.user, lake.password, admin_attr=True)
    _add_user(admin, lake.plain_user, lake.password, admin_attr=False)
    _add_root_protocol_rse(admin, lake)
    _add_destination_rse(admin, lake)
    _add_posix_rse(admin, lake)
    for account in (lake.user, lake.plain_user):
        for rse in (lake.scratch_rse, lake.dest_rse, lake.posix_rse):
            admin.set_local_account_limit(account, rse, -1)
    return lake


def run_python(args: list[str], env: dict[str, str], timeout: float = 120):
    """Run the project venv's Python (the one running pytest) with args; capture output."""
    return subprocess.run(
        [sys.executable, *args], env=env, capture_output=True, text=True, timeout=timeout,
    )
