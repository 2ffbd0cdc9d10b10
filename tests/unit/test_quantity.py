"""Kubernetes quantities: the API server's grammar, exact values, and the site-file form."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from dlaas_gen.errors import ConfigError
from dlaas_gen.loader import load_site
from dlaas_gen.quantity import QuantityError, has_byte_suffix, is_site_quantity, parse_quantity
from tests.conftest import write_site


@pytest.mark.parametrize(("text", "value"), [
    ("0", 0), ("2", 2), (3, 3), (0.5, Fraction(1, 2)),
    ("500m", Fraction(1, 2)), ("100u", Fraction(1, 10**4)), ("7n", Fraction(7, 10**9)),
    ("1k", 1000), ("512M", 512 * 10**6), ("1.5G", 15 * 10**8), ("2T", 2 * 10**12),
    ("1P", 10**15), ("3E", 3 * 10**18),
    ("1Ki", 1024), ("1.5Mi", 3 * 2**19), ("8Gi", 8 * 2**30), ("1Ti", 2**40), ("1Pi", 2**50),
    ("2Ei", 2**61),
    ("1e3", 1000), ("1E3", 1000), ("12e-1", Fraction(6, 5)), ("5e+2", 500),
    ("+1", 1), ("-1.5", Fraction(-3, 2)), (".5", Fraction(1, 2)), ("1.", 1),
])
def test_parse_quantity_is_exact(text, value) -> None:
    assert parse_quantity(text) == value


@pytest.mark.parametrize("text", ["", "Gi", "1Gb", "1gi", "1 Gi", "1Gi\n", " 1", "1.2.3", "1e",
                                  "1K", "1ki", "--1", ".", "1e1.5", "one"])
def test_parse_quantity_refuses(text) -> None:
    with pytest.raises(QuantityError, match="is not a Kubernetes quantity"):
        parse_quantity(text)


def test_exa_suffixes_compare_in_order() -> None:
    assert parse_quantity("1Ei") > parse_quantity("1E") > parse_quantity("999P")


@pytest.mark.parametrize(("text", "ok"), [
    ("500m", True), ("2", True), ("1.5Gi", True), ("512M", True), ("8E", True), ("8Ei", True),
    (2, True), (0.25, True),
    ("1e3", False), ("-1", False), ("+1", False), (".5", False), ("1.", False), ("7n", False),
    ("1Gi\n", False), ("1 Gi", False), (1e20, False),
])
def test_site_form_is_narrower(text, ok) -> None:
    assert is_site_quantity(text) is ok


@pytest.mark.parametrize(("text", "ok"), [
    ("20", False), ("500m", False), ("20k", True), ("1E", True), ("1Ei", True), ("5Gi", True),
])
def test_byte_suffix(text, ok) -> None:
    assert has_byte_suffix(text) is ok


def test_site_quantity_with_a_line_break_is_reported_at_its_value(tmp_path: Path) -> None:
    """A quoted value ending in a newline used to pass and crash the context (exit 3)."""
    text = ('singleuser:\n  image: {name: quay.io/jupyter/minimal-notebook, tag: "1"}\n'
            '  cpu:\n    guarantee: "100m\\n"\n')
    with pytest.raises(ConfigError) as info:
        load_site(write_site(tmp_path, "s", text))
    [problem] = info.value.problems
    assert (problem.path, problem.line, problem.col) == (str(tmp_path / "s.yaml"), 4, 16)
    assert problem.message == ("singleuser.cpu.guarantee: '100m\\n' is not a "
                               "Kubernetes quantity (e.g. 500m, 2, 1Gi, 512M)")
