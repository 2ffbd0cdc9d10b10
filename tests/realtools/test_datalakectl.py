"""datalakectl against a real Rucio server (PyPI ``rucio``) with the real ``rucio-clients``."""

from __future__ import annotations

import base64
import json
import re
import time
import uuid
import zlib
from datetime import datetime, timedelta
from pathlib import Path

import pytest

ERR = "datalakectl: error: "


def collapse(pfn: str) -> str:
    """Collapse repeated slashes after the scheme (PFNs do not round-trip byte-for-byte)."""
    scheme, rest = pfn.split("://", 1)
    return scheme + "://" + re.sub(r"/+", "/", rest)


def unique(prefix: str = "f") -> str:
    """A fresh file name: the session's server keeps every DID."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}.root"


def rule_ids(stdout: str) -> dict[str, str]:
    """Map RSE -> rule id from the ``rule <id> on <RSE> ...`` lines."""
    return dict((rse, rid) for rid, rse in re.findall(r"^rule (\w+) on (\S+)", stdout, re.M))


def fake_jwt(exp: float) -> str:
    """An unsigned JWT with the given ``exp`` (datalakectl decodes it without verifying)."""
    def b64(obj):
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()
    return f"{b64({'alg': 'none'})}.{b64({'sub': 'jdoe', 'exp': int(exp)})}.c2ln"


def assert_one_line_error(done, message: str) -> None:
    """Exit 1, exactly one stderr line ``datalakectl: error: <message>``, nothing on stdout."""
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert done.stderr == f"{ERR}{message}\n"
    assert done.stdout == ""


def assert_expires_in(rule: dict, seconds: int) -> None:
    """The rule's expires_at is created_at + seconds (the server stores both)."""
    created, expires = rule["created_at"], rule["expires_at"]
    if isinstance(created, str):
        fmt = "%a, %d %b %Y %H:%M:%S %Z"
        created, expires = datetime.strptime(created, fmt), datetime.strptime(expires, fmt)
    assert abs((expires - created) - timedelta(seconds=seconds)) <= timedelta(seconds=2)


# ----------------------------------------------------------------------------- register mode


@pytest.mark.slow
def test_register_mode_replica_and_rules(ctl, rucio_server, datalake):
    data = b"ROOT file payload " * 1000
    path = ctl.user_file(name := unique(), data)

    done = ctl.run("upload", str(path), "--rse", datalake.dest_rse, "--lifetime", "30d")

    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    admin = rucio_server.admin_client()
    did = {"scope": datalake.scope, "name": name}
    meta = admin.get_metadata(datalake.scope, name)
    assert meta["bytes"] == len(data)
    assert meta["adler32"] == f"{zlib.adler32(data):08x}"
    [replica] = admin.list_replicas([did], schemes=["root"], all_states=True)
    [pfn] = replica["rses"][datalake.scratch_rse]
    expected = f"root://eoseulake.cern.ch:1094//eos/scratch/{datalake.user}/{name}"
    assert collapse(pfn) == collapse(expected)
    assert replica["states"][datalake.scratch_rse] == "AVAILABLE"

    printed = rule_ids(done.stdout)
    rules = {r["rse_expression"]: r for r in admin.list_did_rules(datalake.scope, name)}
    assert set(rules) == {datalake.scratch_rse, datalake.dest_rse}
    assert printed == {rse: r["id"] for rse, r in rules.items()}
    scratch_rule, dest_rule = rules[datalake.scratch_rse], rules[datalake.dest_rse]
    assert scratch_rule["account"] == dest_rule["account"] == datalake.user
    assert scratch_rule["state"] == "OK"
    assert dest_rule["state"] == "REPLICATING"
    assert_expires_in(scratch_rule, 86400)
    assert_expires_in(dest_rule, 30 * 86400)
    assert done.stdout.splitlines()[0] == (
        f"replica {datalake.scope}:{name} registered on {datalake.scratch_rse}: {expected} "
        f"({len(data)} bytes, adler32 {meta['adler32']})"
    )
    assert len(done.stdout.splitlines()) == 3


