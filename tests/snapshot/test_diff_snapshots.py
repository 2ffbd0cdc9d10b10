"""Snapshots of the three diff formats on the tree pair covering every category."""

from __future__ import annotations

import pytest

from dlaas_gen.commands.diff import (
    compare_sides,
    load_dir,
    render_json,
    render_markdown,
    render_text,
)
from tests.support import diff_fixtures as fx


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    old_root, new_root = fx.write_pair(tmp_path_factory.mktemp("pair"))
    old, new = load_dir(old_root, side="old"), load_dir(new_root, side="new")
    old.label, new.label = "base:rendered/site-a", "working tree:rendered/site-a"
    return compare_sides(old, new)


def test_text(result, snapshot):
    assert render_text(result) == snapshot


def test_text_color(result, snapshot):
    assert render_text(result, color=True) == snapshot


def test_markdown(result, snapshot):
    assert render_markdown(result) == snapshot


def test_markdown_limited(result, snapshot):
    out = render_markdown(result, limit_bytes=7000)
    assert len(out.encode()) <= 7000
    assert out == snapshot


def test_json(result, snapshot):
    assert render_json(result) == snapshot
