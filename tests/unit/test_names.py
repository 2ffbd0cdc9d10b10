"""Kubernetes naming rules: DNS-1123 labels and subdomains, Secret/ConfigMap keys."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter, ValidationError

from dlaas_gen.errors import ConfigError
from dlaas_gen.loader import load_site
from dlaas_gen.names import (
    ConfigKey,
    DnsLabel,
    DnsSubdomain,
    is_dns1123_label,
    is_dns1123_subdomain,
)
from tests.conftest import FIXTURES


@pytest.mark.parametrize(("value", "ok"), [
    ("a", True), ("jhub", True), ("escape-1", True), ("0abc", True), ("a" * 63, True),
    ("a" * 64, False), ("", False), ("Jhub", False), ("-a", False), ("a-", False),
    ("a.b", False), ("a_b", False), ("ä", False), ("a b", False), ("a\n", False),
])
def test_dns1123_label(value: str, ok: bool) -> None:
    assert is_dns1123_label(value) is ok


@pytest.mark.parametrize(("value", "ok"), [
    ("a", True), ("hub.example.org", True), ("a-b.c-d", True), ("a" * 63 + "." + "b" * 63, True),
    (".".join(["a" * 63] * 3) + "." + "b" * 61, True),  # 253 characters
    (".".join(["a" * 63] * 3) + "." + "b" * 62, False),  # 254
    ("a..b", False), (".a", False), ("a.", False), ("A.b", False), ("a.-b", False), ("", False),
    ("a.b\n", False),
])
def test_dns1123_subdomain(value: str, ok: bool) -> None:
    assert is_dns1123_subdomain(value) is ok


def _error(annotated: object, value: object) -> str:
    with pytest.raises(ValidationError) as info:
        TypeAdapter(annotated).validate_python(value)
    [error] = info.value.errors()
    return error["msg"]


def test_pydantic_types_accept_and_return_the_value() -> None:
    assert TypeAdapter(DnsLabel).validate_python("jhub") == "jhub"
    assert TypeAdapter(DnsSubdomain).validate_python("a.b") == "a.b"
    assert TypeAdapter(ConfigKey).validate_python("tls.crt") == "tls.crt"
    assert TypeAdapter(ConfigKey).validate_python("A_b-c.d") == "A_b-c.d"


def test_pydantic_types_explain_the_rule() -> None:
    assert _error(DnsLabel, "Jhub") == (
        "Value error, 'Jhub' is not a DNS-1123 label (lower-case letters, digits and '-', "
        "starting and ending with an alphanumeric, at most 63 characters)")
    assert _error(DnsSubdomain, "a..b") == (
        "Value error, 'a..b' is not a DNS-1123 subdomain (lower-case, dots, at most 253)")
    assert _error(ConfigKey, "a/b") == (
        "Value error, 'a/b' is not a valid Secret/ConfigMap key ([-._a-zA-Z0-9]+)")


@pytest.mark.parametrize("value", ["", "a/b", "a b", "k" * 254, "ключ", "key\n"])
def test_config_key_rejects(value: str) -> None:
    assert "is not a valid Secret/ConfigMap key" in _error(ConfigKey, value)


def test_config_key_length_limit() -> None:
    assert TypeAdapter(ConfigKey).validate_python("k" * 253) == "k" * 253


def test_a_name_ending_in_a_line_break_is_refused_at_its_line(tmp_path) -> None:
    """A block scalar (``namespace: |``) ends in a line break; it is no label."""
    text = (FIXTURES / "sites" / "minimal.yaml").read_text() + "namespace: |\n  jhub\n"
    path = tmp_path / "m.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_site(path)
    line = text.splitlines().index("namespace: |") + 1
    [problem] = info.value.problems
    assert (problem.line, problem.col, problem.rule) == (line, 12, "site-schema")
    assert problem.message.startswith("namespace: 'jhub\\n' is not a DNS-1123 label")


def test_types_reject_non_strings() -> None:
    assert _error(DnsLabel, 5) == "Input should be a valid string"
