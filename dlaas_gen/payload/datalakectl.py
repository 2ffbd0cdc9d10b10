#!/usr/bin/env python3
"""datalakectl: turn a file in the notebook's scratch area into a Rucio replica plus rules.

Shipped to user pods in a ConfigMap and run there with the image's Python (3.8 or newer) and
its ``rucio-clients``; it depends on nothing else.

Usage::

    datalakectl upload $SCRATCH/out.root --rse EULAKE-1 --lifetime 30d
    datalakectl upload $SCRATCH/out.root --scope user.$JUPYTERHUB_USER --copies 2 --name run1.root

Modes:
    register: the scratch area is itself a (non-deterministic) RSE. The local path under the
        scratch mount is translated to the scratch RSE's PFN (``scratch_pfn_prefix`` + path
        relative to ``scratch_path``), size and adler32 are computed locally, the replica is
        registered with ``add_replicas`` (no data is copied), a short-lived rule pins it on the
        scratch RSE and the user's rule asks for the copy to the destination. Both rule ids are
        printed.
    copy: ``rucio upload`` semantics through ``UploadClient``: the file is copied to
        ``upload_rse`` (a deterministic RSE) with a short-lived rule, then the user's rule to the
        destination is added. When ``upload_rse`` is the destination and ``--copies`` is 1, the
        upload's own rule (with the user's lifetime) is the only rule.

Configuration: a JSON object in the file named by ``$DATALAKECTL_CONFIG`` (default
``/etc/datalakectl/config.json``). Lifetimes are ``"30d"``, ``"12h"``, ``"45m"``, ``"3600s"``,
``"3600"`` or an integer number of seconds. Keys (unknown keys are an error):

    mode: ``"register"`` (default) or ``"copy"``.
    scratch_path: where the scratch area is mounted in the pod (default ``"/scratch"``).
    scratch_rse: the scratch RSE's name (register mode, required).
    scratch_pfn_prefix: PFN of the scratch mount's root, e.g.
        ``"root://eoseulake.cern.ch:1094//eos/eulake/scratch"`` (register mode, required).
    scratch_rule_lifetime: lifetime of the short-lived rule on the scratch RSE (copy mode: on
        ``upload_rse``); default ``"24h"``. Must stay below the scratch retention.
    upload_rse: copy mode: the RSE the file is uploaded to (default: the destination RSE).
    default_scope: scope template; ``{account}`` is the Rucio account, ``{user}`` is
        ``$JUPYTERHUB_USER`` (falling back to the account). Default ``"user.{account}"``.
    default_rse: destination RSE expression when ``--rse`` is not given (optional).
    default_lifetime: destination rule lifetime when ``--lifetime`` is not given (optional;
        absent or null means no expiry, which ``max_lifetime`` forbids).
    max_lifetime: the longest destination rule lifetime the site allows (optional).
    token_file: OIDC token file, used when rucio.cfg names none (``auth_token_file_path``); it
        is exported as ``BEARER_TOKEN_FILE`` for the client.
    rucio_config: path of rucio.cfg, exported as ``RUCIO_CONFIG`` unless already set (optional).

Every failure is one line on stderr, ``datalakectl: error: <message>``, and exit status 1.
``--verbose`` shows the client's log and a traceback instead.
"""

from __future__ import annotations

import argparse
import base64
import json
import logging
import os
import re
import sys
import time
import zlib
from pathlib import Path

DEFAULT_CONFIG_PATH = "/etc/datalakectl/config.json"
CONFIG_KEYS = {
    "mode": "register",
    "scratch_path": "/scratch",
    "scratch_rse": None,
    "scratch_pfn_prefix": None,
    "scratch_rule_lifetime": "24h",
    "upload_rse": None,
    "default_scope": "user.{account}",
    "default_rse": None,
    "default_lifetime": None,
    "max_lifetime": None,
    "token_file": None,
    "rucio_config": None,
}
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_CHUNK = 4 * 1024 * 1024


class CtlError(Exception):
    """A failure reported to the user as one line, exit status 1."""


# --------------------------------------------------------------------------- small helpers


