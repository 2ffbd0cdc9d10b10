#!/usr/bin/env python3
"""Keep OAuth token files in a JupyterHub user pod in step with the hub's auth state.

Runs as the notebook uid inside the user's container (stdlib only, Python >= 3.8). It polls
``GET $JUPYTERHUB_API_URL/users/$JUPYTERHUB_USER`` with ``Authorization: token
$JUPYTERHUB_API_TOKEN`` (``/user`` omits auth state) and atomically rewrites each configured
file whose content changed. Each poll also lets the hub refresh the user's tokens
(``auth_refresh_age``), so files are renewed while the server runs, without a respawn.

Usage::

    token_renewer.py --config FILE            # poll until SIGTERM/SIGINT; SIGUSR1 polls now
    token_renewer.py --config FILE --once     # one sync; exit 1 if any file is not current
    token_renewer.py --config FILE --detach [--mkdir DIR]... [--wait SECONDS]
        # postStart: sync (hub errors retried for up to --wait s), create each DIR once the
        # EOS token files are in place, then poll in the background; always exit 0

``--mkdir DIR`` creates ``DIR`` (``mkdir -p``) only after every ``eos``-format file exists with
mode 0600 and our uid, each attempt in a fresh process; attempts are retried every few seconds
for up to ``--wait`` seconds and then at every poll until one succeeds, and each failure is
logged. Why: eosxd maps a request to the caller's credentials, read from the calling process's
``OAUTH2_TOKEN`` file, and caches that identity per process (EOS ``fusex/auth/ProcessCache.cc``
``ProcessCache::retrieve``): a process that touched the mount before the token existed keeps
the powerless sss identity, so the folder would never be created.

``--config`` defaults to ``$DLAAS_TOKEN_RENEWER_CONFIG``. The config is JSON::

    {
      "interval_seconds": 60,                   # optional, at least 60
      "log_file": "/tmp/dlaas-token-renewer.log",   # optional, used by --detach
      "files": [
        {"path": "/tmp/oauth.token", "source": "access_token"},
        {"path": "/tmp/rucio_oauth.token", "source": "exchanged_tokens/rucio/access_token"},
        {"path": "/tmp/eos_oauth.token", "source": "exchanged_tokens/eos/access_token",
         "format": "eos", "userinfo_endpoint": "https://iam.example.org/userinfo"}
      ]
    }

``source`` is a ``/``-separated path into auth state. ``format`` is ``raw`` (the token, no
newline; default) or ``eos`` (``oauth2:<token>:<userinfo endpoint without scheme>``). Files are
mode 0600 and owned by the running uid, as eosxd requires (owner == uid, ``mode & 0077 == 0``).
"""

from __future__ import annotations

import argparse
import errno
import json
import logging
import os
import re
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from urllib.error import HTTPError, URLError
from urllib.parse import quote
from urllib.request import Request, urlopen

MIN_INTERVAL = 60
#: Default bound of the postStart foreground phase (``--wait``), and its retry pause.
DEFAULT_WAIT = 30.0
RETRY_SECONDS = 2.0
FORMATS = ("raw", "eos")
DEFAULT_LOG_FILE = "/tmp/dlaas-token-renewer.log"
CONFIG_ENV = "DLAAS_TOKEN_RENEWER_CONFIG"

log = logging.getLogger("dlaas.token_renewer")


class RenewerError(Exception):
    """A problem worth one log line (bad config, hub refused or unreachable)."""


class FileSpec:
    """One token file: where it goes, where its token comes from, how it is wrapped."""

    def __init__(self, path: str, source: str, fmt: str = "raw", userinfo_endpoint: str = ""):
        """Validate and store one spec.

        Raises:
            RenewerError: relative path, empty source, unknown format, or eos without endpoint.
        """
        if not Path(path).is_absolute():
            raise RenewerError(f"file path {path!r} must be absolute")
        keys = [k for k in source.split("/") if k]
        if not keys:
            raise RenewerError(f"file {path}: source must name an auth_state key")
        if fmt not in FORMATS:
            raise RenewerError("file {}: format must be one of {}".format(path, ", ".join(FORMATS)))
        if fmt == "eos" and not userinfo_endpoint:
            raise RenewerError(f"file {path}: format eos needs userinfo_endpoint")
        if fmt != "eos" and userinfo_endpoint:
            raise RenewerError(f"file {path}: userinfo_endpoint only applies to format eos")
        self.path = path
        self.keys = keys
        self.fmt = fmt
        # Why: eosxd wants the endpoint "without scheme"; strip it here so a site can give
        # the same URL it gives the authenticator.
        self.userinfo = re.sub(r"^[A-Za-z][A-Za-z0-9+.-]*://", "", userinfo_endpoint)

    def render(self, token: str) -> bytes:
        """Return the exact file content for ``token`` (no trailing newline).

        Why no newline: the Rucio client sends the file content verbatim as an HTTP header.
        """
        if self.fmt == "eos":
            return (f"oauth2:{token}:{self.userinfo}").encode("ascii")
        return token.encode("ascii")


