"""Assemble the context of a whole site from its components."""

from __future__ import annotations

from dlaas_gen.config import SiteConfig
from dlaas_gen.context.flux import add_flux, add_folder_indexes
from dlaas_gen.context.jupyterhub import add_jupyterhub, base_values
from dlaas_gen.context.model import SiteContext


def build_context(site_name: str, site: SiteConfig) -> SiteContext:
    """Compute every object of a site with its template variables.

    Order matters: components contribute to the hub values first, then the hub objects are
    built, then the Flux Kustomizations for the folders in use, then each folder's index.
    """
    ctx = SiteContext(site=site_name)
    hv = base_values(site)
    add_jupyterhub(ctx, site_name, site, hv)
    add_flux(ctx, site_name, site)
    add_folder_indexes(ctx)
    return ctx
