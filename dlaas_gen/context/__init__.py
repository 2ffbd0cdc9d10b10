"""Build the render context of a site: every derived value, computed in Python.

Why: templates only substitute and loop; names, labels, image references, Helm values and file
lists are decided here, where they can be unit-tested, so no logic hides in Jinja.
"""

from __future__ import annotations

from dlaas_gen.context.model import (
    FOLDER_ORDER,
    ObjectSpec,
    SecretKeyUse,
    SiteContext,
    SiteInput,
)
from dlaas_gen.context.site import COMPONENTS, build_context

__all__ = [
    "COMPONENTS",
    "FOLDER_ORDER",
    "ObjectSpec",
    "SecretKeyUse",
    "SiteContext",
    "SiteInput",
    "build_context",
]