def parse_lifetime(value, what="lifetime"):
    """Convert ``30d``, ``12h``, ``45m``, ``3600s``, ``3600`` or an int to seconds.

    Args:
        value: The lifetime as given on the command line or in the config.
        what: The name used in the error message.

    Returns:
        The lifetime in seconds (a positive int), or None when value is None.

    Raises:
        CtlError: The value is not a positive duration.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise CtlError(f"bad {what} {value!r} (use e.g. 30d, 12h, 3600)")
    if isinstance(value, int):
        seconds = value
    else:
        match = re.fullmatch(r"\s*(\d+)\s*([smhdw]?)\s*", str(value))
        if not match:
            raise CtlError(f"bad {what} {value!r} (use e.g. 30d, 12h, 3600)")
        seconds = int(match.group(1)) * _UNITS[match.group(2) or "s"]
    if seconds <= 0:
        raise CtlError(f"bad {what} {value!r}: must be positive")
    return seconds


def format_lifetime(seconds):
    """Render seconds in the largest exact unit (``2592000`` -> ``30d``)."""
    if seconds is None:
        return "never"
    for unit in ("w", "d", "h", "m"):
        if seconds % _UNITS[unit] == 0:
            return f"{int(seconds // _UNITS[unit])}{unit}"
    return f"{int(seconds)}s"


def adler32_and_size(path):
    """Stream a file once and return (size in bytes, adler32 as 8 lowercase hex digits).

    Why: Rucio stores adler32 as zero-padded hex; a file on FUSE can be large, so read in chunks.
    """
    checksum, size = 1, 0
    with Path(path).open("rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            checksum = zlib.adler32(chunk, checksum)
            size += len(chunk)
    return size, "%08x" % (checksum & 0xFFFFFFFF)


def one_line(text):
    """Collapse whitespace (the client's messages span lines) into a single line."""
    return " ".join(str(text).split())


# --------------------------------------------------------------------------- configuration


def load_config(path):
    """Read and check the JSON config, filling in defaults.

    Args:
        path: The config file path.

    Returns:
        A dict with every key of CONFIG_KEYS.

    Raises:
        CtlError: Unreadable file, bad JSON, unknown keys or bad values.
    """
    try:
        with Path(path).open(encoding="utf-8") as handle:
            raw = json.load(handle)
    except OSError as exc:
        raise CtlError(f"cannot read config {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise CtlError(f"config {path} is not valid JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise CtlError(f"config {path} must hold a JSON object")
    unknown = sorted(set(raw) - set(CONFIG_KEYS))
    if unknown:
        raise CtlError("config {}: unknown key(s) {}".format(path, ", ".join(unknown)))
    config = dict(CONFIG_KEYS)
    config.update(raw)
    if config["mode"] not in ("register", "copy"):
        raise CtlError(f"config {path}: mode must be 'register' or 'copy', "
                       f"not {config['mode']!r}")
    if config["mode"] == "register":
        for key in ("scratch_rse", "scratch_pfn_prefix"):
            if not config[key]:
                raise CtlError(f"config {path}: {key} is required in register mode")
    for key in ("scratch_rule_lifetime", "default_lifetime", "max_lifetime"):
        config[key] = parse_lifetime(config[key], f"{key} in {path}")
    return config


# --------------------------------------------------------------------------- local path and PFN


def scratch_relative(path, scratch_path):
    """Return the file's path relative to the scratch mount (symlinks resolved).

    Raises:
        CtlError: The file does not exist, is not a regular file, or lies outside scratch.
    """
    if not Path(path).exists():
        raise CtlError(f"{path}: no such file")
    real = os.path.realpath(path)
    root = os.path.realpath(scratch_path)
    if not Path(real).is_file():
        raise CtlError(f"{path}: not a regular file")
    if os.path.commonpath([real, root]) != root or real == root:
        raise CtlError(
            f"{path} is outside the scratch area {scratch_path}; move or write it there first"
        )
    return os.path.relpath(real, root)


def scratch_pfn(prefix, relative):
    """Join the scratch RSE's PFN prefix and a scratch-relative path with one slash."""
    return prefix.rstrip("/") + "/" + relative.replace(os.sep, "/").lstrip("/")


# --------------------------------------------------------------------------- token checks


def jwt_expiry(token):
    """Return the ``exp`` claim of a JWT without verifying it, or None if not a decodable JWT."""
    parts = token.strip().split(".")
    if len(parts) != 3:
        return None
    try:
        payload = parts[1] + "=" * (-len(parts[1]) % 4)
        claims = json.loads(base64.urlsafe_b64decode(payload.encode("ascii")))
        exp = claims.get("exp") if isinstance(claims, dict) else None
        return int(exp) if exp is not None else None
    except (ValueError, TypeError):
        return None


def check_token(token, source):
    """Fail when the token is empty or its JWT ``exp`` lies in the past."""
    if not token.strip():
        raise CtlError(f"the Rucio token in {source} is empty; log in to the hub again")
    exp = jwt_expiry(token)
    if exp is not None and exp <= time.time():
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(exp))
        raise CtlError(
            f"the Rucio token in {source} expired at {stamp}; wait for its renewal or restart "
            "your server"
        )


def _read_token_file(path):
    try:
        with Path(path).open(encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError:
        raise CtlError(
            f"no Rucio token at {path} (not logged in through the hub, or not delivered yet)"
        ) from None
    except OSError as exc:
        raise CtlError(f"cannot read the Rucio token {path}: {exc.strerror}") from None


def _token_candidates():
    """Yield (source, path-or-None, value-or-None) in the rucio-clients discovery order.

    Why: the client reads ``$BEARER_TOKEN``, ``$BEARER_TOKEN_FILE``, ``$XDG_RUNTIME_DIR/bt_u<uid>``
    and then rucio.cfg's ``auth_token_file_path``; checking a different file than the one the
    client will send would make the expiry check lie.
    """
    from rucio.common import config as rucio_config

    if os.environ.get("BEARER_TOKEN", "").strip():
        yield "$BEARER_TOKEN", None, os.environ["BEARER_TOKEN"]
    if os.environ.get("BEARER_TOKEN_FILE"):
        yield "$BEARER_TOKEN_FILE", os.environ["BEARER_TOKEN_FILE"], None
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and (Path(runtime) / f"bt_u{os.geteuid()}").exists():
        yield "$XDG_RUNTIME_DIR", str(Path(runtime) / f"bt_u{os.geteuid()}"), None
    cfg_path = rucio_config.config_get("client", "auth_token_file_path", False, None)
    if cfg_path:
        yield "rucio.cfg", cfg_path, None


def check_oidc_token(config):
    """For ``auth_type = oidc``, find the token the client will send and check it.

    Why: with no usable token the client starts an interactive browser login, which cannot work
    from a notebook terminal; an expired token only fails later with an opaque 401.

    Raises:
        CtlError: No token, an unreadable or empty one, or an expired JWT.
    """
    from rucio.common import config as rucio_config

    auth_type = os.environ.get("RUCIO_AUTH_TYPE") or rucio_config.config_get(
        "client", "auth_type", False, None
    )
    if auth_type != "oidc":
        return
    if config["token_file"] and not os.environ.get("BEARER_TOKEN_FILE"):
        if not rucio_config.config_get("client", "auth_token_file_path", False, None):
            os.environ["BEARER_TOKEN_FILE"] = config["token_file"]
    for source, path, value in _token_candidates():
        check_token(value if path is None else _read_token_file(path), path or source)
        return
    raise CtlError(
        "no Rucio token configured: set auth_token_file_path in rucio.cfg or token_file in the "
        "datalakectl config"
    )


# --------------------------------------------------------------------------- Rucio client


def make_client():
    """Build a rucio Client that never starts an interactive OIDC login.

    Why: on any 401 ``BaseClient`` starts a browser/copy-paste OIDC flow, which hangs on stdin
    in a notebook; and the server answers 401 for AccessDenied too. With OIDC, requests are
    sent as ``get_token=True`` (no re-login on 401) so the caller raises the server's real
    exception, and the login flow itself is turned into an error.
    """
    from rucio.client import Client

    class NonInteractiveClient(Client):
        def _send_request(self, *args, **kwargs):
            if self.auth_type == "oidc":
                kwargs["get_token"] = True
            return super()._send_request(*args, **kwargs)

        def _BaseClient__get_token_oidc(self):  # noqa: N802 - overrides a name-mangled method
            raise CtlError("no usable Rucio token; log in to the hub again")

    return NonInteractiveClient()


def resolve_scope(client, config, scope):
    """Return the scope: ``--scope`` or the config template filled with account/user."""
    if scope:
        return scope
    if not client.account:  # rucio.cfg may leave the account to the server
        client.account = client.whoami()["account"]
    account = client.account
    user = os.environ.get("JUPYTERHUB_USER") or account
    try:
        return config["default_scope"].format(account=account, user=user)
    except (KeyError, IndexError, ValueError):
        raise CtlError("bad default_scope template {!r}".format(config["default_scope"])) from None


def find_rule(client, did, rse_expression, copies=None):
    """Return the id of this account's rule on the DID with that RSE expression, or None."""
    for rule in client.list_did_rules(did["scope"], did["name"]):
        if rule["rse_expression"] != rse_expression or rule["account"] != client.account:
            continue
        if copies is None or rule["copies"] == copies:
            return rule["id"]
    return None


def add_rule(client, did, rse, copies, lifetime, reuse=False):
    """Add a rule and return its id; on DuplicateRule reuse it or fail with its id.

    Args:
        client: The rucio Client.
        did: ``{"scope": ..., "name": ...}``.
        rse: The RSE expression.
        copies: Number of copies.
        lifetime: Seconds, or None for no expiry.
        reuse: Return the existing rule instead of failing (the scratch rule: why: a rerun after
            a failed destination rule must not stop at the rule it already made).
    """
    from rucio.common.exception import DuplicateRule

    try:
        return client.add_replication_rule([did], copies, rse, lifetime=lifetime)[0]
    except DuplicateRule:
        existing = find_rule(client, did, rse, copies)
        if reuse and existing:
            return existing
        raise CtlError(
            f"a rule for {did['scope']}:{did['name']} on {rse} already exists "
            f"(rule {existing or '?'}); nothing to do"
        ) from None


# --------------------------------------------------------------------------- the two modes


def register_upload(client, config, request):
    """Register mode: add the scratch replica in place, then the scratch and user rules.

    Returns:
        A list of output lines.
    """
    from rucio.common.exception import AccessDenied, RSEFileNameNotSupported

    did, rse = request["did"], config["scratch_rse"]
    replica = dict(did, bytes=request["bytes"], adler32=request["adler32"], pfn=request["pfn"])
    try:
        client.add_replicas(rse=rse, files=[replica])
    except RSEFileNameNotSupported:
        raise CtlError(
            "PFN {} does not match the protocols of RSE {} (check scratch_pfn_prefix: host,"
            " port and path must be the RSE's)".format(request["pfn"], rse)
        ) from None
    except AccessDenied as exc:
        # Why a hint: only the site's Rucio admins can fix this (Rucio's generic policy lets
        # users register replicas only on RSEs named *SCRATCHDISK/*USERDISK/*LOCALGROUPDISK,
        # and new files need the user to own the scope: perm_add_replicas, perm_add_did).
        raise CtlError(
            "AccessDenied: {} (ask the site's Rucio administrators to let user accounts register"
            " replicas on {} and to give you the scope {})".format(one_line(exc), rse, did["scope"])
        ) from None
    lines = [
        f"replica {did['scope']}:{did['name']} registered on {rse}: {request['pfn']} "
        f"({int(request['bytes'])} bytes, adler32 {request['adler32']})"
    ]
    scratch_rule = add_rule(client, did, rse, 1, config["scratch_rule_lifetime"], reuse=True)
    lines.append(_rule_line(scratch_rule, rse, 1, config["scratch_rule_lifetime"]))
    lines.append(_user_rule(client, did, request))
    return lines


def copy_upload(client, config, request):
    """Copy mode: ``UploadClient.upload`` to ``upload_rse``, then the user's rule.

    Returns:
        A list of output lines.
    """
    from rucio.client.uploadclient import UploadClient

    did = request["did"]
    upload_rse = config["upload_rse"] or request["rse"]
    single = upload_rse == request["rse"] and request["copies"] == 1
    lifetime = request["lifetime"] if single else config["scratch_rule_lifetime"]
    item = {
        "path": request["path"],
        "rse": upload_rse,
        "did_scope": did["scope"],
        "did_name": did["name"],
        "lifetime": lifetime,
    }
    quiet = logging.getLogger("datalakectl.upload")
    UploadClient(_client=client, logger=quiet).upload([item])
    upload_rule = find_rule(client, did, upload_rse)
    lines = [
        f"uploaded {request['path']} to {upload_rse} as {did['scope']}:{did['name']} "
        f"({int(request['bytes'])} bytes, adler32 {request['adler32']})"
    ]
    if upload_rule:
        lines.append(_rule_line(upload_rule, upload_rse, 1, lifetime))
    if not single:
        lines.append(_user_rule(client, did, request))
    return lines


def _user_rule(client, did, request):
    rule = add_rule(client, did, request["rse"], request["copies"], request["lifetime"])
    return _rule_line(rule, request["rse"], request["copies"], request["lifetime"])


def _rule_line(rule_id, rse, copies, lifetime):
    return (f"rule {rule_id} on {rse} (copies {int(copies)}, "
            f"lifetime {format_lifetime(lifetime)})")


# --------------------------------------------------------------------------- command line


def build_parser():
    """Return the argparse parser for ``datalakectl``."""
    parser = argparse.ArgumentParser(
        prog="datalakectl", description="Put files from the scratch area into the data lake."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="client log and tracebacks")
    sub = parser.add_subparsers(dest="command")
    sub.required = True
    upload = sub.add_parser("upload", help="register or upload a file and add its rules")
    upload.add_argument("path", help="the file (under the scratch mount in register mode)")
    upload.add_argument("--rse", help="destination RSE expression (default from the config)")
    upload.add_argument("--lifetime", help="destination rule lifetime: 30d, 12h, 3600")
    upload.add_argument("--scope", help="DID scope (default user.<account>)")
    upload.add_argument("--copies", type=int, default=1, help="number of copies (default 1)")
    upload.add_argument("--name", help="DID name (default: the file's name)")
    return parser


def _destination(config, args):
    rse = args.rse or config["default_rse"]
    if not rse:
        raise CtlError("no destination RSE: give --rse or set default_rse in the config")
    if args.copies < 1:
        raise CtlError("--copies must be at least 1")
    lifetime = parse_lifetime(args.lifetime) if args.lifetime else config["default_lifetime"]
    maximum = config["max_lifetime"]
    if maximum is not None and (lifetime is None or lifetime > maximum):
        raise CtlError(
            f"lifetime {format_lifetime(lifetime)} exceeds the site maximum "
            f"{format_lifetime(maximum)}"
        )
    return rse, lifetime


def run_upload(config, args):
    """Check everything local, then talk to Rucio; return the output lines."""
    rse, lifetime = _destination(config, args)
    request = {"path": args.path, "rse": rse, "lifetime": lifetime, "copies": args.copies}
    if config["mode"] == "register":
        relative = scratch_relative(args.path, config["scratch_path"])
        request["pfn"] = scratch_pfn(config["scratch_pfn_prefix"], relative)
    elif not Path(args.path).is_file():
        raise CtlError(f"{args.path}: no such file")
    request["bytes"], request["adler32"] = adler32_and_size(args.path)
    check_oidc_token(config)
    client = make_client()
    scope = resolve_scope(client, config, args.scope)
    request["did"] = {"scope": scope, "name": args.name or Path(args.path).name}
    if config["mode"] == "register":
        return register_upload(client, config, request)
    return copy_upload(client, config, request)


def describe_failure(exc):
    """Turn a client-side exception into the one-line message, or None if unknown."""
    try:
        from requests.exceptions import RequestException
    except ImportError:  # pragma: no cover - requests always comes with rucio-clients
        RequestException = ()  # noqa: N806
    from rucio.common.exception import CannotAuthenticate, RucioException

    if isinstance(exc, CannotAuthenticate):
        return ("the Rucio server rejected the token (expired, revoked or meant for another"
                " audience); log in to the hub again")
    if isinstance(exc, RucioException):
        return f"{type(exc).__name__}: {one_line(exc)}"
    if isinstance(exc, RequestException):
        reason = re.search(r"\[Errno -?\d+\] ([^'\")]+)", str(exc))
        url = getattr(getattr(exc, "request", None), "url", None) or ""
        host = re.match(r"\w+://[^/]+", url)
        where = f" at {host.group(0)}" if host else ""
        cause = reason.group(1).strip() if reason else type(exc).__name__
        return f"cannot reach the Rucio server{where}: {cause}"
    return None


def _setup_logging(verbose):
    """Silence the client's own logging unless --verbose (it would break the one-line errors)."""
    if verbose:
        logging.basicConfig(level=logging.DEBUG, format="%(name)s: %(message)s")
        return
    # Why disable, not setLevel: rucio's setup_logger() gives its module loggers their own
    # level and handler, so raising a parent logger's level would not reach them.
    logging.disable(logging.CRITICAL)


def main(argv=None):
    """Run the command line; return the exit status."""
    args = build_parser().parse_args(argv)
    _setup_logging(args.verbose)
    try:
        config = load_config(os.environ.get("DATALAKECTL_CONFIG") or DEFAULT_CONFIG_PATH)
        if config["rucio_config"] and not os.environ.get("RUCIO_CONFIG"):
            os.environ["RUCIO_CONFIG"] = config["rucio_config"]
        try:
            import rucio.client  # noqa: F401
        except ImportError:
            raise CtlError(f"rucio-clients is not installed for {sys.executable}") from None
        lines = run_upload(config, args)
    except CtlError as exc:
        return _fail(str(exc))
    except Exception as exc:  # noqa: BLE001 - every client error becomes one line
        message = describe_failure(exc)
        if message is None or args.verbose:
            raise
        return _fail(message)
    for line in lines:
        print(line)
    return 0


def _fail(message):
    sys.stderr.write(f"datalakectl: error: {one_line(message)}\n")
    return 1


if __name__ == "__main__":
    sys.exit(main())
