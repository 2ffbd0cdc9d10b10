"""Replica mode: the extension maps an RSE's PFNs to the files eosxd shows under the mount.

The mapping is done by the installed rucio-jupyterlab's own ``ReplicaModeHandler.
translate_pfn_to_path`` with the instance config taken from the rendered ConfigMap; where the
file really appears in the pod is computed from the eosxd config (remote dir → instance mount).
"""

from __future__ import annotations

import json
from pathlib import Path, PurePosixPath
from types import SimpleNamespace
from urllib.parse import urlparse

import pytest
from rucio_jupyterlab.mode_handlers.replica import ReplicaModeHandler

from dlaas_gen import yamlio
from dlaas_gen.config.derived import pod_path
from dlaas_gen.loader import load_site
from dlaas_gen.pipeline import build_site
from tests.conftest import REPO
from tests.support.escape_site import errors, line_of, site_with

#: The EULAKE-1 replica of the origin report (section "Latency hiding layer integration").
SEED_PFN = ("root://eoseulake.cern.ch:1094//eos/eulake/tests/rucio_test/eulake_1/"
            "ATLAS_LAPP_JEZEQUEL/bd/8f/data.root")
MOUNT = "      rse_mount_path: /eos/eulake/tests/rucio_test/eulake_1\n"
PREFIX = "      rse_prefix: /eos/eulake/tests/rucio_test/eulake_1/\n"
REMOTE = "      remote_mount_dir: /eos/eulake/\n"


def extension_path(instance: dict, pfn: str) -> str:
    """What the extension opens for a PFN (its own code; no database or server needed)."""
    handler = object.__new__(ReplicaModeHandler)
    handler.rucio = SimpleNamespace(instance_config=instance)
    return handler.translate_pfn_to_path(pfn)


def rendered_instance(path: Path) -> dict:
    lock = REPO / "sites" / "escape.origins.yaml"
    path.with_name(path.name.removesuffix(".yaml") + ".origins.yaml").write_text(lock.read_text())
    built = build_site(path)
    assert [p.format() for p in built.problems if p.is_error] == []
    for m in built.manifests:
        if m.kind != "ConfigMap":
            continue
        for text in (yamlio.plain(m.doc).get("data") or {}).values():
            if '"RucioConfig"' in text:
                return json.loads(text)["RucioConfig"]["instances"][0]
    raise AssertionError("no rendered RucioConfig")


def escape_copy(tmp_path: Path) -> Path:
    """sites/escape.yaml as it is (written out so the lock file sits beside it)."""
    path = tmp_path / "escape.yaml"
    path.write_text((REPO / "sites" / "escape.yaml").read_text())
    return path


def test_seed_pfn_lands_on_its_file_under_the_mount(tmp_path: Path) -> None:
    instance = rendered_instance(escape_copy(tmp_path))
    opened = extension_path(instance, SEED_PFN)
    site = load_site(REPO / "sites" / "escape.yaml").config
    assert opened == pod_path(site, "/" + urlparse(SEED_PFN).path.lstrip("/"))
    assert opened == "/eos/eulake/tests/rucio_test/eulake_1/ATLAS_LAPP_JEZEQUEL/bd/8f/data.root"
    assert PurePosixPath(instance["rse_mount_path"]) in PurePosixPath(opened).parents
    assert instance["path_begins_at"] == 5


def test_mounting_a_parent_of_the_prefix_also_maps_right(tmp_path: Path) -> None:
    path = site_with(tmp_path, MOUNT, "      rse_mount_path: /eos/eulake\n")
    instance = rendered_instance(path)
    assert instance["path_begins_at"] == 2
    site = load_site(path).config
    expected = pod_path(
        site, "/eos/eulake/tests/rucio_test/eulake_1/ATLAS_LAPP_JEZEQUEL/bd/8f/data.root"
    )
    assert extension_path(instance, SEED_PFN) == expected


def test_old_layout_is_refused_where_the_mount_is(tmp_path: Path) -> None:
    """The escape example before the fix: EOS /eos/eulake/escape mounted, RSE shown at .../data."""
    path = site_with(tmp_path, MOUNT, "      rse_mount_path: /eos/eulake/data\n")
    path.write_text(
        path.read_text()
        .replace(REMOTE, "      remote_mount_dir: /eos/eulake/escape\n")
        .replace("//eos/eulake/scratch", "//eos/eulake/escape/scratch")
    )
    [(line, col, message)] = errors(path)
    assert (line, col) == (line_of(path, "rse_mount_path: /eos/eulake/data"), 7)
    assert message.startswith(
        "/eos/eulake/data shows the EOS directory /eos/eulake/escape/data, "
        "which does not hold the prefix of RSE EULAKE-1 "
        "(/eos/eulake/tests/rucio_test/eulake_1/; no EOS instance mounts it)"
    )


def test_what_the_old_layout_made_the_extension_open() -> None:
    """Without the rule, the extension would open a path that is not the replica's file."""
    old = {"rse_mount_path": "/eos/eulake/data", "path_begins_at": 4}
    opened = extension_path(old, SEED_PFN)
    assert opened == "/eos/eulake/data/eulake_1/ATLAS_LAPP_JEZEQUEL/bd/8f/data.root"
    assert opened != "/eos/eulake/tests/rucio_test/eulake_1/ATLAS_LAPP_JEZEQUEL/bd/8f/data.root"


@pytest.mark.parametrize("mount", ["/eos/eulake/tests/rucio_test/eulake_2", "/eos/eulake/scratch"])
def test_mount_beside_the_prefix_is_refused(tmp_path: Path, mount: str) -> None:
    path = site_with(tmp_path, MOUNT, f"      rse_mount_path: {mount}\n")
    found = errors(path)
    [(line, col, message)] = [f for f in found if "does not hold the prefix" in f[2]]
    assert (line, col) == (line_of(path, f"rse_mount_path: {mount}"), 7)
    assert "user pods see it at /eos/eulake/tests/rucio_test/eulake_1)" in message


def test_without_a_prefix_a_warning_asks_for_it(tmp_path: Path) -> None:
    path = site_with(tmp_path, PREFIX, "")
    path.write_text(path.read_text().replace(MOUNT, "      rse_mount_path: /eos/eulake/data\n"))
    [warning] = [w for w in load_site(path).warnings if "rse_prefix" in w.message]
    assert (warning.line, warning.col) == (line_of(path, "rse_mount_path: /eos/eulake/data"), 7)
    assert "rucio-admin rse info EULAKE-1" in warning.message
    assert rendered_instance(path)["path_begins_at"] == 3
