"""yamlio: the fast reader of rendered output gives exactly what the full loader gives."""

from __future__ import annotations

import datetime
import math
from typing import Any

import pytest
from ruamel.yaml.error import YAMLError

from dlaas_gen import yamlio
from dlaas_gen.pipeline import build_site
from tests.conftest import FIXTURES, REPO


def same(a: Any, b: Any) -> bool:
    """Equal and of the same types all the way down (True is not 1)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def rendered_texts() -> list[str]:
    texts = [p.read_text() for p in sorted((REPO / "rendered").rglob("*.yaml"))]
    for site in ("minimal", "maximal", "maximal-variants"):
        texts += [m.text for m in build_site(FIXTURES / "sites" / f"{site}.yaml").manifests]
    return texts


def test_load_rendered_equals_full_loader_on_every_rendered_object() -> None:
    texts = rendered_texts()
    assert len(texts) > 40
    for text in texts:
        assert same(yamlio.load_rendered(text), yamlio.load_fast(text)), text[:200]


@pytest.mark.parametrize(
    "text",
    [
        "a: 1\nb: '1'\nc: true\nd: 'true'\ne: ~\nf:\ng: 1.5\nh: 0x1F\n"
        "i: 2024-01-01\nj: '2024-01-01'\n",
        "- &x {a: 1}\n- *x\n",  # anchors and aliases go to the full loader
        "a: !!str 1\n",  # explicit tags too
        "a: 1\n---\nb: 2\n",  # and a second document
        "? [a, b]\n: 1\n",  # and complex keys
        "a: 1\na: 2\n",  # a duplicate key gets the full loader's error
        "",
        "just text\n",
        "x: |\n  multi\n  line\n",
        "a: 1\n<<: {b: 2}\n",  # a merge key without an alias: merged by the full loader
        "%YAML 1.2\n---\na: 1\n",
        "a: 'x'\nb: \"y\"\nc: >\n  folded\n  text\nd: null\ne: [1, '2', yes, no, on]\n",
    ],
)
def test_load_rendered_matches_on_edge_cases(text: str) -> None:
    try:
        expected = yamlio.load_fast(text)
    except Exception as exc:  # noqa: BLE001
        with pytest.raises(type(exc)):
            yamlio.load_rendered(text)
        return
    assert same(yamlio.load_rendered(text), expected)


@pytest.mark.parametrize("text", [
    "a: &x 1\nb: *x\n",  # anchors and aliases
    "a: !!str 1\n",  # tags
    "a: 1\n<<: {b: 2}\n",  # merge keys
    "a: 1\na: 2\n",  # duplicate keys
    "a: 1\n---\nb: 2\n",  # a second document
    "? [a, b]\n: 1\n",  # complex keys
    "a: " + "[" * 70 + "]" * 70 + "\n",  # deeper than the safety scan allows
])
def test_load_simple_refuses_everything_but_plain_yaml(text: str) -> None:
    with pytest.raises(yamlio.NotSimple):
        yamlio.load_simple(text)


def test_load_simple_raises_the_full_loaders_error_on_bad_yaml() -> None:
    with pytest.raises(YAMLError):
        yamlio.load_simple("a: [1, 2\n")


def test_load_simple_reads_plain_yaml_as_the_full_loader() -> None:
    text = "a: 1\nb: [x, 'y', 1.5, true, ~]\nc:\n  d: |\n    text\n"
    assert same(yamlio.load_simple(text), yamlio.load_fast(text))


@pytest.mark.parametrize("text", [
    "4.4.0", "100m", "5Gi", "0x", "0x1F", "1_000", "017", "0o17", "+1", "-1", "-.5", ".5",
    ".inf", "-.Inf", ".NaN", "1e3", "1E3", "true", "True", "TRUE", "tRue", "false", "no", "yes",
    "on", "null", "Null", "NULL", "nULL", "~", "2024-01-01", "2024-01-01T10:00:00Z",
    "2024-1-1", "=", "<<", "a#b", "x y", "ünï", "N/A", "f", "t",
])
def test_a_plain_scalar_resolves_as_the_full_loader_resolves_it(text: str) -> None:
    # Why: plain scalars whose first character starts no YAML 1.2 type, or that match none of
    # the types starting with it, are taken as text without a load (`yamlio._is_text`).
    document = f"k: {text}\n"
    try:
        expected = yamlio.load_fast(document)["k"]
    except Exception as exc:  # noqa: BLE001 - "=" and "<<" have no constructor in ruamel.yaml
        with pytest.raises(type(exc)):
            yamlio.load_rendered(document)
        with pytest.raises((type(exc), yamlio.NotSimple)):
            yamlio.load_simple(document)
        return
    got = yamlio.load_rendered(document)["k"]
    if isinstance(expected, float) and math.isnan(expected):
        assert isinstance(got, float) and math.isnan(got)
        return
    assert same(got, expected)
    if isinstance(expected, datetime.date):  # not plain data: the careful path reads it
        with pytest.raises(yamlio.NotSimple):
            yamlio.load_simple(document)
    else:
        assert same(yamlio.load_simple(document)["k"], expected)
