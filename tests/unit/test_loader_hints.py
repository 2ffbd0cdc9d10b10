"""Hints for easy YAML mistakes, each at its file:line:col."""

from __future__ import annotations

from pathlib import Path

import pytest

from dlaas_gen.errors import ConfigError
from dlaas_gen.loader import load_site
from tests.conftest import write_site

IMAGE = "singleuser:\n  image:\n    name: quay.io/jupyter/minimal-notebook\n    tag: '1'\n"
#: With `auth:` the token renewer runs with python3, which a stock image must declare.
AUTH_IMAGE = IMAGE + "    provides: [python3]\n"
AUTH = """\
ingress: {{host: hub.example.org, tls_secret: hub-tls}}
auth:
  issuer: {issuer}
  provider: keycloak
  client_id: {{name: oidc, key: id}}
  client_secret: {{name: oidc, key: secret}}
  allow: {{mode: all}}
"""


def problems(path: Path) -> list[tuple[int, int, str]]:
    with pytest.raises(ConfigError) as info:
        load_site(path)
    return [(p.line, p.col, p.message) for p in info.value.problems]


def test_unquoted_versions_get_a_hint_to_quote(tmp_path: Path) -> None:
    path = write_site(
        tmp_path, "s", IMAGE + "kubernetes_version: 1.30\nchart:\n  version: 4.4  # pin\n"
    )
    assert problems(path) == [
        (
            5,
            21,
            "kubernetes_version: Input should be a valid string; YAML reads 1.30 as a number: "
            'quote it ("1.30")',
        ),
        (
            7,
            12,
            "chart.version: Input should be a valid string; YAML reads 4.4 as a number: "
            'quote it ("4.4")',
        ),
    ]


def test_capacity_without_unit_is_an_error(tmp_path: Path) -> None:
    path = write_site(tmp_path, "s", IMAGE + "storage:\n  type: dynamic\n  capacity: 20\n")
    assert problems(path) == [
        (
            7,
            13,
            "storage.capacity: '20' has no unit and would be 20 bytes; write a size with a "
            "unit, e.g. 20Gi",
        ),
    ]


def test_capacity_with_unit_loads(tmp_path: Path) -> None:
    site = load_site(
        write_site(tmp_path, "s", IMAGE + "storage:\n  type: dynamic\n  capacity: 20G\n")
    )
    assert site.config.storage.capacity == "20G"


def test_name_with_tag_gets_a_hint_to_split(tmp_path: Path) -> None:
    text = "singleuser:\n  image:\n    name: quay.io/jupyter/minimal-notebook:2024-12-23\n"
    assert problems(write_site(tmp_path, "s", text)) == [
        (
            2,
            3,
            "singleuser.image.tag: required field is missing; name "
            "'quay.io/jupyter/minimal-notebook:2024-12-23' holds the tag: write name: "
            'quay.io/jupyter/minimal-notebook and tag: "2024-12-23"',
        ),
    ]


def test_registry_port_is_not_taken_for_a_tag(tmp_path: Path) -> None:
    text = "singleuser:\n  image:\n    name: registry.example.org:5000/lab/notebook\n"
    assert problems(write_site(tmp_path, "s", text)) == [
        (2, 3, "singleuser.image.tag: required field is missing")
    ]


def test_keycloak_issuer_without_realm_is_an_error(tmp_path: Path) -> None:
    path = write_site(tmp_path, "s", AUTH_IMAGE + AUTH.format(issuer="https://sso.example.org/"))
    assert problems(path) == [
        (
            8,
            3,
            "a Keycloak issuer ends with /realms/<realm> (e.g. "
            "https://sso.example.org/realms/myrealm); without it every login URL is wrong",
        ),
    ]


@pytest.mark.parametrize(
    "issuer", ["https://sso.example.org/realms/lab", "https://sso.example.org/auth/realms/lab/"]
)
def test_keycloak_issuer_with_realm_loads(tmp_path: Path, issuer: str) -> None:
    site = load_site(write_site(tmp_path, "s", AUTH_IMAGE + AUTH.format(issuer=issuer)))
    assert site.config.auth.issuer == issuer
