"""Profiles: node selector, tolerations, extended resources, env, pull policy, checked overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from dlaas_gen import yamlio
from dlaas_gen.config.kubespawner import CHART_KUBESPAWNER, trait_file, trait_names
from dlaas_gen.errors import ConfigError
from dlaas_gen.loader import load_site
from dlaas_gen.pipeline import build_site
from tests.conftest import write_site

HEAD = """# yaml-language-server: $schema=site.schema.json
chart:
  version: {version}
singleuser:
  image:
    name: quay.io/jupyter/minimal-notebook
    tag: "2024-12-23"
  tolerations:
    - key: site.example.org/users
      operator: Exists
{extra}profiles:
  - slug: cpu
    display_name: CPU
  - slug: gpu
    display_name: GPU
"""
GPU = """    node_selector:
      nvidia.com/gpu.present: "true"
    tolerations:
      - key: nvidia.com/gpu
        operator: Exists
        effect: NoSchedule
    extra_resource_limits:
      nvidia.com/gpu: "1"
    extra_resource_guarantees:
      nvidia.com/gpu: 1
    env:
      NVIDIA_DRIVER_CAPABILITIES: compute,utility
    image_pull_policy: IfNotPresent
"""
CHART_TOLERATIONS = [
    {
        "key": "hub.jupyter.org/dedicated",
        "operator": "Equal",
        "value": "user",
        "effect": "NoSchedule",
    },
    {
        "key": "hub.jupyter.org_dedicated",
        "operator": "Equal",
        "value": "user",
        "effect": "NoSchedule",
    },
]
#: HEAD has 15 lines; the gpu profile's own keys start on line 16.
FIRST = 16


def site_text(body: str = GPU, version: str = "4.4.0", extra: str = "") -> str:
    return HEAD.format(version=version, extra=extra) + body


def overrides(tmp_path: Path, text: str) -> dict[str, dict]:
    built = build_site(write_site(tmp_path / "sites", "lab", text), tmp_path / "rendered")
    assert [p.format() for p in built.problems if p.is_error] == []
    (cm,) = [
        m
        for m in built.manifests
        if m.kind == "ConfigMap" and m.doc["metadata"]["name"].endswith("-profiles")
    ]
    profiles = yamlio.load_fast(cm.doc["data"]["values.yaml"])["singleuser"]["profileList"]
    return {p["slug"]: p.get("kubespawner_override", {}) for p in profiles}


def problems(tmp_path: Path, text: str) -> list[tuple[int, int, str, str]]:
    try:
        site = load_site(write_site(tmp_path, "lab", text))
    except ConfigError as exc:
        return [(p.line, p.col, p.level, p.message) for p in exc.problems]
    return [(p.line, p.col, p.level, p.message) for p in site.warnings]


def test_profile_fields_become_kubespawner_traits(tmp_path) -> None:
    found = overrides(tmp_path, site_text())
    assert found["cpu"] == {}
    site_toleration = {"key": "site.example.org/users", "operator": "Exists"}
    assert found["gpu"] == {
        "image_pull_policy": "IfNotPresent",
        "node_selector": {"nvidia.com/gpu.present": "true"},
        # KubeSpawner replaces a list: the chart's and the site's tolerations are kept.
        "tolerations": [
            *CHART_TOLERATIONS,
            site_toleration,
            {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"},
        ],
        "extra_resource_limits": {"nvidia.com/gpu": "1"},
        "extra_resource_guarantees": {"nvidia.com/gpu": "1"},
        "environment": {"NVIDIA_DRIVER_CAPABILITIES": "compute,utility"},
    }


def test_profile_tolerations_follow_the_sites_scheduling_values(tmp_path) -> None:
    extra = "extra_values:\n  scheduling:\n    userPods:\n      tolerations: []\n"
    found = overrides(tmp_path, site_text(extra=extra))
    assert found["gpu"]["tolerations"] == [
        {"key": "site.example.org/users", "operator": "Exists"},
        {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"},
    ]


def test_kubespawner_override_passes_through(tmp_path) -> None:
    body = ("    kubespawner_override:\n      start_timeout: 900\n"
            "      extra_labels:\n        gpu: 'yes'\n")
    assert overrides(tmp_path, site_text(body))["gpu"] == {
        "start_timeout": 900,
        "extra_labels": {"gpu": "yes"},
    }


def test_override_typos_are_errors_at_their_line_with_a_suggestion(tmp_path) -> None:
    body = (
        "    kubespawner_override:\n"
        "      node_selecter: {a: b}\n"
        "      extra_resource_limit: {x: '1'}\n"
        "      lifecycle_hook: {}\n"
        "      zzzz: 1\n"
    )
    found = problems(tmp_path, site_text(body))
    assert [(line, col, level) for line, col, level, _ in found] == [
        (FIRST + 1, 7, "error"),
        (FIRST + 2, 7, "error"),
        (FIRST + 3, 7, "error"),
        (FIRST + 4, 7, "error"),
    ]
    messages = [m for *_, m in found]
    assert (
        "'node_selecter' is not a configurable trait of KubeSpawner 7.0.0 (chart 4.4.0)"
        in messages[0]
    )
    assert messages[0].endswith("did you mean the profile field 'node_selector'?")
    assert messages[1].endswith("did you mean the profile field 'extra_resource_limits'?")
    assert messages[2].endswith("did you mean 'lifecycle_hooks'?")
    assert "did you mean" not in messages[3]


def test_override_may_not_repeat_a_profile_field(tmp_path) -> None:
    body = "    kubespawner_override:\n      environment: {A: b}\n      cpu_limit: 2\n"
    found = problems(tmp_path, site_text(body))
    assert [(line, col) for line, col, *_ in found] == [(FIRST + 1, 7), (FIRST + 2, 7)]
    assert "use profiles[1].env instead of kubespawner_override" in found[0][3]
    assert "use profiles[1].cpu instead" in found[1][3]


def test_an_older_chart_is_checked_against_its_own_kubespawner(tmp_path) -> None:
    body = "    kubespawner_override:\n      slug_scheme: escape\n"
    found = problems(tmp_path, site_text(body, version="3.3.8"))
    assert len(found) == 1 and found[0][:3] == (FIRST + 1, 7, "error")
    assert "not a configurable trait of KubeSpawner 6.2.0 (chart 3.3.8)" in found[0][3]
    assert problems(tmp_path / "new", site_text(body, version="4.4.0")) == []


def test_an_unknown_chart_version_warns_and_typos_only_warn(tmp_path) -> None:
    body = "    kubespawner_override:\n      node_selecter: {a: b}\n      start_timeout: 60\n"
    found = problems(tmp_path, site_text(body, version="4.9.0"))
    assert [(line, col, level) for line, col, level, _ in found] == [
        (3, 3, "warning"),
        (FIRST + 1, 7, "warning"),
    ]
    assert "chart 4.9.0 is not in dlaas-gen's table" in found[0][3]
    assert "checked against KubeSpawner 7.0.0" in found[0][3]
    # No override, no warning.
    assert problems(tmp_path / "plain", site_text(GPU, version="4.9.0")) == []


def test_extended_resources_request_equals_limit(tmp_path) -> None:
    body = (
        "    extra_resource_limits:\n      nvidia.com/gpu: '1'\n"
        "    extra_resource_guarantees:\n      nvidia.com/gpu: '2'\n      example.com/fpga: '1'\n"
        "      hugepages-2Mi: 10Mi\n"
    )
    found = problems(tmp_path, site_text(body))
    assert [(line, col) for line, col, *_ in found] == [(FIRST + 3, 7), (FIRST + 4, 7)]
    assert "guarantee 2 must equal the limit 1" in found[0][3]
    assert 'add extra_resource_limits.example.com/fpga: "1"' in found[1][3]


@pytest.mark.parametrize(
    ("body", "where", "text"),
    [
        ("    env:\n      PATH: /opt/bin\n", (FIRST + 1, 7), "PATH would replace"),
        ("    env:\n      1ST: x\n", (FIRST + 1, 7), "not an environment variable name"),
        (
            "    extra_resource_limits:\n      cpu: '1'\n",
            (FIRST + 1, 7),
            "use the profile's cpu/memory",
        ),
        (
            "    extra_resource_limits:\n      nvidia.com/gpu: one\n",
            (FIRST + 1, 23),
            "not a Kubernetes quantity",
        ),
        ("    image_pull_policy: Sometimes\n", (FIRST, 24), "'Always', 'IfNotPresent' or 'Never'"),
        ("    node_selecter: {a: b}\n", (FIRST, 5), "did you mean 'node_selector'?"),
    ],
)
def test_bad_profile_values_are_located(tmp_path, body, where, text) -> None:
    found = problems(tmp_path, site_text(body))
    assert len(found) == 1 and found[0][:2] == where and text in found[0][3], found


def test_every_chart_of_the_table_has_a_trait_list() -> None:
    for chart, kubespawner in CHART_KUBESPAWNER.items():
        assert trait_file(kubespawner).is_file(), (chart, kubespawner)
        names = trait_names(kubespawner)
        # The traits the profile fields set exist in every vendored KubeSpawner.
        assert {
            "node_selector",
            "tolerations",
            "extra_resource_limits",
            "environment",
            "extra_resource_guarantees",
            "image_pull_policy",
            "cpu_limit",
            "mem_limit",
            "image",
        } <= names, kubespawner
