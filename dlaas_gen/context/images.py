"""Build contexts of the images a site builds, and the image references its profiles use.

Why: the tag of a built image is the digest of its rendered context (Dockerfile, requirements,
README), so the same context always gives the same tag, and any change of the context (its
packages, its base, or, through its ``FROM`` line and its requirements, the image it is built on)
gives a new tag. The contexts are therefore rendered here, before the hub values that name the
tags. They are written to ``images/<name>/`` beside the applied folders; no Flux Kustomization
points there and no ``kustomization.yaml`` lists them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from dlaas_gen.config.images import (
    BuiltImageRef,
    ExternalImage,
    normalize_name,
    pip_names,
    resolve_images,
)
from dlaas_gen.config.site import SiteConfig
from dlaas_gen.context.model import BuiltImage, SiteContext, SiteInput
from dlaas_gen.context.template_vars import ImageContextVars
from dlaas_gen.templating import render_text

TAG_PREFIX = "ctx-"
TAG_HEX_DIGITS = 16
DOCKERFILE = "Dockerfile"
REQUIREMENTS = "requirements.txt"
README = "README.md"
#: File of the context → its template (``{family}`` is the image's family).
TEMPLATES = {
    DOCKERFILE: "images/Dockerfile.{family}.j2",
    REQUIREMENTS: "images/requirements.txt.j2",
    README: "images/README.md.j2",
}
#: What each package must make importable, because the rendered deployment imports it: the
#: extension's server and kernel extension, datalakectl's client, the chart's start command, ROOT.
PIP_IMPORTS = {
    "jupyterhub": "jupyterhub.singleuser",
    "rucio-jupyterlab": "rucio_jupyterlab",
    "rucio-clients": "rucio.client",
}
CONDA_IMPORTS = {"root": "ROOT"}


def context_tag(files: Mapping[str, str]) -> str:
    """The tag of a context: a digest over its file names and contents, in name order."""
    digest = hashlib.sha256()
    for name in sorted(files):
        data = files[name].encode("utf-8")
        digest.update(f"{name}\0{len(data)}\0".encode())
        digest.update(data)
    return TAG_PREFIX + digest.hexdigest()[:TAG_HEX_DIGITS]


def _imports(pip: tuple[str, ...], conda: tuple[str, ...]) -> list[str]:
    modules = [PIP_IMPORTS[n] for n in pip_names(pip) if n in PIP_IMPORTS]
    for spec in conda:
        name = normalize_name(spec.split("=", 1)[0])
        if name in CONDA_IMPORTS:
            modules.append(CONDA_IMPORTS[name])
    return modules


def contribute(site: SiteInput, out: SiteContext) -> None:
    """Render the site's image build contexts (first: the hub values name their tags)."""
    out.images = build_images(site.name, site.config)


def build_images(site_name: str, site: SiteConfig) -> dict[str, BuiltImage]:
    """Render every build context of the site (parents first) and tag it with its digest."""
    built: dict[str, BuiltImage] = {}
    for name, image in resolve_images(site.images).items():
        own = site.images[name]
        parent = built.get(image.parent) if image.parent else None
        from_ref = parent.ref if parent is not None else own.base
        variables = ImageContextVars(
            site=site_name, name=name, repository=image.repository,
            description=own.description, family=image.family, from_ref=from_ref,
            parent=image.parent, python=image.python,
            python_tuple=", ".join(image.python.split(".")),
            pip=list(image.pip), conda=list(image.conda),
            imports=_imports(image.pip, image.conda),
        )
        files = {file: render_text(template.format(family=image.family), variables.variables())
                 for file, template in TEMPLATES.items()}
        built[name] = BuiltImage(name=name, repository=image.repository, tag=context_tag(files),
                                 parent=image.parent, level=image.level, python=image.python,
                                 files=files)
    return built


def image_name_tag(image: BuiltImageRef | ExternalImage,
                   built: Mapping[str, BuiltImage]) -> tuple[str, str]:
    """(repository, tag) of a single-user image, built here or external."""
    if isinstance(image, BuiltImageRef):
        target = built[image.build]
        return target.repository, target.tag
    return image.name, image.tag


def image_ref(image: BuiltImageRef | ExternalImage, built: Mapping[str, BuiltImage]) -> str:
    """``repository:tag`` of a single-user image (a profile's ``kubespawner_override.image``)."""
    name, tag = image_name_tag(image, built)
    return f"{name}:{tag}"

