"""The ``xcache:`` section: valid sites load, every rule reports file:line:col."""

from __future__ import annotations

from pathlib import Path

import pytest

from dlaas_gen.config.xcache import (
    effective_exports,
    protocols_in_use,
    xcache_site_name,
    xrd_size_bytes,
)
from dlaas_gen.errors import ConfigError
from dlaas_gen.loader import load_site
from tests.conftest import REPO, write_site
from tests.support.xcache_sites import BASE, FIXED, SITE_NAME, position


def errors(folder: Path, text: str) -> list[tuple[int, int, str]]:
    with pytest.raises(ConfigError) as info:
        load_site(write_site(folder, "s", text))
    return [(p.line, p.col, p.message) for p in info.value.problems]


def test_forwarding_site_loads_with_defaults(tmp_path: Path) -> None:
    site = load_site(write_site(tmp_path, "s", BASE)).config
    xc = site.xcache
    assert (xc.mode, xc.port, xc.service_port, xc.namespace) == ("forwarding", 1094, 1094, "xcache")
    assert xc.origins.static_by_protocol() == {"root": ["eoseulake.cern.ch:1094"]}
    assert protocols_in_use(xc) == ["https", "root"]  # davs is reached as https
    assert effective_exports(xc) == ["/https:/", "/root:/", "/xroot:/"]
    assert xcache_site_name(site) == SITE_NAME


def test_fixed_origin_site_exports_root(tmp_path: Path) -> None:
    xc = load_site(write_site(tmp_path, "s", FIXED)).config.xcache
    assert effective_exports(xc) == ["/"]


def test_no_xcache_no_site_name() -> None:
    site = load_site(REPO / "tests/fixtures/sites/minimal.yaml").config
    assert xcache_site_name(site) is None


@pytest.mark.parametrize(("text", "size"), [("1M", 2**20), ("512k", 2**19), ("16g", 16 * 2**30),
                                            ("4096", 4096)])
def test_xrd_sizes(text: str, size: int) -> None:
    assert xrd_size_bytes(text) == size


def test_forwarding_with_fixed_origin_is_one_mode_too_many(tmp_path: Path) -> None:
    text = BASE + "  origin: eos.cern.ch:1094\n"
    [(line, col, message)] = errors(tmp_path, text)
    assert (line, col) == position(text, "origin: eos")
    assert "forwarding mode (pss.origin =) takes none" in message


def test_fixed_origin_without_origin(tmp_path: Path) -> None:
    text = FIXED.replace("  origin: eospilot.cern.ch:1094\n", "")
    assert errors(tmp_path, text) == [
        (*position(text, "mode:"), "mode fixed_origin needs xcache.origin (host:port)")]


def test_fixed_origin_with_allow_list(tmp_path: Path) -> None:
    text = FIXED + "  origins:\n    static: [root://a.cern.ch]\n"
    [(line, col, message)] = errors(tmp_path, text)
    assert (line, col) == position(text, "origins:")
    assert "exactly one origin" in message


def test_forwarding_needs_allow_list(tmp_path: Path) -> None:
    text = BASE.split("  origins:")[0]
    [(line, col, message)] = errors(tmp_path, text)
    # `mode` is not in the file (default forwarding): the position is the section's key.
    assert (line, col) == position(text, "xcache:") and "needs an origin allow-list" in message


def test_forwarding_needs_allow_list_points_at_empty_origins(tmp_path: Path) -> None:
    text = BASE.split("  origins:")[0] + "  origins: {}\n"
    [(line, col, message)] = errors(tmp_path, text)
    assert (line, col) == position(text, "origins:")
    assert "needs an origin allow-list" in message


def test_exports_must_cover_schemes_in_use(tmp_path: Path) -> None:
    text = BASE + "  exports: ['/root:/', '/xroot:/']\n"
    [(line, col, message)] = errors(tmp_path, text)
    assert (line, col) == position(text, "exports:")
    assert "['/https:/']" in message and "davs origins are reached as https" in message


def test_empty_exports(tmp_path: Path) -> None:
    text = BASE + "  exports: []\n"
    assert [m for *_, m in errors(tmp_path, text)] == [
        "xcache.exports is empty: xrootd would serve nothing"]


