"""The documentation holds each fact once: generated parts are fresh, CI names are the real ones.

`make docs` builds the site with `mkdocs build --strict` (broken links, pages missing from the
navigation); these tests check what a build cannot: that the text agrees with the code.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from dlaas_gen.commands.docs.pages import BLOCKS, generated_blocks, refresh_page
from dlaas_gen.policy_catalog import RULES
from dlaas_gen.validate.tree_rules.secrets import SCAN_RULES
from tests.conftest import REPO

DOCS = REPO / "docs"
PAGES = sorted(DOCS.glob("*.md"))
README = REPO / "README.md"
RECIPES = [REPO / "ci/gitlab-ci.yml", REPO / "ci/github-actions.yml"]


def _prose() -> dict[Path, str]:
    """README and every page, without the generated site reference."""
    pages = [README, *(p for p in PAGES if p.name != "site-reference.md")]
    return {p: p.read_text(encoding="utf-8") for p in pages}


def test_generated_blocks_are_up_to_date() -> None:
    stale = [p.name for p in PAGES
             if generated_blocks(text := p.read_text(encoding="utf-8"))
             and refresh_page(text, REPO / "sites") != text]
    assert stale == [], "run `make docs-generated` and commit docs/"


def test_rule_tables_are_generated_blocks() -> None:
    security = (DOCS / "security.md").read_text(encoding="utf-8")
    assert {"policy-rules", "secret-scan-rules"} <= set(generated_blocks(security))
    ids = [r.id for r in RULES] + [rule_id for rule_id, _, _ in SCAN_RULES]
    row = re.compile(r"^\| `(" + "|".join(ids) + r")` \|", re.MULTILINE)
    for page, text in _prose().items():
        outside = re.sub(r"<!-- begin generated: (?:policy|secret-scan)-rules.*?"
                         r"<!-- end generated: [a-z-]+ -->", "", text, flags=re.DOTALL)
        assert row.findall(outside) == [], f"{page.name}: a rule table copied by hand"


def test_refresh_page_rewrites_only_between_markers() -> None:
    text = ("intro\n<!-- begin generated: policy-rules (note) -->\nold table\n"
            "<!-- end generated: policy-rules -->\noutro\n")
    fresh = refresh_page(text)
    assert fresh.startswith("intro\n<!-- begin generated: policy-rules (note) -->\n| Rule |")
    assert fresh.endswith("|\n<!-- end generated: policy-rules -->\noutro\n")
    assert "old table" not in fresh
    for rule in RULES:
        assert f"| `{rule.id}` | {rule.severity} | {rule.reason} |" in fresh
    assert refresh_page(fresh) == fresh


@pytest.mark.parametrize(("text", "message"), [
    ("<!-- begin generated: nope -->\n<!-- end generated: nope -->\n", "unknown generated block"),
    ("<!-- begin generated: policy-rules -->\nno end\n", "has no"),
])
def test_refresh_page_refuses_bad_markers(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        refresh_page(text)


def test_every_block_generator_is_used() -> None:
    used = {name for p in PAGES for name in generated_blocks(p.read_text(encoding="utf-8"))}
    assert used == set(BLOCKS)


# CI variables: the names the docs mention are the ones the recipes and the code use.
_CI_NAME = re.compile(r"\b(?:DLAAS_[A-Z0-9_]+|CI_[A-Z0-9_]+|GIT_[A-Z0-9_]+|GH_TOKEN|GITHUB_TOKEN"
                      r"|NO_COLOR)\b")


def _names_in(paths: list[Path]) -> set[str]:
    return {n for p in paths for n in _CI_NAME.findall(p.read_text(encoding="utf-8"))}


def test_ci_variable_names_in_docs_are_real() -> None:
    code = [*REPO.glob("dlaas_gen/**/*.py"), *REPO.glob("tests/**/*.py"), REPO / "Makefile"]
    known = _names_in(RECIPES) | _names_in(code)
    for page, text in _prose().items():
        unknown = sorted(set(_CI_NAME.findall(text)) - known)
        assert unknown == [], f"{page.name} names variables nothing reads or sets: {unknown}"


def _recipe_variables(recipe: Path) -> dict[str, object]:
    """Top-level ``variables:`` (GitLab) or ``env:`` (GitHub) of a recipe."""
    data = yaml.safe_load(recipe.read_text(encoding="utf-8"))
    return {**data.get("variables", {}), **data.get("env", {})}


def test_every_recipe_variable_is_documented() -> None:
    ci_page = (DOCS / "ci.md").read_text(encoding="utf-8")
    for recipe in RECIPES:
        used = set(re.findall(r"\$\{?(DLAAS_GEN_[A-Z0-9_]+)", recipe.read_text(encoding="utf-8")))
        for name in sorted(set(_recipe_variables(recipe)) | used):
            assert f"`{name}`" in ci_page, f"{recipe.name}: {name} is not described in docs/ci.md"


def test_diff_limit_in_docs_is_the_recipes_limit() -> None:
    limits = {str(_recipe_variables(r)["DLAAS_GEN_DIFF_LIMIT"]) for r in RECIPES}
    assert len(limits) == 1, f"the recipes disagree on DLAAS_GEN_DIFF_LIMIT: {limits}"
    for page, text in _prose().items():
        stated = set(re.findall(r"--limit-bytes[ =](\d+)", text))
        assert stated <= limits, f"{page.name} gives --limit-bytes {stated}, the recipes {limits}"


def test_no_promise_of_a_published_release() -> None:
    promise = re.compile(r"pip install (?:--\S+ )*dlaas-gen(?:==\S+)?(?:\s|$)|\bv0\.1\.0\b|"
                         r"dlaas-gen==\d")
    for page, text in _prose().items():
        assert promise.findall(text) == [], f"{page.name}: nothing is published yet"


def test_readme_is_short_and_links_every_page() -> None:
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 250
    for page in PAGES:
        assert f"(docs/{page.name}" in text, f"README.md does not link docs/{page.name}"
