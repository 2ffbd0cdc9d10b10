"""`load_site(beside=True)`: the chart lock and the XCache origins file are read by the loader.

The later stages read no file; every problem with those files is reported here, at the line to
change (the site's ``chart.version``, or line 1 of the origins file).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dlaas_gen.errors import ConfigError
from dlaas_gen.loader import load_site
from dlaas_gen.origins_file import read_origins_file
from tests.conftest import REPO, write_site
from tests.support.xcache_sites import BASE, FIXED, position, site_with_lock

ESCAPE_ORIGINS = REPO / "sites" / "escape.origins.yaml"


def only_problem(path: Path):
    with pytest.raises(ConfigError) as info:
        load_site(path, beside=True)
    [problem] = info.value.problems
    return problem


def test_plain_load_reads_nothing_beside(tmp_path: Path) -> None:
    site = load_site(write_site(tmp_path, "s", BASE))  # no origins file: not needed here
    assert site.chart is None and site.cric_origins is None


def test_beside_reads_the_origins_file_and_the_vendored_chart(tmp_path: Path) -> None:
    site = load_site(site_with_lock(tmp_path), beside=True)
    assert site.cric_origins == read_origins_file(ESCAPE_ORIGINS).origins
    assert site.chart is not None
    assert (site.chart.chart, site.chart.version, site.chart.origin) == ("jupyterhub", "4.4.0",
                                                                         "vendored")
    assert "hub" in site.chart.defaults and site.chart.schema


def test_fixed_origin_cache_needs_no_origins_file(tmp_path: Path) -> None:
    assert load_site(write_site(tmp_path, "s", FIXED), beside=True).cric_origins is None


def test_missing_origins_file_is_reported_at_the_file(tmp_path: Path) -> None:
    problem = only_problem(write_site(tmp_path, "s", BASE))
    assert (problem.path, problem.line, problem.col, problem.rule) == (
        str(tmp_path / "s.origins.yaml"), 1, 1, "xcache-origins")
    assert problem.message == "missing: run `dlaas-gen cric sync` and commit the lock file"


def test_origins_file_of_other_settings_is_out_of_date(tmp_path: Path) -> None:
    path = site_with_lock(tmp_path, text=BASE.replace("schemes: [root, davs]", "schemes: [root]"))
    problem = only_problem(path)
    assert (problem.path, problem.line, problem.col) == (str(tmp_path / "s.origins.yaml"), 1, 1)
    assert problem.message == ("out of date with xcache.origins.cric (schemes or exclude_rses "
                               "changed): run `dlaas-gen cric sync s`")


def test_unlocked_chart_version_is_reported_at_the_site_line(tmp_path: Path) -> None:
    text = BASE.replace("singleuser:", "chart:\n  version: 4.3.9\nsingleuser:", 1)
    problem = only_problem(site_with_lock(tmp_path, text=text))
    assert (problem.path, problem.rule) == (str(tmp_path / "s.yaml"), "chart-lock")
    assert (problem.line, problem.col) == position(text, "4.3.9")
    assert problem.message.startswith("jupyterhub chart 4.3.9 is not locked (no charts/")
