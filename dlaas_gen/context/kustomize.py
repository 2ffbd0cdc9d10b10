"""The ``kustomization.yaml`` of every rendered folder, listing its files.

Why the last component: it lists the files of every object the others added, the Flux
Kustomizations included.
"""

from __future__ import annotations

from dlaas_gen.context.model import SiteContext, SiteInput
from dlaas_gen.context.template_vars import FolderIndexVars

INDEX_FILE = "kustomization.yaml"


def contribute(site: SiteInput, out: SiteContext) -> None:  # noqa: ARG001 - the component signature
    """Add a ``kustomization.yaml`` to every folder, listing its files in sorted order."""
    for folder in sorted({o.folder for o in out.objects}):
        files = sorted(o.path.split("/", 1)[1] for o in out.objects if o.folder == folder)
        out.add(folder, (), FolderIndexVars(resources=files), filename=INDEX_FILE)
