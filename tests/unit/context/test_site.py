"""The component interface: every component is ``contribute(site, out)``, listed once, in order."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import typing

import dlaas_gen.context
from dlaas_gen.context import COMPONENTS, SiteContext, SiteInput, build_context
from dlaas_gen.loader import load_site
from tests.conftest import FIXTURES


def component_modules() -> dict[str, object]:
    """Every module of dlaas_gen.context that defines a ``contribute`` function."""
    found = {}
    for info in pkgutil.iter_modules(dlaas_gen.context.__path__, "dlaas_gen.context."):
        module = importlib.import_module(info.name)
        if inspect.isfunction(getattr(module, "contribute", None)):
            found[info.name] = module
    return found


def test_every_component_has_the_one_signature() -> None:
    for component in COMPONENTS:
        hints = typing.get_type_hints(component)
        assert component.__name__ == "contribute", component
        params = list(inspect.signature(component).parameters)
        assert params == ["site", "out"], component.__module__
        assert [hints[p] for p in params] == [SiteInput, SiteContext], component.__module__
        assert hints["return"] is type(None), component.__module__


def test_every_component_module_is_listed_once() -> None:
    listed = [component.__module__ for component in COMPONENTS]
    assert len(listed) == len(set(listed))
    assert set(listed) == set(component_modules())


def test_images_come_first_and_the_folder_indexes_last() -> None:
    listed = [component.__module__.rsplit(".", 1)[1] for component in COMPONENTS]
    assert listed[0] == "images"  # their tags are named by the hub values
    # The hub's objects take the finished values: after every component that contributes them.
    assert listed.index("jupyterhub") > max(listed.index(n) for n in (
        "hub_base", "auth", "eos", "scratch", "notebook", "xcache", "network"))
    assert listed[-2:] == ["flux", "kustomize"]  # they list what the others added


def test_build_context_runs_the_components_in_order(monkeypatch) -> None:
    site = load_site(FIXTURES / "sites" / "minimal.yaml")
    calls: list[str] = []

    def spy(name: str):
        def component(site: SiteInput, out: SiteContext) -> None:
            calls.append(name)
            assert out.site == site.name
        return component

    monkeypatch.setattr("dlaas_gen.context.site.COMPONENTS", (spy("a"), spy("b"), spy("c")))
    out = build_context(SiteInput(site.name, site.config))
    assert calls == ["a", "b", "c"] and out.objects == []
