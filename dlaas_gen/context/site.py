"""Assemble the context of a whole site from its components."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dlaas_gen.config import SiteConfig
from dlaas_gen.context.auth import add_auth
from dlaas_gen.context.eos import add_eos
from dlaas_gen.context.flux import add_flux, add_folder_indexes
from dlaas_gen.context.images import build_images
from dlaas_gen.context.jupyterhub import add_jupyterhub, base_values, pinned_chart_defaults
from dlaas_gen.context.model import SiteContext
from dlaas_gen.context.network import add_network
from dlaas_gen.context.notebook import add_notebook_files
from dlaas_gen.context.scratch import add_scratch
from dlaas_gen.context.xcache import add_xcache


def build_context(site_name: str, site: SiteConfig, sites_dir: Path | None = None,
                  chart_defaults: dict[str, Any] | None = None) -> SiteContext:
    """Compute every object of a site with its template variables.

    Order matters: the image build contexts come first (their digests are the tags the hub
    values name), components contribute to the hub values first, then the hub objects are
    built, then the Flux Kustomizations for the folders in use, then each folder's index.
    `sites_dir` is where lock files next to the site file are read (XCache origins);
    `chart_defaults` are the pinned chart's defaults (the locked or vendored ``values.yaml``;
    default: looked up beside `sites_dir`, the vendored version when that fails).
    """
    ctx = SiteContext(site=site_name)
    ctx.images = build_images(site_name, site)
    hv = base_values(site, ctx.images)
    add_auth(hv, site)
    add_eos(ctx, site_name, site, hv)
    add_scratch(ctx, site_name, site, hv)
    add_notebook_files(ctx, site_name, site, hv)
    add_xcache(ctx, site_name, site, hv, sites_dir)
    add_network(site_name, site, hv)
    if chart_defaults is None:
        chart_defaults = pinned_chart_defaults(site, sites_dir)
    add_jupyterhub(ctx, site_name, site, hv, chart_defaults)
    add_flux(ctx, site_name, site)
    add_folder_indexes(ctx)
    return ctx
