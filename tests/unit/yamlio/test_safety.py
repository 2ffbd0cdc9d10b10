"""YAML hazards in site files: each a one-line error with its position, found before expansion."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from dlaas_gen import yamlio
from dlaas_gen.errors import ConfigError, ProblemsError
from dlaas_gen.loader import MAX_SITE_BYTES, load_site
from dlaas_gen.tree import load_tree
from tests.conftest import write_site

IMAGE = "singleuser:\n  image:\n    name: quay.io/jupyter/minimal-notebook\n    tag: '1'\n"


def only_error(path: Path) -> tuple[int, int, str]:
    with pytest.raises(ConfigError) as info:
        load_site(path)
    [problem] = info.value.problems
    assert "\n" not in problem.message
    return problem.line, problem.col, problem.message


def test_billion_laughs_rejected_before_expansion(tmp_path: Path) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 10)]
    start = time.monotonic()
    line, col, message = only_error(write_site(tmp_path, "s", IMAGE + "\n".join(lines) + "\n"))
    assert time.monotonic() - start < 2
    assert "alias bomb" in message and line > 4


def test_too_many_aliases(tmp_path: Path) -> None:
    text = IMAGE + "x: &x 1\ny: [" + ", ".join(["*x"] * 300) + "]\n"
    assert "aliases" in only_error(write_site(tmp_path, "s", text))[2]


def test_small_anchor_reuse_is_still_fine(tmp_path: Path) -> None:
    text = IMAGE + "extra_values:\n  a: &v {x: 1}\n  b: *v\n"
    assert load_site(write_site(tmp_path, "s", text)).config.extra_values == {
        "a": {"x": 1},
        "b": {"x": 1},
    }


def test_deep_nesting(tmp_path: Path) -> None:
    text = IMAGE + "extra_values: " + "[" * 5000 + "]" * 5000 + "\n"
    line, col, message = only_error(write_site(tmp_path, "s", text))
    assert line == 5 and "nested deeper" in message


def test_merge_key_rejected(tmp_path: Path) -> None:
    text = IMAGE + "base: &b {x: 1}\nextra_values:\n  <<: *b\n"
    assert only_error(write_site(tmp_path, "s", text)) == (
        7,
        3,
        "merge keys ('<<') are not supported; write the keys out",
    )


def test_duplicate_key_names_the_key_only(tmp_path: Path) -> None:
    text = IMAGE + "extra_values:\n  password: hunter2-secret\n  password: other-secret\n"
    line, col, message = only_error(write_site(tmp_path, "s", text))
    assert (line, col) == (7, 3) and "'password'" in message
    assert "hunter2" not in message and "other-secret" not in message


def test_tab_indentation(tmp_path: Path) -> None:
    text = IMAGE + "ingress:\n\thost: a\n"
    assert only_error(write_site(tmp_path, "s", text)) == (
        6,
        1,
        "tab character in indentation; indent with spaces",
    )


def test_second_document_points_at_it(tmp_path: Path) -> None:
    line, _, message = only_error(write_site(tmp_path, "s", IMAGE + "---\nnamespace: x\n"))
    assert line == 5 and "one YAML document" in message


def test_leading_document_marker_is_fine(tmp_path: Path) -> None:
    assert load_site(write_site(tmp_path, "s", "---\n" + IMAGE)).name == "s"


def test_size_cap(tmp_path: Path) -> None:
    text = IMAGE + "# " + "x" * MAX_SITE_BYTES + "\n"
    assert "larger than" in only_error(write_site(tmp_path, "s", text))[2]


def test_non_utf8_has_line(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_bytes(IMAGE.encode() + b"\n\nnamespace: \xc3\x28\n")
    assert only_error(path) == (7, 1, "file is not valid UTF-8")


def test_control_character_has_position(tmp_path: Path) -> None:
    line, col, message = only_error(write_site(tmp_path, "s", IMAGE + "namespace: a\x00b\n"))
    assert (line, col) == (5, 13) and "not allowed" in message


def test_huge_integer(tmp_path: Path) -> None:
    line, col, message = only_error(write_site(tmp_path, "s", IMAGE + "x: " + "9" * 5000 + "\n"))
    assert (line, col) == (5, 4) and "too large" in message


def test_tree_duplicate_key_message_hides_values(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text(
        "apiVersion: v1\nkind: Secret\nstringData:\n  token: s3cr3t-one\n  token: s3cr3t-two\n"
    )
    with pytest.raises(ProblemsError) as info:
        load_tree(tmp_path)
    [problem] = info.value.problems
    assert problem.message == "duplicate key 'token'" and (problem.line, problem.col) == (5, 3)


def test_position_of_inserted_keys_falls_back_to_parent() -> None:
    doc = yamlio.load_roundtrip("a:\n  b: 1\nc: [1]\n")
    doc["a"]["new"] = {"deeper": 1}
    doc["c"].append(2)
    assert yamlio.position_of(doc, ["a", "new", "deeper"]) == (1, 1)
    assert yamlio.position_of(doc, ["a", "new"], value=True) == (1, 1)
    assert yamlio.position_of(doc, ["c", 1]) == (3, 1)


@pytest.mark.parametrize("value", ["+_", "-_", "0x_", "0b_", "0o_"])
def test_broken_numbers_are_input_errors(tmp_path: Path, value: str) -> None:
    message = only_error(write_site(tmp_path, "s", IMAGE + f"x: {value}\n"))[2]
    assert "looks like a number" in message


def test_gitops_source_name_cannot_inject_yaml(tmp_path: Path) -> None:
    """Found by `make fuzz`: a quote in gitops.source broke the rendered Kustomization."""
    line, col, message = only_error(write_site(tmp_path, "s", IMAGE + 'gitops:\n  source: "\'"\n'))
    assert (line, col) == (6, 11) and "not the name of a GitRepository" in message
