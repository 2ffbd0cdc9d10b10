"""Data-lake sections: cross-section rules reported at the right line, derived values agree."""

from __future__ import annotations

import json
from pathlib import Path

from dlaas_gen import yamlio
from dlaas_gen.config.derived import lifetime_seconds, path_begins_at
from dlaas_gen.context.auth import endpoints
from dlaas_gen.context.scratch import cleanup_command
from dlaas_gen.loader import load_site
from dlaas_gen.pipeline import build_site
from tests.conftest import REPO
from tests.support.escape_site import errors, line_of, site_with


def test_escape_site_is_clean() -> None:
    site = load_site(REPO / "sites" / "escape.yaml")
    assert site.warnings == ()


def test_scratch_rule_lifetime_must_fit_retention(tmp_path: Path) -> None:
    path = site_with(tmp_path, "rule_lifetime_hours: 24", "rule_lifetime_hours: 36")
    [(line, col, message)] = errors(path)
    assert (line, col) == (line_of(path, "rule_lifetime_hours: 36"), 3)
    assert (
        "(36 h) must be below the retention minus the longest transfer (48 - 12 = 36 h)" in message
    )


def test_scratch_containing_rse_is_rejected(tmp_path: Path) -> None:
    path = site_with(tmp_path, "  sub_path: scratch\n", "  sub_path: tests\n")
    found = errors(path)
    assert any(
        "equals or contains the RSE mounted at /eos/eulake/tests/rucio_test/eulake_1" in m
        for *_, m in found
    )
    assert any(line == line_of(path, "sub_path: tests") for line, _, m in found if "RSE" in m)


def test_scratch_pfn_must_match_eos_path(tmp_path: Path) -> None:
    path = site_with(tmp_path, "//eos/eulake/scratch", "//eos/eulake/escape/scratch")
    [(line, _, message)] = errors(path)
    assert line == line_of(path, "pfn_prefix:")
    assert (
        "PFN path /eos/eulake/escape/scratch is not the scratch folder's EOS path "
        "/eos/eulake/scratch"
        in message
    )


def test_path_begins_at_checked_when_given(tmp_path: Path) -> None:
    path = site_with(
        tmp_path,
        "      rse_mount_path: /eos/eulake/tests/rucio_test/eulake_1\n",
        "      rse_mount_path: /eos/eulake/tests/rucio_test/eulake_1\n      path_begins_at: 4\n",
    )
    [(line, col, message)] = errors(path)
    assert (line, col) == (line_of(path, "path_begins_at: 4"), 7)
    assert "has 5 path components" in message


def test_path_begins_at_derived_from_remote_dir() -> None:
    site = load_site(REPO / "sites" / "escape.yaml").config
    assert path_begins_at(site, "/eos/eulake/tests/rucio_test/eulake_1") == 5  # /eos/eulake/ + 3


def test_rse_mount_outside_eos_mount(tmp_path: Path) -> None:
    path = site_with(
        tmp_path, "rse_mount_path: /eos/eulake/tests/rucio_test/eulake_1", "rse_mount_path: /data"
    )
    [(line, _, message)] = errors(path)
    assert line == line_of(path, "rse_mount_path: /data")
    assert "is not under an EOS instance mounted in user pods" in message


def test_token_service_must_be_exchanged(tmp_path: Path) -> None:
    path = site_with(tmp_path, "      eos: eos-eulake\n", "")
    [(line, _, message)] = errors(path)
    assert line == line_of(path, "token_service: eos")
    assert "'eos' is not in auth.token_exchange.audiences (rucio)" in message


def test_replica_mode_needs_rse(tmp_path: Path) -> None:
    path = site_with(tmp_path, "      destination_rse: EULAKE-1\n", "")
    found = errors(path)
    assert (line_of(path, "mode: replica"), 7, "replica mode needs destination_rse") in found


def test_allow_groups_needs_groups(tmp_path: Path) -> None:
    path = site_with(tmp_path, "    groups: [escape]\n", "")
    [(line, _, message)] = errors(path)
    assert line == line_of(path, "mode: groups") and "non-empty `groups`" in message