def test_watermarks_ordered(tmp_path: Path) -> None:
    text = BASE + "  disk_usage: {low: 0.95, high: 0.9}\n"
    [(line, col, message)] = errors(tmp_path, text)
    assert (line, col) == position(text, "low:")
    assert message == "disk_usage.low (0.95) must be below disk_usage.high (0.9)"


def test_watermark_out_of_range(tmp_path: Path) -> None:
    text = BASE + "  disk_usage: {low: 0.5, high: 1.5}\n"
    [(line, col, message)] = errors(tmp_path, text)
    assert (line, col) == position(text, "1.5")
    assert message.startswith("xcache.disk_usage.high: Input should be less than or equal to 1")


@pytest.mark.parametrize("size", ["3M", "2k", "1g"])
def test_block_size_power_of_two_in_range(tmp_path: Path, size: str) -> None:
    text = BASE + f"  block_size: {size}\n"
    [(line, col, message)] = errors(tmp_path, text)
    assert (line, col) == position(text, "block_size:")
    assert "must be a power of two between 4k and 512M" in message


def test_block_size_not_a_size(tmp_path: Path) -> None:
    text = BASE + "  block_size: huge\n"
    [(line, col, message)] = errors(tmp_path, text)
    assert (line, col) == position(text, "huge") and "is not a size" in message


def test_ram_below_memory_limit(tmp_path: Path) -> None:
    text = BASE + "  ram: 8g\n  memory: {limit: 8Gi}\n"
    [(line, col, message)] = errors(tmp_path, text)
    assert (line, col) == position(text, "ram:")
    assert message.startswith("ram '8g' must be below the memory limit '8Gi'")


def test_ram_needs_a_memory_limit(tmp_path: Path) -> None:
    text = BASE + "  memory: {guarantee: 1Gi}\n"
    [(line, col, message)] = errors(tmp_path, text)
    assert (line, col) == position(text, "memory:") and "set xcache.memory.limit" in message


def test_service_port_equals_xrootd_port(tmp_path: Path) -> None:
    text = BASE + "  port: 1094\n  service_port: 11094\n"
    [(line, col, message)] = errors(tmp_path, text)
    assert (line, col) == position(text, "service_port:")
    assert "differs from the xrootd port 1094" in message


def test_static_origin_syntax(tmp_path: Path) -> None:
    text = BASE.replace("root://eoseulake.cern.ch:1094", "gsiftp://eoseulake.cern.ch")
    [(line, col, message)] = errors(tmp_path, text)
    assert line == position(text, "gsiftp")[0]
    assert "is not scheme://host[:port]" in message


def test_site_name_consistent_with_rucio_instances(tmp_path: Path) -> None:
    text = (REPO / "sites" / "escape.yaml").read_text()
    text = text.replace("      mode: replica\n",
                        "      site_name: GENEVA\n      mode: replica\n", 1)
    (tmp_path / "s.origins.yaml").write_text((REPO / "sites/escape.origins.yaml").read_text())
    found = errors(tmp_path, text)
    assert (
        *position(text, "site_name: GENEVA"),
        "site_name 'GENEVA' differs from xcache.site_name 'DLAAS-dlaas.escape.example.org': "
        "Rucio would not send this "
        "instance's clients through the cache",
    ) in found


def test_example_site_enables_the_xcache() -> None:
    site = load_site(REPO / "sites" / "escape.yaml").config
    assert site.xcache.site_name == "DLAAS-dlaas.escape.example.org"
    assert site.xcache.mode == "forwarding" and site.xcache.service_type == "ClusterIP"
    assert "root://eoseulake.cern.ch:1094" in site.xcache.origins.static


# -- the Rucio site name is unique to the deployment --------------------------------------------

ESCAPE = REPO / "sites" / "escape.yaml"
ESCAPE_NAME = "  site_name: DLAAS-dlaas.escape.example.org"


def escape_with(tmp_path: Path, old: str, new: str) -> str:
    text = ESCAPE.read_text()
    assert text.count(old) == 1
    (tmp_path / "s.origins.yaml").write_text((REPO / "sites/escape.origins.yaml").read_text())
    return text.replace(old, new)


