"""datalakectl's own logic, without a Rucio server: lifetimes, PFNs, checksums, tokens, config.

The runs against a real Rucio server are in ``tests/realtools/test_datalakectl.py`` and, as the
pod runs it, ``tests/live/test_upload.py``.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
import zlib

import pytest

from dlaas_gen.payload import datalakectl as dl

ERR = "datalakectl: error: "


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


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("30d", 2592000), ("12h", 43200), ("3600", 3600), ("3600s", 3600), ("45m", 2700),
     ("2w", 1209600), (86400, 86400), (None, None)],
)
def test_parse_lifetime(value, seconds):
    assert dl.parse_lifetime(value) == seconds


@pytest.mark.parametrize("value", ["", "0", "-1", "1y", "1.5h", True, "d"])
def test_parse_lifetime_rejects(value):
    with pytest.raises(dl.CtlError):
        dl.parse_lifetime(value)


def test_pfn_of_the_report_example(tmp_path):
    (tmp_path / "data.root").write_bytes(b"x")
    relative = dl.scratch_relative(str(tmp_path / "data.root"), str(tmp_path))
    pfn = dl.scratch_pfn("root://eoseulake.cern.ch:1094//eos/scratch", relative)
    assert pfn == "root://eoseulake.cern.ch:1094//eos/scratch/data.root"
    assert dl.scratch_pfn("root://h:1094//eos/scratch/", "u/d.root") == \
        "root://h:1094//eos/scratch/u/d.root"


def test_symlink_out_of_scratch_is_outside(tmp_path):
    scratch, secret = tmp_path / "scratch", tmp_path / "secret.root"
    scratch.mkdir()
    secret.write_bytes(b"x")
    (scratch / "link.root").symlink_to(secret)
    with pytest.raises(dl.CtlError, match="is outside the scratch area"):
        dl.scratch_relative(str(scratch / "link.root"), str(scratch))


def test_adler32_matches_zlib(tmp_path):
    data = bytes(range(256)) * 40000  # > one read chunk
    (tmp_path / "f").write_bytes(data)
    assert dl.adler32_and_size(str(tmp_path / "f")) == (len(data), f"{zlib.adler32(data):08x}")


def test_jwt_expiry():
    assert dl.jwt_expiry(fake_jwt(1700000000)) == 1700000000
    assert dl.jwt_expiry("jdoe-rucio-native-token") is None
    assert dl.jwt_expiry("a.b.c") is None


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"bogus": 1}, "unknown key(s) bogus"),
        ({"mode": "move"}, "mode must be 'register' or 'copy', not 'move'"),
        ({"scratch_rse": "S"}, "scratch_pfn_prefix is required in register mode"),
        ({"mode": "copy", "max_lifetime": "forever"}, "bad max_lifetime in"),
    ],
)
def test_config_errors(tmp_path, config, message):
    path = tmp_path / "c.json"
    path.write_text(json.dumps(config))
    with pytest.raises(dl.CtlError, match=re.escape(message)):
        dl.load_config(str(path))


def test_missing_config_file_is_one_line(tmp_path):
    env = dict(os.environ, DATALAKECTL_CONFIG=str(tmp_path / "none.json"))
    done = subprocess.run([sys.executable, dl.__file__, "upload", "x"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert_one_line_error(
        done, f"cannot read config {tmp_path / 'none.json'}: No such file or directory"
    )
