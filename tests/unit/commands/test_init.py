from __future__ import annotations

from dlaas_gen.commands.init import example_names, site_text
from dlaas_gen.config import SiteConfig
from dlaas_gen.resources import examples_dir
from tests.conftest import REPO


def test_examples_are_the_repository_sites() -> None:
    assert examples_dir().resolve() == (REPO / "sites").resolve()
    assert {"demo", "escape"} <= set(example_names())


def test_top_level_keys_get_model_descriptions_once() -> None:
    text = site_text("x", "demo")
    lines = text.splitlines()
    index = lines.index("singleuser:")
    assert lines[index - 1] == f"# {SiteConfig.model_fields['singleuser'].description}"
    assert text.count(f"# {SiteConfig.model_fields['singleuser'].description}") == 1
