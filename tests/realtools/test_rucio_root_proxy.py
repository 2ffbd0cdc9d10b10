"""The real Rucio server, configured with what ``dlaas-gen xcache rucio-config escape`` prints,
sends exactly this deployment's clients through the cache.

Why: the setting lives on the shared Rucio server and is keyed by the client's site name (rucio
``lib/rucio/core/replica.py``, ``[root-proxy-internal]``; the client sends ``SITE_NAME`` from
``detect_client_location``). The printed ``rucio-admin config set`` command is run as printed, and
the real ``rucio`` CLI of a user pod lists the PFNs with the pod's ``SITE_NAME`` (the rendered
``singleuser.extraEnv``) and with other names.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from dlaas_gen.pipeline import build_site
from tests.realtools.rucio_server import ROOT_PASSWORD, ROOT_USER

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SCOPE, NAME = "xcache.proxy", "data.root"
ORIGIN_PFN = f"root://eoseulake.cern.ch:1094/eos/eulake/tests/{SCOPE}/"
_CLIENT_ENV = ("BEARER_TOKEN", "BEARER_TOKEN_FILE", "RUCIO_ACCOUNT", "RUCIO_AUTH_TYPE",
               "RUCIO_VO", "RUCIO_CONFIG", "SITE_NAME", "ATLAS_SITE_NAME", "OSG_SITE_NAME",
               "PYTHONPATH")

# Starts the real Rucio server (.venv-rucio).
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def pod_site_name() -> str:
    """``SITE_NAME`` of the user pods in a fresh render of escape."""
    built = build_site(REPO / "sites" / "escape.yaml", Path("rendered"))
    release = next(m for m in built.manifests if m.kind == "HelmRelease")
    values = yaml.safe_load(release.text)["spec"]["values"]
    return values["singleuser"]["extraEnv"]["SITE_NAME"]


@pytest.fixture(scope="module")
def client_env(rucio_server, tmp_path_factory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("rucio-client")
    (home / "rucio.cfg").write_text(
        f"[client]\nrucio_host = {rucio_server.url}\nauth_host = {rucio_server.url}\n"
        f"auth_type = userpass\naccount = root\nusername = {ROOT_USER}\n"
        f"password = {ROOT_PASSWORD}\nrequest_retries = 1\n")
    env = {k: v for k, v in os.environ.items() if k not in _CLIENT_ENV}
    env.update(RUCIO_CONFIG=str(home / "rucio.cfg"), TMPDIR=str(home))
    return env


@pytest.fixture(scope="module")
def proxied(rucio_server, client_env, pod_site_name) -> str:
    """Configure the server as printed; a replica on an RSE whose ``site`` attribute is CERN."""
    printed = subprocess.run([str(BIN / "dlaas-gen"), "xcache", "rucio-config", "escape",
                              "--sites-dir", str(REPO / "sites")],
                             capture_output=True, text=True, check=True).stdout
    [line] = [text for text in printed.splitlines() if "rucio-admin config set" in text]
    argv = shlex.split(line[line.index("rucio-admin"):])
    argv[0] = str(BIN / "rucio-admin")
    done = subprocess.run(argv, env=client_env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    cache = re.search(r"^\S+ = (\S+)$", printed, re.M).group(1)
    admin = rucio_server.admin_client()
    admin.add_scope("root", SCOPE)
    admin.add_rse("XCACHE-TEST-CERN")
    admin.add_protocol("XCACHE-TEST-CERN", {
        "scheme": "root", "hostname": "eoseulake.cern.ch", "port": 1094,
        "prefix": "/eos/eulake/tests/", "impl": "rucio.rse.protocols.xrootd.Default",
        "domains": {"lan": {"read": 1}, "wan": {"read": 1}}})
    admin.add_rse_attribute("XCACHE-TEST-CERN", "site", "CERN")
    admin.add_replica("XCACHE-TEST-CERN", SCOPE, NAME, 1, "0cc737eb")
    assert pod_site_name in printed
    return cache


def pfns(env: dict[str, str], site_name: str | None) -> list[str]:
    """``rucio replica list file`` as a user pod runs it, with `site_name` as SITE_NAME.

    (``--pfns`` prints nothing in rucio-clients 41.5.1, so the table's PFN column is read.)
    """
    env = dict(env)
    if site_name is not None:
        env["SITE_NAME"] = site_name
    done = subprocess.run([str(BIN / "rucio"), "replica", "list", "file", f"{SCOPE}:{NAME}"],
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return [line for line in done.stdout.split() if "://" in line]


def test_this_deployments_pods_read_through_the_cache(proxied, client_env, pod_site_name):
    [pfn] = pfns(client_env, pod_site_name)
    # the CERN-local replica too: no RSE carries the deployment's name as its site
    assert pfn.startswith(f"root://{proxied}//{ORIGIN_PFN}"), pfn


@pytest.mark.parametrize("other", ["CERN", None])  # None: no SITE_NAME, the client says ROAMING
def test_other_clients_of_the_server_are_not_sent_to_the_cluster_internal_address(
        proxied, client_env, other):
    [pfn] = pfns(client_env, other)
    assert pfn.startswith(ORIGIN_PFN) and proxied not in pfn, pfn