@pytest.mark.slow
def test_register_defaults_scope_name_and_copies(ctl, rucio_server, datalake):
    ctl.config["default_lifetime"] = "12h"
    path = ctl.user_file(unique(), b"x")

    done = ctl.run("upload", str(path), "--name", name := unique("named"), "--copies", "1")

    assert done.returncode == 0, done.stderr
    rules = {r["rse_expression"]: r for r in rucio_server.admin_client().list_did_rules(
        datalake.scope, name)}
    assert_expires_in(rules[datalake.dest_rse], 12 * 3600)


# ----------------------------------------------------------------------------- error paths


@pytest.mark.slow
def test_file_outside_scratch(ctl, tmp_path):
    outside = tmp_path / "elsewhere.root"
    outside.write_bytes(b"data")

    done = ctl.run("upload", str(outside), "--lifetime", "30d")

    assert_one_line_error(
        done, f"{outside} is outside the scratch area {ctl.scratch}; move or write it there first"
    )


@pytest.mark.slow
@pytest.mark.usefixtures("rucio_server")
def test_duplicate_rule(ctl, datalake):
    path = ctl.user_file(name := unique(), b"twice")
    first = ctl.run("upload", str(path), "--lifetime", "30d")
    assert first.returncode == 0, first.stderr
    dest_rule = rule_ids(first.stdout)[datalake.dest_rse]

    again = ctl.run("upload", str(path), "--lifetime", "30d")

    assert_one_line_error(
        again,
        f"a rule for {datalake.scope}:{name} on {datalake.dest_rse} already exists "
        f"(rule {dest_rule}); nothing to do",
    )


@pytest.mark.slow
def test_pfn_host_mismatch(ctl, datalake):
    ctl.config["scratch_pfn_prefix"] = "root://wrong.example.org:1094//eos/scratch"
    path = ctl.user_file(name := unique(), b"x")

    done = ctl.run("upload", str(path), "--lifetime", "1d")

    assert_one_line_error(
        done,
        f"PFN root://wrong.example.org:1094//eos/scratch/{datalake.user}/{name} does not match"
        f" the protocols of RSE {datalake.scratch_rse} (check scratch_pfn_prefix: host, port and"
        " path must be the RSE's)",
    )


@pytest.mark.slow
def test_unreachable_server(ctl, dead_server_url):
    ctl.rucio_host = dead_server_url
    path = ctl.user_file(unique(), b"x")

    done = ctl.run("upload", str(path), "--lifetime", "1d")

    assert_one_line_error(
        done, f"cannot reach the Rucio server at {dead_server_url}: Connection refused"
    )


@pytest.mark.slow
def test_missing_token(ctl):
    ctl.token = None
    path = ctl.user_file(unique(), b"x")

    done = ctl.run("upload", str(path), "--lifetime", "1d")

    assert_one_line_error(
        done,
        f"no Rucio token at {ctl.token_file} (not logged in through the hub, or not delivered"
        " yet)",
    )


@pytest.mark.slow
def test_expired_token(ctl):
    ctl.token = fake_jwt(exp=1700000000)
    path = ctl.user_file(unique(), b"x")

    done = ctl.run("upload", str(path), "--lifetime", "1d")

    assert_one_line_error(
        done,
        f"the Rucio token in {ctl.token_file} expired at 2023-11-14T22:13:20Z; wait for its"
        " renewal or restart your server",
    )


@pytest.mark.slow
def test_token_rejected_by_server_no_interactive_login(ctl):
    ctl.token = fake_jwt(exp=time.time() + 3600)  # not expired, but the server does not know it
    path = ctl.user_file(unique(), b"x")

    done = ctl.run("upload", str(path), "--lifetime", "1d")

    assert_one_line_error(
        done,
        "the Rucio server rejected the token (expired, revoked or meant for another audience);"
        " log in to the hub again",
    )


@pytest.mark.slow
@pytest.mark.usefixtures("rucio_server", "datalake")
def test_rucio_error_is_one_line(ctl):
    """Any server-side refusal (here: no such destination RSE) is one line, no traceback."""
    path = ctl.user_file(unique(), b"x")

    done = ctl.run("upload", str(path), "--rse", "NO-SUCH-RSE", "--lifetime", "1d")

    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.startswith(f"{ERR}InvalidRSEExpression: ")
    assert done.stderr.count("\n") == 1


