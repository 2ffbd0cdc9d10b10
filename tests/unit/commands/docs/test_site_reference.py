"""The Markdown site reference: complete, from the model, and committed up to date."""

from __future__ import annotations

import pytest

from dlaas_gen.commands.docs import site_reference_markdown, walk_fields
from dlaas_gen.commands.docs.affects import affected_kinds
from dlaas_gen.config import SiteConfig
from tests.conftest import REPO


@pytest.fixture(scope="module")
def reference() -> str:
    """The reference generated from the example sites (rendering them takes a moment)."""
    return site_reference_markdown(REPO / "sites")


def test_committed_reference_is_up_to_date(reference: str) -> None:
    committed = (REPO / "docs/site-reference.md").read_text(encoding="utf-8")
    assert committed == reference, (
        "run `dlaas-gen schema --format markdown` and commit docs/site-reference.md"
    )


def test_every_field_is_documented_with_its_description(reference: str) -> None:
    text = reference
    for doc in walk_fields():
        assert f"`{doc.path}`" in text
        if doc.description:
            assert doc.description in text
    for name in SiteConfig.model_fields:
        assert f"## `{name}`" in text


def test_types_defaults_and_unions() -> None:
    docs = {d.key: d for d in walk_fields()}
    assert docs["gitops.interval"].type == "string (duration)"
    assert docs["gitops.interval"].default == '"10m"'
    assert docs["singleuser"].required
    assert docs["profiles[].slug"].loc == ("profiles", 0, "slug")
    assert docs["storage.pvc_name@static"].variant == "static"
    assert docs["storage.pvc_name@static"].parent == "storage"


def test_affects_is_found_by_rendering_the_examples() -> None:
    fields = walk_fields()
    affects = affected_kinds(fields, REPO / "sites")
    assert "HelmRelease" in affects["singleuser.image.tag"]
    assert affects["gitops.interval"] == ["Kustomization"]
    assert affects["kubernetes_version"] == []  # validation only
    assert "ConfigMap" in affects["profiles[].display_name"]
    assert set(affects["singleuser.image"]) <= set(affects["singleuser"])
