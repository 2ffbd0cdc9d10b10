"""Operations safety: the hub Namespace is never pruned, timeouts fit, hosts are not shared,
and every finding is printed once."""

from __future__ import annotations

import shutil
from pathlib import Path

from typer.testing import CliRunner

from dlaas_gen import yamlio
from dlaas_gen.cli import app
from dlaas_gen.commands.diff import Side, compare_sides
from dlaas_gen.manifest import Manifest
from dlaas_gen.pipeline import build_site, build_sites
from dlaas_gen.problem import WARNING, Problem
from dlaas_gen.report import format_problems
from tests.conftest import FIXTURES, REPO, write_site

MINIMAL = (FIXTURES / "sites" / "minimal.yaml").read_text()
PRUNE = "kustomize.toolkit.fluxcd.io/prune"


def _objects(built, kind: str) -> dict[str, dict]:
    return {m.doc["metadata"]["name"]: m.doc for m in built.manifests
            if m.kind == kind and "metadata" in m.doc}


def test_hub_namespace_is_never_pruned(tmp_path: Path) -> None:
    built = build_site(write_site(tmp_path / "sites", "lab", MINIMAL + "namespace: lab-hub\n"),
                       tmp_path / "rendered")
    namespace = _objects(built, "Namespace")["lab-hub"]
    assert namespace["metadata"]["annotations"] == {PRUNE: "disabled"}
    # The committed trees carry it too.
    doc = yamlio.load_fast((REPO / "rendered/demo/apps/namespace-demo-hub.yaml").read_text())
    assert doc["metadata"]["annotations"][PRUNE] == "disabled"


def test_kustomization_timeout_covers_the_helm_install(tmp_path: Path) -> None:
    site = MINIMAL + "chart:\n  timeout: 25m\ngitops:\n  timeout: 5m\n"
    built = build_site(write_site(tmp_path / "sites", "lab", site), tmp_path / "rendered")
    ks = _objects(built, "Kustomization")
    (release,) = _objects(built, "HelmRelease").values()
    assert release["spec"]["timeout"] == "25m"
    assert ks["lab-apps"]["spec"]["timeout"] == "25m" and ks["lab-apps"]["spec"]["wait"] is True
    # A longer Kustomization timeout is kept.
    longer = MINIMAL + "chart:\n  timeout: 10m\ngitops:\n  timeout: 1h\n"
    built = build_site(
        write_site(tmp_path / "b" / "sites", "lab", longer), tmp_path / "b" / "rendered"
    )
    assert _objects(built, "Kustomization")["lab-apps"]["spec"]["timeout"] == "1h"


def test_escape_infrastructure_keeps_its_own_timeout() -> None:
    text = (REPO / "rendered/escape/flux/kustomization-escape-infrastructure.yaml").read_text()
    apps = (REPO / "rendered/escape/flux/kustomization-escape-apps.yaml").read_text()
    assert "timeout: 5m" in text and "timeout: 10m" in apps


def test_diff_knows_prune_disabled() -> None:
    ns = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": "hub", "annotations": {PRUNE: "disabled"}},
    }
    old = Side("x", [Manifest(doc=ns, text="", path="x/apps/namespace-hub.yaml")])
    (item,) = compare_sides(old, Side("x", [])).attention
    assert item.severity == "info" and item.rule == "prune"
    assert f"carries {PRUNE}: disabled: Flux leaves it in the cluster" in item.message


HOST = "ingress:\n  host: {host}\n  tls_secret: hub-tls\n"


def test_two_sites_sharing_an_ingress_host_warn(tmp_path: Path) -> None:
    sites = tmp_path / "sites"
    write_site(sites, "alpha", MINIMAL + HOST.format(host="hub.example.org"))
    write_site(sites, "beta", MINIMAL + HOST.format(host="hub.example.org"))
    write_site(sites, "gamma", MINIMAL + HOST.format(host="other.example.org"))
    _, problems = build_sites(sites, (), tmp_path / "rendered")
    shared = sorted(
        (p.path, p.line, p.col, p.level, p.message) for p in problems if p.rule == "shared-host"
    )
    assert shared == [
        (
            str(sites / "alpha.yaml"),
            7,
            9,
            WARNING,
            "ingress host hub.example.org is also the host of "
            "site beta: both hubs would answer at one address; give each site its own host",
        ),
        (
            str(sites / "beta.yaml"),
            7,
            9,
            WARNING,
            "ingress host hub.example.org is also the host of "
            "site alpha: both hubs would answer at one address; give each site its own host",
        ),
    ]
    # Rendering one site still compares it with the others; namespaces may repeat.
    _, problems = build_sites(sites, ["beta"], tmp_path / "rendered")
    assert [p.path for p in problems if p.rule == "shared-host"] == [str(sites / "beta.yaml")]


def test_each_finding_is_printed_once(tmp_path: Path, monkeypatch) -> None:
    twice = [Problem("s.yaml", 3, 1, WARNING, "NET002", "egress not limited")] * 2
    for fmt in ("text", "parsable", "json", "gitlab"):
        assert format_problems(twice, fmt).count("egress not limited") == 1
    # Through the CLI: a site copied twice warns once per site, never twice for one.
    shutil.copytree(REPO / "sites", tmp_path / "sites")
    shutil.copy(tmp_path / "sites/demo.yaml", tmp_path / "sites/demo2.yaml")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["render", "--check"], catch_exceptions=False)
    warnings = [x for x in result.stderr.splitlines() if "[shared-host]" in x]
    assert len(warnings) == len(set(warnings)) == 2