@pytest.mark.slow
def test_plain_account_cannot_add_replicas(ctl, rucio_server, datalake):
    """Without the admin attribute the generic policy refuses add_replicas on the scratch RSE."""
    ctl.token = rucio_server.userpass_token(datalake.plain_user, datalake.plain_user,
                                            datalake.password)
    ctl.lake = type(datalake)(**{**datalake.__dict__, "user": datalake.plain_user})
    path = ctl.user_file(unique(), b"x")

    done = ctl.run("upload", str(path), "--lifetime", "1d")

    assert done.returncode == 1
    assert done.stderr.startswith(f"{ERR}AccessDenied: ")
    assert "ask the site's Rucio administrators to let user accounts register" in done.stderr
    assert done.stderr.count("\n") == 1


@pytest.mark.slow
@pytest.mark.parametrize(
    ("lifetime", "message"),
    [
        ("3x", "bad lifetime '3x' (use e.g. 30d, 12h, 3600)"),
        ("100d", "lifetime 100d exceeds the site maximum 90d"),
    ],
)
def test_lifetime_errors(ctl, lifetime, message):
    path = ctl.user_file(unique(), b"x")

    done = ctl.run("upload", str(path), "--lifetime", lifetime)

    assert_one_line_error(done, message)


# ----------------------------------------------------------------------------- copy mode


@pytest.mark.slow
def test_copy_mode_uploads_then_rules(ctl, rucio_server, datalake):
    ctl.config = {
        "mode": "copy",
        "scratch_path": str(ctl.scratch),
        "upload_rse": datalake.posix_rse,
        "scratch_rule_lifetime": "2h",
    }
    data = b"copied " * 500
    path = ctl.user_file(name := unique(), data)

    done = ctl.run("upload", str(path), "--rse", datalake.dest_rse, "--lifetime", "7d")

    assert done.returncode == 0, done.stderr
    admin = rucio_server.admin_client()
    did = {"scope": datalake.scope, "name": name}
    [replica] = admin.list_replicas([did], all_states=True)
    [pfn] = replica["rses"][datalake.posix_rse]
    assert pfn.startswith("file://")
    copied = pfn.split("://", 1)[1]
    copied = copied[copied.index("/"):] if not copied.startswith("/") else copied
    assert Path(re.sub(r"/+", "/", copied)).read_bytes() == data
    assert replica["adler32"] == f"{zlib.adler32(data):08x}"
    rules = {r["rse_expression"]: r for r in admin.list_did_rules(datalake.scope, name)}
    assert set(rules) == {datalake.posix_rse, datalake.dest_rse}
    assert rule_ids(done.stdout) == {rse: r["id"] for rse, r in rules.items()}
    assert_expires_in(rules[datalake.posix_rse], 7200)
    assert_expires_in(rules[datalake.dest_rse], 7 * 86400)
    assert len(done.stdout.splitlines()) == 3


@pytest.mark.slow
def test_copy_mode_to_the_upload_rse_is_one_rule(ctl, rucio_server, datalake):
    ctl.config = {"mode": "copy", "default_rse": datalake.posix_rse}
    path = ctl.user_file(name := unique(), b"single")

    done = ctl.run("upload", str(path), "--lifetime", "3h")

    assert done.returncode == 0, done.stderr
    [rule] = rucio_server.admin_client().list_did_rules(datalake.scope, name)
    assert rule["rse_expression"] == datalake.posix_rse
    assert rule_ids(done.stdout) == {datalake.posix_rse: rule["id"]}
    assert_expires_in(rule, 3 * 3600)


def test_missing_server_venv_fails_with_the_fix(monkeypatch, tmp_path):
    from tests.realtools import rucio_server

    monkeypatch.setattr(rucio_server, "SERVER_VENV", tmp_path / "no-venv")
    with pytest.raises(rucio_server.ServerVenvMissing, match="setup_rucio_venv.sh"):
        rucio_server.server_python()