class Config:
    """Parsed renewer configuration."""

    def __init__(self, files: list, interval: float, log_file: str):
        """Store parsed values."""
        self.files = files
        self.interval = interval
        self.log_file = log_file

    @classmethod
    def from_dict(cls, raw: dict) -> Config:
        """Parse the JSON config.

        Raises:
            RenewerError: unknown keys, bad types, duplicate paths.
        """
        if not isinstance(raw, dict):
            raise RenewerError("config must be a JSON object")
        unknown = set(raw) - {"files", "interval_seconds", "log_file"}
        if unknown:
            raise RenewerError("unknown config key(s): {}".format(", ".join(sorted(unknown))))
        entries = raw.get("files")
        if not isinstance(entries, list) or not entries:
            raise RenewerError("config needs a non-empty 'files' list")
        files = [_file_spec(entry) for entry in entries]
        paths = [f.path for f in files]
        if len(set(paths)) != len(paths):
            raise RenewerError("file paths must be unique")
        interval = raw.get("interval_seconds", MIN_INTERVAL)
        if not isinstance(interval, (int, float)) or isinstance(interval, bool):
            raise RenewerError("interval_seconds must be a number")
        if interval < MIN_INTERVAL:
            log.warning("interval_seconds %s raised to %s", interval, MIN_INTERVAL)
            interval = MIN_INTERVAL
        return cls(files, float(interval), str(raw.get("log_file", DEFAULT_LOG_FILE)))

    @classmethod
    def load(cls, path: str) -> Config:
        """Read and parse a JSON config file."""
        try:
            with Path(path).open(encoding="utf-8") as f:
                return cls.from_dict(json.load(f))
        except (OSError, ValueError) as e:
            raise RenewerError(f"cannot read config {path}: {e}") from None


def _file_spec(entry: object) -> FileSpec:
    """One entry of the config's ``files`` list.

    Raises:
        RenewerError: not an object, unknown or missing keys, or a bad value.
    """
    if not isinstance(entry, dict):
        raise RenewerError("each file entry must be an object")
    bad = set(entry) - {"path", "source", "format", "userinfo_endpoint"}
    if bad:
        raise RenewerError("unknown file key(s): {}".format(", ".join(sorted(bad))))
    try:
        return FileSpec(
            str(entry["path"]),
            str(entry["source"]),
            str(entry.get("format", "raw")),
            str(entry.get("userinfo_endpoint", "")),
        )
    except KeyError as e:
        raise RenewerError(f"file entry misses {e}") from None


class HubClient:
    """Reads the user's own model, with auth state, from the hub API."""

    def __init__(self, api_url: str, user: str, token: str, timeout: float = 10.0):
        """Store endpoint, user and server token."""
        self.url = api_url.rstrip("/") + "/users/" + quote(user, safe="")
        self.token = token
        self.timeout = timeout

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> HubClient:
        """Build from the variables JupyterHub sets in every single-user server."""
        variables = os.environ if env is None else env
        missing = [
            k
            for k in ("JUPYTERHUB_API_URL", "JUPYTERHUB_USER", "JUPYTERHUB_API_TOKEN")
            if not variables.get(k)
        ]
        if missing:
            raise RenewerError("missing environment: {}".format(", ".join(missing)))
        return cls(variables["JUPYTERHUB_API_URL"], variables["JUPYTERHUB_USER"],
                   variables["JUPYTERHUB_API_TOKEN"])

    def auth_state(self) -> dict:
        """Return the user's auth state.

        Raises:
            RenewerError: hub unreachable, refused, or auth state not visible.
        """
        request = Request(
            self.url,
            headers={"Authorization": "token " + self.token, "Accept": "application/json"},
        )
        try:
            with urlopen(request, timeout=self.timeout) as response:
                model = json.loads(response.read().decode("utf-8"))
        except HTTPError as e:
            hint = {
                403: " (server token lacks read:users:name!user, or the user must log in again)",
                404: " (user unknown to the hub)",
            }.get(e.code, "")
            raise RenewerError(f"hub answered {e.code} for {self.url}{hint}") from None
        except (URLError, OSError, ValueError) as e:
            raise RenewerError(f"hub unreachable at {self.url}: {e}") from None
        if not isinstance(model, dict) or "auth_state" not in model:
            raise RenewerError("no auth_state in user model: token lacks admin:auth_state!user")
        if not isinstance(model["auth_state"], dict):
            raise RenewerError("user has no auth state (enable_auth_state off or not logged in)")
        return model["auth_state"]


