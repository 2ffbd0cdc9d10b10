from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dlaas_gen.commands.diff import diff_dirs, render_markdown, render_text
from dlaas_gen.commands.diff.limit import Block, cut_bytes, fit, size
from tests.support import diff_fixtures as fx


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    old, new = fx.write_pair(tmp_path_factory.mktemp("pair"))
    return diff_dirs(old, new)


def test_full_markdown_is_untouched_when_under_limit(result):
    full = render_markdown(result)
    assert render_markdown(result, limit_bytes=size(full)) == full
    assert "Truncated" not in full


@pytest.mark.parametrize("limit", [1, 10, 100, 300, 1000, 2500, 4000, 6000, 9000])
def test_markdown_limit_is_exact(result, limit):
    full = render_markdown(result)
    out = render_markdown(result, limit_bytes=limit)
    assert size(out) <= limit
    assert out != full
    if limit >= 300:
        assert f"Truncated to {limit} bytes" in out


def test_markdown_limit_keeps_summary_and_closes_sections(result):
    full = render_markdown(result)
    limit = size(full) // 2
    out = render_markdown(result, limit_bytes=limit)
    assert "| Change | Resource | File |" in out
    assert "#### Needs attention" in out
    assert out.count("<details>") == out.count("</details>")
    assert out.count("```") % 2 == 0
    assert "section(s) omitted" in out


def test_one_byte_below_full_size(result):
    full = render_markdown(result)
    out = render_markdown(result, limit_bytes=size(full) - 1)
    assert size(out) <= size(full) - 1 and "Truncated" in out


def test_text_limit(result):
    out = render_text(result, limit_bytes=1500)
    assert size(out) <= 1500
    assert "[truncated to 1500 bytes" in out


def test_cut_bytes_never_splits_characters():
    assert cut_bytes("aé→b", 2) == "a"
    assert cut_bytes("aé→b", 3) == "aé"


@settings(max_examples=200, deadline=None)
@given(
    head=st.text(min_size=0, max_size=80),
    bodies=st.lists(st.lists(st.text(max_size=30), max_size=6), max_size=5),
    limit=st.integers(min_value=1, max_value=600),
)
def test_fit_never_exceeds_limit(head, bodies, limit):
    blocks = [Block("<o>\n", tuple(line + "\n" for line in body), "</o>\n") for body in bodies]

    def note(omitted, cut):
        return f"\n[omitted {omitted}, cut {cut}] é\n"

    out = fit(head, blocks, limit, note)
    assert size(out) <= limit
    full = head + "".join(b.text for b in blocks)
    if size(full) <= limit:
        assert out == full
