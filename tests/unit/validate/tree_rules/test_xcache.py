"""Rules over the rendered tree that keep the XCache startable, independent of the hub, and
inside the cluster: a fresh render of the escape example passes, and each edit that brings a
failure back is reported at its file, line and column."""

from __future__ import annotations

from pathlib import Path

import pytest

from dlaas_gen.pipeline import build_site
from dlaas_gen.tree import load_tree
from dlaas_gen.validate import validate_tree
from tests.conftest import REPO
from tests.support.xcache_sites import position

RULES = {"xcache-folders-created", "xcache-not-hub-dependency", "xcache-cluster-only"}


@pytest.fixture(scope="module")
def plan() -> dict[str, bytes]:
    built = build_site(REPO / "sites" / "escape.yaml")
    assert [p.format() for p in built.problems if p.is_error] == []
    return built.plan


@pytest.fixture()
def tree(tmp_path: Path, plan: dict[str, bytes]) -> Path:
    for rel, data in plan.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(data)
    return tmp_path


def problems(folder: Path) -> list[tuple[str, int, int, str, str]]:
    found = validate_tree(load_tree(folder))
    return [(p.path, p.line, p.col, p.rule, p.message) for p in found if p.rule in RULES]


def edit(path: Path, old: str, new: str) -> str:
    text = path.read_text()
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new))
    return path.read_text()


def test_the_escape_render_passes_the_xcache_rules(tree: Path) -> None:
    assert problems(tree) == []
    flux = (tree / "flux/kustomization-escape-apps.yaml").read_text()
    # EOS stays a dependency of the hub (user pods mount it); the cache does not.
    assert flux.endswith("  dependsOn:\n  - name: escape-infrastructure\n")
    assert "dependsOn" not in (tree / "flux/kustomization-escape-cache.yaml").read_text()


def test_hub_depending_on_the_cache_is_reported_at_the_dependency(tree: Path) -> None:
    path = tree / "flux/kustomization-escape-apps.yaml"
    text = edit(path, "  - name: escape-infrastructure\n",
                "  - name: escape-infrastructure\n  - name: escape-cache\n")
    [(file, line, col, rule, message)] = problems(tree)
    assert (file, rule) == ("flux/kustomization-escape-apps.yaml", "xcache-not-hub-dependency")
    assert (line, col) == position(text, "name: escape-cache")
    assert message == ("the hub's Kustomization escape-apps depends on escape-cache, which applies "
                       "the XCache: a failing cache would block the hub; remove the dependency")


def test_hub_depending_on_the_cache_through_eos_is_reported(tree: Path) -> None:
    edit(tree / "flux/kustomization-escape-infrastructure.yaml", "    name: flux-system\n",
         "    name: flux-system\n  dependsOn:\n  - name: escape-cache\n")
    text = (tree / "flux/kustomization-escape-apps.yaml").read_text()
    [(file, line, col, _, message)] = problems(tree)
    assert (file, line, col) == ("flux/kustomization-escape-apps.yaml",
                                 *position(text, "name: escape-infrastructure"))
    assert "depends on escape-infrastructure -> escape-cache, which applies the XCache" in message


def test_cache_applied_with_the_hub_is_reported(tree: Path) -> None:
    (tree / "cache/deployment-xcache.yaml").rename(tree / "apps/deployment-xcache.yaml")
    text = (tree / "apps/deployment-xcache.yaml").read_text()
    [(file, line, col, _, message)] = problems(tree)
    assert (file, line, col) == ("apps/deployment-xcache.yaml", *position(text, "name: xcache"))
    assert message.startswith("the XCache is applied together with the hub")


def test_missing_init_container_is_reported(tree: Path) -> None:
    path = tree / "cache/deployment-xcache.yaml"
    text = path.read_text()
    start, end = text.index("      initContainers:\n"), text.index("      containers:\n")
    path.write_text(text[:start] + text[end:])
    text = path.read_text()
    [(file, line, col, _, message)] = problems(tree)
    assert (file, line, col) == ("cache/deployment-xcache.yaml", *position(text, "command:"))
    assert message == (
        "xrootd stops at start when /xcache-meta/namespace, /xcache-meta/xrdcinfos, "
        "/xcache-data_1, /xcache-data_2 do not exist: add an init container running as uid "
        "10940 with `mkdir -p` of each, on the same volumes")


def test_init_container_as_another_uid_or_missing_a_folder_is_reported(tree: Path) -> None:
    path = tree / "cache/deployment-xcache.yaml"
    text = edit(path, "        - /xcache-meta/xrdcinfos\n", "")
    [(_, line, col, _, message)] = problems(tree)
    assert (line, col) == position(text, "initContainers:")
    assert message.startswith("xrootd stops at start when /xcache-meta/xrdcinfos do not exist")
    edit(
        path,
        "        - /xcache-data_2\n",
        "        - /xcache-data_2\n        - /xcache-meta/xrdcinfos\n",
    )
    assert problems(tree) == []
    text = path.read_text()
    path.write_text(text.replace("          runAsUser: 10940\n", "          runAsUser: 10941\n", 1))
    [(_, _, _, _, message)] = problems(tree)
    assert "when /xcache-meta/namespace, /xcache-meta/xrdcinfos, /xcache-data_1" in message


def test_folder_config_read_through_configmap_items(tree: Path) -> None:
    """The rule follows the ConfigMap the `-c` file comes from (here the oss.space is renamed)."""
    edit(
        tree / "cache/configmap-xcache-config.yaml",
        "oss.space meta /xcache-meta/xrdcinfos",
        "oss.space meta /xcache-meta/cinfo",
    )
    [(_, _, _, _, message)] = problems(tree)
    assert message.startswith("xrootd stops at start when /xcache-meta/cinfo do not exist")


def test_exposed_service_is_reported(tree: Path) -> None:
    text = edit(
        tree / "cache/service-xcache.yaml",
        "  type: ClusterIP\n",
        "  type: NodePort\n  externalIPs: [192.0.2.1]\n",
    )
    found = problems(tree)
    assert [(f, line, col) for f, line, col, _, _ in found] == [
        ("cache/service-xcache.yaml", *position(text, "type: NodePort")),
        ("cache/service-xcache.yaml", *position(text, "externalIPs:")),
    ]
    assert found[0][4] == (
        "Service xcache of type NodePort exposes the XCache (an unauthenticated "
        "proxy) outside the cluster: use ClusterIP"
    )


def test_missing_or_open_network_policy_is_reported(tree: Path) -> None:
    policy = tree / "cache/networkpolicy-xcache.yaml"
    text = edit(policy, "  - from:\n", "  - ports:\n    - port: 1\n  - from:\n")
    [(file, line, col, _, message)] = problems(tree)
    assert (file, line, col) == ("cache/networkpolicy-xcache.yaml", *position(text, "ports:\n"))
    assert message == (
        "NetworkPolicy xcache admits connections from anywhere (an ingress rule without `from`)"
    )
    policy.unlink()
    [(file, _, _, _, message)] = problems(tree)
    assert file == "cache/deployment-xcache.yaml"
    assert message.startswith("no NetworkPolicy limits who may connect to the XCache")
