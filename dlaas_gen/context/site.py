"""Assemble the context of a whole site from its components.

Every component is a module with ``contribute(site: SiteInput, out: SiteContext) -> None``;
`COMPONENTS` lists them once, in the order they run.
"""

from __future__ import annotations

from collections.abc import Callable

from dlaas_gen.context import (
    auth,
    eos,
    flux,
    hub_base,
    images,
    jupyterhub,
    kustomize,
    network,
    notebook,
    scratch,
    xcache,
)
from dlaas_gen.context.model import SiteContext, SiteInput

#: What a component is: it reads the site and adds to the context.
Component = Callable[[SiteInput, SiteContext], None]

#: Every component, in order. Why the order: the image build contexts come first (their
#: digests are the tags the hub values name); then the hub's own values, and every component
#: that adds to them; then the hub's objects, which take the finished values; then the Flux
#: Kustomizations of the folders in use; then each folder's index, which lists them all.
COMPONENTS: tuple[Component, ...] = (
    images.contribute,
    hub_base.contribute,
    auth.contribute,
    eos.contribute,
    scratch.contribute,
    notebook.contribute,
    xcache.contribute,
    network.contribute,
    jupyterhub.contribute,
    flux.contribute,
    kustomize.contribute,
)


def build_context(site: SiteInput) -> SiteContext:
    """Compute every object of a site with its template variables (each component in turn)."""
    out = SiteContext(site=site.name)
    for component in COMPONENTS:
        component(site, out)
    return out