def test_register_upload_needs_scratch_rse(tmp_path: Path) -> None:
    path = site_with(tmp_path, "  rse: JUPYTER-EULAKE-SCRATCHDISK", "  # no rse:")
    found = errors(path)
    assert any("register mode needs a scratch RSE" in m for *_, m in found)


def test_sss_needs_keytab(tmp_path: Path) -> None:
    path = site_with(tmp_path, "  keytab:\n    name: eos-sss-keytab\n    key: eos.keytab\n", "")
    [(line, _, message)] = errors(path)
    assert line == line_of(path, "eos:") and "needs eos.keytab" in message


def test_cron_schedule_validated(tmp_path: Path) -> None:
    path = site_with(tmp_path, "    endorsement:\n", "    schedule: every hour\n    endorsement:\n")
    [(line, _, message)] = errors(path)
    assert line == line_of(path, "schedule: every hour") and "5-field cron" in message


def test_provider_layouts() -> None:
    site = load_site(REPO / "sites" / "escape.yaml").config
    assert site.auth is not None
    assert endpoints(site.auth) == {
        "authorize": "https://iam-escape.cloud.cnaf.infn.it/authorize",
        "token": "https://iam-escape.cloud.cnaf.infn.it/token",
        "userinfo": "https://iam-escape.cloud.cnaf.infn.it/userinfo",
    }
    keycloak = site.auth.model_copy(
        update={"provider": "keycloak", "issuer": "https://auth.cern.ch/auth/realms/cern"}
    )
    assert (
        endpoints(keycloak)["token"]
        == "https://auth.cern.ch/auth/realms/cern/protocol/openid-connect/token"
    )


def test_cleanup_uses_exact_minutes_and_keeps_user_folders() -> None:
    script = cleanup_command("/scratch", 48)[2]
    assert "-mmin +2880" in script and "-mindepth 2" in script
    assert "-mtime" not in script and " -L " not in script and "-follow" not in script


def test_lifetimes() -> None:
    assert lifetime_seconds("30d") == 2592000 and lifetime_seconds("3600") == 3600


def _escape_files() -> dict:
    built = build_site(REPO / "sites" / "escape.yaml")
    cm = next(m for m in built.manifests if m.key.name == "dlaas-notebook-files")
    hr = next(m for m in built.manifests if m.kind == "HelmRelease")
    return {"cm": yamlio.plain(cm.doc), "hr": yamlio.plain(hr.doc)}


def test_token_file_names_agree_everywhere() -> None:
    files = _escape_files()
    data = files["cm"]["data"]
    renewer = {
        f["source"].split("/")[1] if "/" in f["source"] else "access": f
        for f in json.loads(data["token-renewer.json"])["files"]
    }
    rucio_file = renewer["rucio"]["path"]
    eos_file = renewer["eos"]["path"]
    instance = json.loads(data["rucio.json"])["RucioConfig"]["instances"][0]
    assert instance["oidc_file_name"] == rucio_file
    assert f"auth_token_file_path = {rucio_file}" in data["rucio.cfg"]
    assert json.loads(data["datalakectl.json"])["token_file"] == rucio_file
    env = files["hr"]["spec"]["values"]["singleuser"]["extraEnv"]
    assert env["OAUTH2_TOKEN"] == f"FILE:{eos_file}"
    assert renewer["eos"]["format"] == "eos"
    assert renewer["eos"]["userinfo_endpoint"] == "https://iam-escape.cloud.cnaf.infn.it/userinfo"
    assert instance["path_begins_at"] == 5
    assert instance["rse_mount_path"] == "/eos/eulake/tests/rucio_test/eulake_1"


def test_eos_only_privileged_daemonset_is_bidirectional() -> None:
    built = build_site(REPO / "sites" / "escape.yaml")
    for m in built.manifests:
        text = m.text
        if "Bidirectional" in text:
            assert m.kind == "DaemonSet" and "privileged: true" in text
    values = yamlio.plain(next(m for m in built.manifests if m.kind == "HelmRelease").doc)["spec"][
        "values"
    ]
    mounts = values["singleuser"]["storage"]["extraVolumeMounts"]
    eos = next(m for m in mounts if m["mountPath"] == "/eos")
    assert eos["mountPropagation"] == "HostToContainer" and eos["readOnly"] is True
    assert "subPath" not in eos  # the host root, not an instance folder
