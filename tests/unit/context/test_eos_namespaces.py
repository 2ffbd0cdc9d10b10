"""eosxd with oauth2: hostPID always, hostNetwork for an MGM outside the cluster or noipck keytab.

The rule is checked where a site could bring the problem back (``eos.host_pid: false``,
``eos.host_network: false``) and the rendered DaemonSet is checked for the pod fields.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dlaas_gen import yamlio
from dlaas_gen.config.derived import mgm_in_cluster
from dlaas_gen.loader import load_site
from dlaas_gen.pipeline import build_site
from tests.conftest import REPO
from tests.support.escape_site import errors, line_of, site_with

KEYTAB = "  keytab:\n    name: eos-sss-keytab\n    key: eos.keytab\n"
MGM = "      mgm: eoseulake.cern.ch\n"


def pod_spec(path: Path) -> dict:
    lock = REPO / "sites" / "escape.origins.yaml"
    path.with_name(path.name.removesuffix(".yaml") + ".origins.yaml").write_text(lock.read_text())
    built = build_site(path)
    assert [p.format() for p in built.problems if p.is_error] == []
    ds = next(m for m in built.manifests if m.kind == "DaemonSet" and m.key.name == "eosxd")
    return yamlio.plain(ds.doc)["spec"]["template"]["spec"]


def test_escape_daemonset_shares_host_pid_and_network() -> None:
    spec = pod_spec(REPO / "sites" / "escape.yaml")
    assert spec["hostPID"] is True
    assert spec["hostNetwork"] is True and spec["dnsPolicy"] == "ClusterFirstWithHostNet"


def test_host_pid_false_is_refused_with_oauth2(tmp_path: Path) -> None:
    path = site_with(
        tmp_path,
        "  host_mount_root: /var/eos\n",
        "  host_mount_root: /var/eos\n  host_pid: false\n",
    )
    [(line, col, message)] = [e for e in errors(path) if "uses oauth2" in e[2]]
    assert (line, col) == (line_of(path, "  host_pid: false"), 3)
    assert "instance 'eulake' uses oauth2" in message and "/proc/<pid>/environ" in message


def test_host_network_false_is_refused_for_an_outside_mgm(tmp_path: Path) -> None:
    path = site_with(
        tmp_path,
        "  host_mount_root: /var/eos\n",
        "  host_mount_root: /var/eos\n  host_network: false\n",
    )
    [(line, col, message)] = errors(path)
    assert (line, col) == (line_of(path, "  host_network: false"), 3)
    assert "MGM eoseulake.cern.ch outside the cluster" in message
    assert "eos.keytab.noipck: true" in message


def test_noipck_keytab_replaces_host_network(tmp_path: Path) -> None:
    path = site_with(tmp_path, KEYTAB, KEYTAB + "    noipck: true\n")
    spec = pod_spec(path)
    assert spec["hostPID"] is True and "hostNetwork" not in spec and "dnsPolicy" not in spec
    explicit = site_with(
        tmp_path, KEYTAB, KEYTAB + "    noipck: true\n  host_network: false\n", "e"
    )
    assert load_site(explicit).warnings == ()


def test_mgm_in_the_cluster_needs_no_host_network(tmp_path: Path) -> None:
    path = site_with(tmp_path, MGM, "      mgm: eos-mgm.eos.svc.cluster.local:1094\n")
    assert "hostNetwork" not in pod_spec(path)


def test_without_oauth2_neither_is_required(tmp_path: Path) -> None:
    path = site_with(tmp_path, MGM, MGM + "      oauth2: false\n")
    assert "hostNetwork" not in pod_spec(path)
    no_pid = site_with(tmp_path, MGM, MGM + "      oauth2: false\n", "p")
    no_pid.write_text(
        no_pid.read_text().replace(
            "  host_mount_root: /var/eos\n", "  host_mount_root: /var/eos\n  host_pid: false\n"
        )
    )
    try:
        found = [m for *_, m in errors(no_pid)]
    except pytest.fail.Exception:  # no error at all
        found = []
    assert not [m for m in found if "uses oauth2" in m or "host_network" in m]


def test_csi_mode_ignores_the_fields_with_a_warning(tmp_path: Path) -> None:
    path = site_with(tmp_path, "  mode: daemonset\n", "  mode: csi\n  host_network: false\n")
    path.write_text(
        path.read_text().replace(KEYTAB, "", 1)
    )  # csi: the driver's chart holds the keytab
    [warning] = [p for p in load_site(path).warnings if "host_network" in p.message]
    assert (warning.line, warning.col) == (line_of(path, "  host_network: false"), 3)
    assert "nodeplugin.hostNetwork" in warning.message


@pytest.mark.parametrize(
    ("mgm", "inside"),
    [
        ("eoseulake.cern.ch", False),
        ("eoseulake.cern.ch:1094", False),
        ("eos-mgm", True),
        ("eos-mgm:1094", True),
        ("eos-mgm.eos.svc", True),
        ("eos-mgm.eos.svc.cluster.local:1094", True),
        ("svc.example.org", False),
    ],
)
def test_mgm_in_cluster(mgm: str, inside: bool) -> None:
    assert mgm_in_cluster(mgm) is inside
