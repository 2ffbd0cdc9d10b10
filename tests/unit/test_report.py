"""Problem reports: one order, each finding once, four formats (text, parsable, json, gitlab)."""

from __future__ import annotations

import hashlib
import json

import pytest

from dlaas_gen.problem import WARNING, Problem
from dlaas_gen.report import FORMATS, format_problems, unique_problems

B_ERR = Problem("sites/b.yaml", 3, 7, rule="site-schema", message="bad value")
A_WARN = Problem("sites/a.yaml", 10, 1, level=WARNING, rule="hint", message="check this")
A_ERR = Problem("sites/a.yaml", 2, 5, rule="site-rule", message="wrong")
NO_LINE = Problem("rendered/x", 0, 0, rule="yaml", message="file is not UTF-8")


def test_formats() -> None:
    assert FORMATS == ("text", "parsable", "json", "gitlab")


def test_text_is_sorted_by_place_and_one_line_each() -> None:
    assert format_problems([B_ERR, A_WARN, A_ERR, NO_LINE]) == (
        "rendered/x: error: file is not UTF-8 [yaml]\n"
        "sites/a.yaml:2:5: error: wrong [site-rule]\n"
        "sites/a.yaml:10:1: warning: check this [hint]\n"
        "sites/b.yaml:3:7: error: bad value [site-schema]\n")


def test_each_finding_is_printed_once() -> None:
    again = Problem("sites/b.yaml", 3, 7, rule="site-schema", message="bad value")
    assert format_problems([B_ERR, again, B_ERR]) == format_problems([B_ERR])
    other_rule = Problem("sites/b.yaml", 3, 7, rule="other", message="bad value")
    assert len(format_problems([B_ERR, other_rule]).splitlines()) == 2


def test_unique_problems_keeps_the_first_of_each_in_order() -> None:
    twin = Problem("sites/b.yaml", 3, 7, rule="site-schema", message="bad value")
    result = unique_problems([A_WARN, B_ERR, A_WARN, twin, A_ERR])
    assert result == [A_WARN, B_ERR, A_ERR]
    assert result[1] is B_ERR


def test_colour_marks_only_the_level() -> None:
    text = format_problems([A_ERR, A_WARN], color=True)
    assert text == (
        "sites/a.yaml:2:5: \033[31merror\033[0m: wrong [site-rule]\n"
        "sites/a.yaml:10:1: \033[33mwarning\033[0m: check this [hint]\n")


def test_parsable() -> None:
    assert format_problems([A_WARN, NO_LINE], "parsable") == (
        "rendered/x:0:0: [error] file is not UTF-8 (yaml)\n"
        "sites/a.yaml:10:1: [warning] check this (hint)\n")


def test_json() -> None:
    assert json.loads(format_problems([B_ERR, A_WARN], "json")) == [
        {"path": "sites/a.yaml", "line": 10, "column": 1, "level": "warning", "rule": "hint",
         "message": "check this"},
        {"path": "sites/b.yaml", "line": 3, "column": 7, "level": "error", "rule": "site-schema",
         "message": "bad value"},
    ]


@pytest.mark.parametrize(("fmt", "empty"), [
    ("text", ""), ("parsable", ""), ("json", "[]\n"), ("gitlab", "[]\n")])
def test_no_problems(fmt: str, empty: str) -> None:
    assert format_problems([], fmt) == empty


def test_gitlab_code_quality() -> None:
    unreadable, warning = json.loads(format_problems([A_WARN, NO_LINE], "gitlab"))
    assert unreadable == {
        "description": "file is not UTF-8", "check_name": "yaml",
        "fingerprint": hashlib.sha256(b"rendered/x:0:yaml:file is not UTF-8").hexdigest(),
        "severity": "major", "location": {"path": "rendered/x", "lines": {"begin": 1}},
    }
    assert warning == {
        "description": "check this", "check_name": "hint",
        "fingerprint": hashlib.sha256(b"sites/a.yaml:10:hint:check this").hexdigest(),
        "severity": "minor", "location": {"path": "sites/a.yaml", "lines": {"begin": 10}},
    }


def test_gitlab_fingerprint_ignores_the_column_only() -> None:
    moved = Problem("sites/a.yaml", 10, 9, level=WARNING, rule="hint", message="check this")
    reworded = Problem("sites/a.yaml", 10, 1, level=WARNING, rule="hint", message="other")

    def fingerprint(p: Problem) -> str:
        return json.loads(format_problems([p], "gitlab"))[0]["fingerprint"]

    assert fingerprint(moved) == fingerprint(A_WARN) != fingerprint(reworded)
