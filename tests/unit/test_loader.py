"""Site files: valid ones load, every kind of bad input gets file:line:col messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from dlaas_gen.errors import ConfigError, UsageError
from dlaas_gen.loader import discover_sites, is_site_file, load_site, select_sites
from tests.conftest import FIXTURES, write_site

IMAGE = "singleuser:\n  image:\n    name: quay.io/jupyter/minimal-notebook\n    tag: '1'\n"


def errors_of(path: Path) -> list[tuple[int, int, str]]:
    with pytest.raises(ConfigError) as info:
        load_site(path)
    return [(p.line, p.col, p.message) for p in info.value.problems]


def test_minimal_fixture_loads_with_defaults() -> None:
    site = load_site(FIXTURES / "sites" / "minimal.yaml")
    assert site.name == "minimal"
    assert site.config.chart.version == "4.4.0"
    assert site.config.chart.repo_url == "https://hub.jupyter.org/helm-chart/"
    assert site.config.kubernetes_version == "1.33"
    assert site.config.gitops.source == "flux-system"
    assert site.config.singleuser.default_url == "/lab"
    assert site.config.storage.type == "dynamic"


def test_config_is_frozen() -> None:
    site = load_site(FIXTURES / "sites" / "minimal.yaml")
    with pytest.raises(Exception, match="frozen"):
        site.config.namespace = "x"  # type: ignore[misc]


def test_unknown_key_has_position_and_suggestion(tmp_path: Path) -> None:
    path = write_site(tmp_path, "s", IMAGE + "namespce: jhub\n")
    assert errors_of(path) == [(5, 1, "namespce: unknown key; did you mean 'namespace'?")]


def test_nested_wrong_type_and_missing_field(tmp_path: Path) -> None:
    text = IMAGE + "ingress:\n  host: hub.example.org\nchart:\n  interval: 10\n"
    errors = errors_of(write_site(tmp_path, "s", text))
    assert (5, 1, "ingress.tls_secret: required field is missing") in errors
    assert any(e[:2] == (8, 13) and e[2].startswith("chart.interval:") for e in errors)


def test_all_errors_reported_at_once(tmp_path: Path) -> None:
    text = "namespace: Bad_NS\nsingleuser:\n  image:\n    name: x\n    tag: latest\n"
    errors = errors_of(write_site(tmp_path, "s", text))
    assert [(line, col) for line, col, _ in errors] == [(1, 12), (5, 10)]
    assert "not a DNS-1123 label" in errors[0][2]
    assert "'latest' is not pinned" in errors[1][2]


def test_union_member_errors_point_into_the_member(tmp_path: Path) -> None:
    text = IMAGE + "storage:\n  type: static\n  pvc_nam: share\n"
    errors = errors_of(write_site(tmp_path, "s", text))
    assert (5, 1, "storage.pvc_name: required field is missing") in errors
    assert (7, 3, "storage.pvc_nam: unknown key; did you mean 'pvc_name'?") in errors


def test_duplicate_key(tmp_path: Path) -> None:
    text = IMAGE + "namespace: a\nnamespace: b\n"
    [(line, col, message)] = errors_of(write_site(tmp_path, "s", text))
    assert (line, col) == (6, 1)
    assert "duplicate key" in message and "namespace" in message


def test_empty_file(tmp_path: Path) -> None:
    assert errors_of(write_site(tmp_path, "s", "# nothing\n")) == [(1, 1, "file is empty")]


def test_invalid_yaml_syntax(tmp_path: Path) -> None:
    [(line, col, message)] = errors_of(write_site(tmp_path, "s", IMAGE + "ingress: [a\n"))
    assert line == 6 and message.startswith("invalid YAML")


def test_not_a_mapping(tmp_path: Path) -> None:
    assert errors_of(write_site(tmp_path, "s", "- a\n")) == [
        (1, 1, "a site file must be a mapping")
    ]


def test_multiple_documents_rejected(tmp_path: Path) -> None:
    [(_, _, message)] = errors_of(write_site(tmp_path, "s", IMAGE + "---\n" + IMAGE))
    assert "one YAML document" in message


def test_invalid_site_name_is_the_file_name(tmp_path: Path) -> None:
    errors = errors_of(write_site(tmp_path, "Bad_Name", IMAGE))
    assert errors == [
        (
            1,
            1,
            "site name 'Bad_Name' (the file name) is not a DNS-1123 label: "
            "use lower-case letters, digits and '-'",
        )
    ]


def test_second_default_profile_points_at_it(tmp_path: Path) -> None:
    text = IMAGE + (
        "profiles:\n"
        "  - {slug: a, display_name: A, default: true}\n"
        "  - slug: b\n    display_name: A\n    default: true\n"
    )
    errors = errors_of(write_site(tmp_path, "s", text))
    assert (
        9,
        5,
        "profile 'b' is a second default (first: 'a'); at most one profile may be default",
    ) in errors
    assert (8, 5, "profile display_name 'A' is already used by profile #1") in errors


def test_static_share_without_slug_scheme_warns(tmp_path: Path) -> None:
    site = load_site(
        write_site(tmp_path, "s", IMAGE + "storage:\n  type: static\n  pvc_name: share\n")
    )
    [warning] = site.warnings
    assert (warning.line, warning.col, warning.level) == (6, 3, "warning")
    assert "slug_scheme: escape" in warning.message


def test_non_utf8(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_bytes(IMAGE.encode() + b"namespace: \xff\n")
    assert errors_of(path) == [(5, 1, "file is not valid UTF-8")]


def test_site_discovery_skips_non_sites(tmp_path: Path) -> None:
    for name in ("a.yaml", "b.origins.yaml", "_defaults.yaml", ".hidden.yaml", "site.schema.json"):
        (tmp_path / name).write_text("x: 1\n")
    assert [p.name for p in discover_sites(tmp_path)] == ["a.yaml"]
    assert not is_site_file(Path("escape.origins.yaml"))


def test_select_unknown_site_suggests(tmp_path: Path) -> None:
    write_site(tmp_path, "escape", IMAGE)
    with pytest.raises(UsageError, match="did you mean 'escape'"):
        select_sites(tmp_path, ["escap"])
