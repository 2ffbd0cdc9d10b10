"""Secret material: rejected in site files, found in rendered trees, never printed."""

from __future__ import annotations

from pathlib import Path

import pytest

from dlaas_gen.errors import ConfigError
from dlaas_gen.loader import load_site
from dlaas_gen.tree import load_tree
from dlaas_gen.validate import validate_tree
from dlaas_gen.validate.tree_rules.secrets import SCAN_RULES
from tests.conftest import REPO, write_site

# Built from parts so that this file itself does not look like it holds a key or a token.
PEM = (
    "-----BEGIN "
    + "RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAfake\n-----END RSA "
    + "PRIVATE KEY-----\n"
)
JWT = "eyJhbGciOiJSUzI1NiJ9" + ".eyJzdWIiOiJhbGljZSIsImV4cCI6MX0" + ".c2lnbmF0dXJlLWJ5dGVzLTEyMzQ"
RANDOM = "Zk3q9XwP2mLr8TbV4nYc7Hs"
IMAGE = "singleuser:\n  image:\n    name: quay.io/jupyter/minimal-notebook\n    tag: '1'\n"
SECRET_VALUES = (PEM.splitlines()[1], JWT, RANDOM)


def _no_value(messages: list[str]) -> None:
    for message in messages:
        assert not any(v in message for v in SECRET_VALUES), message


@pytest.mark.parametrize(
    ("extra", "line", "what"),
    [
        (
            "extra_values:\n  hub:\n    config:\n      GenericOAuthenticator:\n"
            "        client_secret: "
            f"{RANDOM}\n",
            9,
            "high-entropy value under the secret-like key 'client_secret'",
        ),
        ("extra_values:\n  proxy:\n    secretToken: " + RANDOM + "\n", 7, "'secretToken'"),
        (
            "extra_values:\n  hub:\n    extraFiles:\n      key:\n        stringData: |\n"
            + "".join(f"          {line}\n" for line in PEM.splitlines()),
            9,
            "a private key block",
        ),
        (
            f"extra_values:\n  singleuser:\n    extraEnv:\n      ACCESS: {JWT}\n",
            8,
            "a JSON Web Token",
        ),
        (
            f"profiles:\n  - slug: a\n    display_name: A\n    description: {JWT}\n",
            8,
            "a JSON Web Token",
        ),
    ],
)
def test_site_file_credential_literal_is_an_error(
    tmp_path: Path, extra: str, line: int, what: str
) -> None:
    with pytest.raises(ConfigError) as info:
        load_site(write_site(tmp_path, "s", IMAGE + extra))
    found = [p for p in info.value.problems if p.rule == "site-secret"]
    assert [p.line for p in found] == [line] and what in found[0].message
    _no_value([p.format() for p in info.value.problems])


def test_references_and_low_entropy_names_are_fine(tmp_path: Path) -> None:
    text = IMAGE + (
        "    provides: [python3]\n"  # the token renewer (auth:) runs python3
        "ingress: {host: hub.example.org, tls_secret: tls}\n"
        "auth:\n  issuer: https://iam.example.org/\n  client_id: {name: c, key: id}\n"
        "  client_secret: {name: c, key: secret}\n  allow: {mode: all}\n"
        "extra_values:\n  hub:\n    config:\n      x:\n        token_file: /var/run/t\n"
        "        password_file: /etc/pw\n        secret_name: my-secret-2024\n"
    )
    assert load_site(write_site(tmp_path, "s", text)).name == "s"


MANIFESTS = {
    "SEC001": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: n}\n"
    "data:\n  tls.key: |\n"
    + "".join(f"    {line}\n" for line in PEM.splitlines()),
    "SEC002": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: n}\n"
    f"data:\n  t: {JWT}\n",
    "SEC003": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: n}\ndata:\n"
    f"  rucio.cfg: |\n    [client]\n    password = {RANDOM}\n",
    "SEC004": "apiVersion: v1\nkind: Secret\nmetadata: {name: a, namespace: n}\n"
    "stringData:\n  x: y\n",
}


def test_every_scan_rule_has_a_case() -> None:
    assert sorted(MANIFESTS) == sorted(r[0] for r in SCAN_RULES)


@pytest.mark.parametrize("rule", sorted(MANIFESTS))
def test_validate_finds_secret_material(tmp_path: Path, rule: str) -> None:
    (tmp_path / "x.yaml").write_text(MANIFESTS[rule])
    problems = [p for p in validate_tree(load_tree(tmp_path)) if p.rule.startswith("SEC")]
    assert [p.rule for p in problems] == [rule] and problems[0].is_error and problems[0].line > 1
    _no_value([p.format() for p in problems])


@pytest.mark.parametrize("site", ["demo", "escape"])
def test_rendered_sites_have_no_secret_material(site: str) -> None:
    problems = validate_tree(load_tree(REPO / "rendered" / site))
    assert [p.format() for p in problems if p.rule.startswith("SEC")] == []