def lookup(state: dict, keys: list) -> object:
    """Follow ``keys`` into nested dicts; ``None`` when any step is missing."""
    value: object = state
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _expiry_of(state: dict, keys: list) -> object:
    """The expiry the hub recorded next to the token at ``keys``, if any."""
    if len(keys) == 1:
        return state.get(keys[0] + "_expires_at")
    parent = lookup(state, keys[:-1])
    return parent.get("expires_at") if isinstance(parent, dict) else None


def atomic_write(path: str, data: bytes) -> None:
    """Replace ``path`` with ``data`` so readers see the old or the new file, never a mix.

    Temp file in the same directory, ``fchmod 0600`` before any byte is written, ``fsync``,
    then ``os.replace`` (atomic rename on POSIX), then a best-effort directory ``fsync``.
    """
    directory = Path(path).parent
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix="." + Path(path).name + ".", dir=directory)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        Path(tmp).replace(path)
    except BaseException:
        try:
            Path(tmp).unlink()
        except OSError:
            pass
        raise
    try:
        dir_fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def is_current(path: str, data: bytes) -> bool:
    """Whether ``path`` already holds ``data`` with mode 0600 and our uid as owner."""
    try:
        st = os.lstat(path)
        with Path(path).open("rb") as f:
            content = f.read()
    except OSError:
        return False
    return content == data and (st.st_mode & 0o7777) == 0o600 and st.st_uid == os.getuid()


def sync_once(config: Config, client: HubClient, now: float | None = None) -> bool:
    """Fetch auth state once and rewrite every file whose content changed.

    Returns:
        True when every configured file is current afterwards.

    Raises:
        RenewerError: the hub could not be read (no file is touched then).
    """
    state = client.auth_state()
    now = time.time() if now is None else now
    all_ok = True
    for spec in config.files:
        token = lookup(state, spec.keys)
        if not isinstance(token, str) or not token:
            service = spec.keys[1] if spec.keys[0] == "exchanged_tokens" else None
            error = lookup(state, ["exchange_errors", service]) if service else None
            log.warning(
                "%s: no token at %s%s; file left as is",
                spec.path,
                "/".join(spec.keys),
                f" ({error})" if error else "",
            )
            all_ok = False
            continue
        if re.search(r"[\s:]", token) or not token.isascii():
            log.warning("%s: token at %s is malformed; file left as is", spec.path, spec.keys)
            all_ok = False
            continue
        expires = _expiry_of(state, spec.keys)
        if isinstance(expires, (int, float)) and expires <= now:
            log.warning("%s: token at %s has expired; hub has not refreshed it", spec.path,
                        "/".join(spec.keys))
        data = spec.render(token)
        if is_current(spec.path, data):
            continue
        try:
            atomic_write(spec.path, data)
        except OSError as e:
            log.error("%s: cannot write: %s", spec.path, e)
            all_ok = False
            continue
        log.info("%s: updated", spec.path)
    return all_ok


def tokens_ready(config: Config) -> bool:
    """Whether every ``eos``-format file is a non-empty regular file, mode 0600, owned by us.

    Why these tests: eosxd accepts a token file only when its owner is the caller and
    ``mode & 0077 == 0`` (EOS ``fusex/auth/SecurityChecker.cc``); checking the file, not the
    mount, never lets this process touch EOS before the token is there.
    """
    for spec in config.files:
        if spec.fmt != "eos":
            continue
        try:
            st = os.lstat(spec.path)
        except OSError:
            return False
        if not stat.S_ISREG(st.st_mode) or st.st_size == 0:
            return False
        if (st.st_mode & 0o7777) != 0o600 or st.st_uid != os.getuid():
            return False
    return True


