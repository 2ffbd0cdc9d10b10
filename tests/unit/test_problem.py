"""`Problem`: one-line formatting, and `reprefix`, the one place that renames a finding's file."""

from __future__ import annotations

from pathlib import Path

from dlaas_gen.problem import WARNING, Problem, reprefix

FOUND = Problem("apps/helmrelease.yaml", 7, 3, WARNING, "flux-schema", "spec.chart: missing")


def test_format_escapes_line_breaks() -> None:
    problem = Problem("s.yaml", 2, 0, rule="r", message="key 'a\nb'")
    assert problem.format() == "s.yaml:2:1: error: key 'a\\nb' [r]"


def test_reprefix_names_a_folder_finding_from_the_parent() -> None:
    moved = reprefix(FOUND, Path("rendered/escape"))
    assert moved == Problem("rendered/escape/apps/helmrelease.yaml", 7, 3, WARNING, "flux-schema",
                            "spec.chart: missing")
    assert moved.level == WARNING  # level does not take part in ==
    assert reprefix(FOUND, "out").path == "out/apps/helmrelease.yaml"


def test_reprefix_moves_a_scratch_copy_to_the_real_file() -> None:
    scratch = Path("/tmp/dlaas-gen-init-x/lab.yaml")
    found = Problem(str(scratch), 4, 16, rule="site-schema", message="m")
    assert reprefix(found, Path("sites/lab.yaml"), old=scratch) == Problem(
        "sites/lab.yaml", 4, 16, rule="site-schema", message="m")


def test_reprefix_moves_findings_inside_the_old_folder() -> None:
    found = Problem("/scratch/out/apps/x.yaml", 1, 1, rule="r")
    assert reprefix(found, "rendered/lab", old="/scratch/out").path == "rendered/lab/apps/x.yaml"


def test_reprefix_leaves_other_files_alone() -> None:
    other = Problem("/tmp/dlaas-gen-init-x/lab.origins.yaml", 1, 1, rule="xcache-origins")
    assert reprefix(other, "sites/lab.yaml", old="/tmp/dlaas-gen-init-x/lab.yaml") is other
