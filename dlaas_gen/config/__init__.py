"""Typed site configuration (pydantic v2). See `SiteConfig`."""

from dlaas_gen.config.base import Image, Resources, SecretRef, StrictModel, Toleration
from dlaas_gen.config.site import SiteConfig

__all__ = ["Image", "Resources", "SecretRef", "SiteConfig", "StrictModel", "Toleration"]