#: Run in a child process by :func:`make_dir`: ``mkdir -p`` with the reason on failure.
_MKDIR = (
    "import os, sys\n"
    "try:\n"
    "    os.makedirs(sys.argv[1], exist_ok=True)\n"
    "except OSError as e:\n"
    "    sys.stderr.write(e.strerror or str(e))\n"
    "    sys.exit(1)\n"
)


def make_dir(path: str, timeout: float = 60.0) -> str | None:
    """Create ``path`` and its parents in a fresh process.

    Returns:
        None on success, else the reason it failed.

    Why a fresh process: eosxd caches the identity it bound to a process (pid and start time,
    EOS ``fusex/auth/ProcessCache.cc``); a new process is looked up anew and finds the token.
    """
    try:
        done = subprocess.run([sys.executable, "-c", _MKDIR, path], stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return f"no answer within {int(timeout)}s"
    except OSError as e:
        return f"cannot start {sys.executable}: {e}"
    if done.returncode != 0:
        return done.stderr.decode("utf-8", "replace").strip() or f"exit {done.returncode}"
    return None


class PendingDirs:
    """Folders still to create once the EOS token files are in place (``--mkdir``)."""

    def __init__(self, paths: list):
        """Remember the folders, in order, without duplicates."""
        self.paths = list(dict.fromkeys(paths))
        self._said_waiting = False

    def attempt(self, config: Config) -> bool:
        """Try each pending folder if the token files are ready; True when none is pending."""
        if not self.paths:
            return True
        if not tokens_ready(config):
            if not self._said_waiting:
                log.warning("%s: waiting for the EOS token file(s) before creating it",
                            ", ".join(self.paths))
                self._said_waiting = True
            return False
        for path in list(self.paths):
            error = make_dir(path)
            if error is None:
                log.info("%s: created", path)
                self.paths.remove(path)
            else:
                log.error("%s: cannot create: %s", path, error)
        return not self.paths


def run(config: Config, client: HubClient, stop: threading.Event, interval: float,
        pending: PendingDirs | None = None, wake: threading.Event | None = None) -> None:
    """Sync, then wait ``interval`` seconds (or until ``stop``/``wake``), until ``stop`` is set.

    Why never raise: a hub restart or IdP outage must not kill the renewer; the next poll
    retries, and the files keep their last good content meanwhile. ``pending`` folders are
    tried after each sync until created.
    """
    wake = stop if wake is None else wake
    while not stop.is_set():
        try:
            sync_once(config, client)
        except RenewerError as e:
            log.warning("%s; retrying in %ss", e, int(interval))
        except Exception:  # noqa: BLE001
            log.exception("unexpected error; retrying in %ss", int(interval))
        if pending is not None:
            pending.attempt(config)
        wake.wait(interval)
        if wake is not stop:
            wake.clear()


def first_sync(config: Config, client: HubClient, pending: PendingDirs, wait: float,
               retry: float = RETRY_SECONDS) -> bool:
    """The postStart phase: sync and create folders, retrying for up to ``wait`` seconds.

    Retries while the hub cannot be read or a pending folder is not created yet (its token
    missing, or the mkdir failing); a token the hub simply lacks is not waited for otherwise.

    Returns:
        True when the hub answered and no folder is pending.
    """
    deadline = time.monotonic() + wait
    while True:
        answered = True
        try:
            sync_once(config, client)
        except RenewerError as e:
            log.warning("%s", e)
            answered = False
        done = pending.attempt(config) and answered
        left = deadline - time.monotonic()
        if done or left <= 0:
            break
        time.sleep(min(retry, left))
    if pending.paths:
        log.error("%s: not created within %gs; the background renewer retries every poll",
                  ", ".join(pending.paths), wait)
    return done


def _detach(log_file: str) -> bool:
    """Double-fork into a session of our own with output to ``log_file``.

    Returns:
        True in the detached child, False in the original process.
    """
    pid = os.fork()
    if pid > 0:
        os.waitpid(pid, 0)
        return False
    os.setsid()
    if os.fork() > 0:
        os._exit(0)
    out = os.open(log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(out, 1)
    os.dup2(out, 2)
    os.close(out)
    os.close(devnull)
    return True


def _single_instance() -> object:
    """Hold an exclusive lock so a second poller in the same pod exits; None if taken."""
    import fcntl

    path = Path(tempfile.gettempdir()) / f".dlaas-token-renewer.{os.getuid()}.lock"
    handle = path.open("a")  # held for the life of the process
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as e:
        if e.errno in (errno.EAGAIN, errno.EACCES):
            handle.close()
            return None
        raise
    return handle


def _parse_args(argv: list | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", default=os.environ.get(CONFIG_ENV), help="JSON config")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--once", action="store_true", help="sync once and exit")
    mode.add_argument("--detach", action="store_true",
                      help="sync (retrying for up to --wait s), then poll in background; exit 0")
    parser.add_argument("--mkdir", action="append", default=[], metavar="DIR",
                        help="with --detach: create DIR once the EOS token files exist")
    parser.add_argument("--wait", type=float, default=DEFAULT_WAIT, metavar="SECONDS",
                        help="with --detach: longest foreground phase (default %(default)s)")
    return parser.parse_args(argv)


def main(argv: list | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    args = _parse_args(argv)
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.INFO,
        format="%(asctime)s token-renewer[%(process)d] %(levelname)s %(message)s",
    )
    if args.mkdir and not args.detach:
        log.error("--mkdir needs --detach")
        return 2
    if not args.config:
        log.error("no config: pass --config or set %s", CONFIG_ENV)
        return 2
    try:
        config = Config.load(args.config)
        client = HubClient.from_env()
    except RenewerError as e:
        log.error("%s", e)
        return 2
    if args.once:
        try:
            return 0 if sync_once(config, client) else 1
        except RenewerError as e:
            log.warning("%s", e)
            return 1
    pending = None
    if args.detach:
        pending = _foreground(config, client, args.mkdir, args.wait)
        if pending is None:
            return 0  # Why: a failing postStart hook kills the container; never fail here.
    return _poll(config, client, pending)


def _foreground(config: Config, client: HubClient, mkdir: list,
                wait: float) -> PendingDirs | None:
    """The postStart phase of ``--detach``: first sync, then detach.

    Returns:
        The folders still to create, in the detached process; None in the process that
        returns to the hook.
    """
    # Why the file too: postStart output is shown nowhere unless the hook fails, and a
    # failing hook kills the container; the log file keeps every message visible.
    to_file = _file_handler(config.log_file)
    relative = [d for d in mkdir if not Path(d).is_absolute()]
    if relative:
        # Why: an unset variable in the hook ("$SCRATCH" empty) must not create a folder
        # in whatever the current directory is.
        log.error("--mkdir needs absolute paths; not creating %s",
                  ", ".join(map(repr, relative)))
    pending = PendingDirs([d for d in mkdir if Path(d).is_absolute()])
    first_sync(config, client, pending, max(wait, 0.0))
    if not _detach(config.log_file):
        return None
    if to_file is not None:
        logging.getLogger().removeHandler(to_file)  # stderr is that file now
    return pending


def _poll(config: Config, client: HubClient, pending: PendingDirs | None) -> int:
    """Poll until SIGTERM or SIGINT (SIGUSR1 polls at once); 0, also when another one runs."""
    lock = _single_instance()
    if lock is None:
        log.info("another renewer already runs for this uid; exiting")
        return 0
    stop, wake = threading.Event(), threading.Event()

    def _stop(*_: object) -> None:
        stop.set()
        wake.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _stop)
    signal.signal(signal.SIGUSR1, lambda *_: wake.set())
    log.info("polling %s every %ss for %d file(s)", client.url, int(config.interval),
             len(config.files))
    run(config, client, stop, config.interval, pending, wake)
    log.info("stopped")
    return 0


def _file_handler(path: str) -> logging.Handler | None:
    """Also log to ``path`` (mode 0600); None when it cannot be opened."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    except OSError as e:
        log.warning("cannot open log file %s: %s", path, e)
        return None
    handler = logging.StreamHandler(os.fdopen(fd, "a", buffering=1))
    root = logging.getLogger()
    handler.setFormatter(root.handlers[0].formatter if root.handlers else None)
    root.addHandler(handler)
    return handler


if __name__ == "__main__":
    sys.exit(main())
