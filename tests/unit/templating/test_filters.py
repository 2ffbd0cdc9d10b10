"""The Jinja filters: what a template gets back is YAML that parses to the value it was given."""

from __future__ import annotations

import jinja2
import pytest

from dlaas_gen import yamlio
from dlaas_gen.templating import filters

AWKWARD = ["plain", "", "yes", "no", "on", "null", "~", "0755", "1e3", "12:30", "- item",
           "a: b", "# not a comment", "line\nbreak", "tab\there", "quote \" and \\ back",
           "ünïcödé ✓", "{flow}", "[flow]", "*alias", "&anchor", "!tag", "%directive", " lead"]


@pytest.mark.parametrize("text", AWKWARD)
def test_quote_gives_a_yaml_string_equal_to_the_input(text: str) -> None:
    quoted = filters.quote(text)
    assert quoted.startswith('"') and quoted.endswith('"') and "\n" not in quoted
    assert yamlio.load_fast(f"key: {quoted}\n") == {"key": text}


@pytest.mark.parametrize("value", [7, 1.5, True, None])
def test_quote_turns_non_strings_into_their_text(value: object) -> None:
    assert yamlio.load_fast(f"k: {filters.quote(value)}\n") == {"k": str(value)}


@pytest.mark.parametrize("value", [
    {"a": 1, "b": [True, None, "x: y"], "c": {"d": "0755"}},
    ["- item", {"k": "line\nbreak"}],
    "multi\nline\ntext\n",
    {"empty": {}, "list": []},
])
def test_to_yaml_round_trips_and_has_no_trailing_newline(value: object) -> None:
    text = filters.to_yaml(value)
    assert not text.endswith("\n")
    assert yamlio.load_fast(text + "\n") == value


def test_to_yaml_keeps_key_order() -> None:
    text = filters.to_yaml({"zeta": 1, "alpha": 2, "mid": 3})
    assert [line.split(":")[0] for line in text.splitlines()] == ["zeta", "alpha", "mid"]


@pytest.mark.parametrize("value", [{"b": 1, "a": [1, "x"]}, ["0755", None], "a\"b", 3])
def test_to_json_is_yaml_flow_style_with_the_same_value(value: object) -> None:
    text = filters.to_json(value)
    assert "\n" not in text
    assert yamlio.load_fast(f"k: {text}\n") == {"k": value}


def test_register_makes_the_filters_usable_in_templates() -> None:
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    filters.register(env)
    out = env.from_string(
        "a: {{ v | quote }}\nb: {{ m | to_json }}\nc:\n  {{ m | to_yaml | indent(2) }}\n")
    rendered = out.render(v="x: y", m={"k": ["v", 1]})
    assert yamlio.load_fast(rendered) == {"a": "x: y", "b": {"k": ["v", 1]}, "c": {"k": ["v", 1]}}


@pytest.mark.parametrize(("value", "written"), [
    ("plain", "plain"), ("2", "'2'"), ("true", "'true'"), ("", "''"), ("a: b", "'a: b'"),
    (1094, "1094"), (True, "true"), (None, "null"),
    ("hub.opensciencegrid.org/opensciencegrid/xcache:24-release",
     "hub.opensciencegrid.org/opensciencegrid/xcache:24-release"),
])
def test_to_yaml_writes_a_scalar_as_a_map_value_is_written(value: object, written: str) -> None:
    """``key: {{ v | to_yaml }}`` gives the bytes a dump of ``{key: v}`` gives (no ``...``)."""
    assert filters.to_yaml(value) == written
    assert yamlio.dump_doc({"key": value}) == f"key: {written}\n"
    assert yamlio.load_fast(f"key: {filters.to_yaml(value)}\n") == {"key": value}


@pytest.mark.parametrize("values", [
    [1, "1", True, 1.0, None, "null"],
    [{"a": 1, "b": 2}, {"b": 2, "a": 1}],
    [{"k": [1]}, {"k": (1,)}, {"k": ["1"]}],
])
def test_to_yaml_memo_keeps_values_of_other_types_or_order_apart(values: list[object]) -> None:
    # Why: `to_yaml` remembers its results by the pickle of the value; values that are equal
    # in Python (1 == 1.0 == True) but are written differently must not share a result.
    first = [filters.to_yaml(v) for v in values]
    again = [filters.to_yaml(v) for v in values]
    assert first == again == [filters._to_yaml(v) for v in values]


def test_to_yaml_memo_sees_a_mutated_value() -> None:
    value = {"a": [1, 2]}
    before = filters.to_yaml(value)
    value["a"].append(3)
    assert filters.to_yaml(value) != before
    assert filters.to_yaml(value) == filters._to_yaml({"a": [1, 2, 3]})


def test_to_yaml_of_an_unpicklable_value_is_still_dumped() -> None:
    class Text(str):
        def __reduce__(self) -> object:
            raise TypeError("no pickle")

    assert filters.to_yaml(Text("x")) == "x"