@pytest.mark.parametrize("name", ["CERN", "cern", "ROAMING", "DESY", "xcache"])
def test_shared_site_names_are_refused(tmp_path: Path, name: str) -> None:
    text = escape_with(tmp_path, ESCAPE_NAME, f"  site_name: {name}")
    [(line, col, message)] = errors(tmp_path, text)
    assert (line, col) == position(text, f"site_name: {name}")
    assert message == (
        f"site_name {name!r} is a shared name: every Rucio client presenting SITE_NAME={name} "
        "would be sent to this cluster's internal cache address; use a name unique to this "
        "deployment, e.g. 'DLAAS-dlaas.escape.example.org'"
    )


def test_rse_site_attribute_is_refused(tmp_path: Path) -> None:
    text = escape_with(
        tmp_path,
        ESCAPE_NAME,
        "  site_name: DLAAS-dlaas.escape.example.org\n"
        "  rse_sites: [dlaas-dlaas.escape.example.org]",
    )
    [(line, col, message)] = errors(tmp_path, text)
    assert (line, col) == position(text, "site_name: DLAAS")
    assert message.startswith(
        "site_name 'DLAAS-dlaas.escape.example.org' is the `site` attribute "
        "of an RSE (xcache.rse_sites)"
    )


def test_site_name_must_contain_the_ingress_host(tmp_path: Path) -> None:
    text = escape_with(tmp_path, ESCAPE_NAME, "  site_name: GENEVA-DLAAS")
    [(line, col, message)] = errors(tmp_path, text)
    assert (line, col) == position(text, "site_name: GENEVA")
    assert message == (
        "site_name 'GENEVA-DLAAS' is not unique to this deployment: it must contain the ingress "
        "host 'dlaas.escape.example.org' (e.g. 'DLAAS-dlaas.escape.example.org'), so that no "
        "other Rucio client presents it"
    )


def test_site_name_longer_than_xrootd_keeps_is_refused(tmp_path: Path) -> None:
    text = escape_with(tmp_path, ESCAPE_NAME, "  site_name: " + "A" * 64)
    [(line, col, message)] = errors(tmp_path, text)
    assert (line, col) == position(text, "A" * 64) and "at most 63 characters" in message


def test_a_long_ingress_host_gives_a_short_unique_proposal(tmp_path: Path) -> None:
    host = "a-very-long-hub-name." + "sub." * 12 + "example.org"
    text = escape_with(tmp_path, "host: dlaas.escape.example.org", f"host: {host}")
    text = text.replace(ESCAPE_NAME, "  site_name: CERN")
    [(_, _, message)] = errors(tmp_path, text)
    proposal = message.rsplit("e.g. ", 1)[1].strip("'")
    assert proposal.startswith("DLAAS-a-very-long-hub-name-") and len(proposal) <= 63
    ok = escape_with(tmp_path, ESCAPE_NAME, f"  site_name: {proposal}")
    ok = ok.replace("host: dlaas.escape.example.org", f"host: {host}")
    assert load_site(write_site(tmp_path, "s", ok)).config.xcache.site_name == proposal


@pytest.mark.parametrize("kind", ["NodePort", "LoadBalancer"])
def test_cache_is_not_exposed_outside_the_cluster(tmp_path: Path, kind: str) -> None:
    text = BASE + f"  service_type: {kind}\n"
    [(line, col, message)] = errors(tmp_path, text)
    assert (line, col) == position(text, "service_type:")
    assert message.startswith(f"service_type {kind} exposes the cache outside the cluster")


def test_authdb_refresh_below_what_xrootd_takes_is_refused(tmp_path: Path) -> None:
    text = BASE + "  authdb_refresh_seconds: 5\n"
    [(line, col, message)] = errors(tmp_path, text)
    assert (line, col) == position(text, "5\n")
    assert "greater than or equal to 60" in message


def test_authdb_refresh_is_rendered(tmp_path: Path) -> None:
    from dlaas_gen.context.xcache import xrootd_directives

    default = load_site(write_site(tmp_path, "s", BASE)).config.xcache
    longer = load_site(
        write_site(tmp_path, "t", BASE + "  authdb_refresh_seconds: 300\n")
    ).config.xcache
    assert "acc.authrefresh 60" in xrootd_directives(default)
    assert "acc.authrefresh 300" in xrootd_directives(longer)
