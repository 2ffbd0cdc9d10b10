"""Rules of single-user images: built images are complete, every image carries what is called.

Why: the rendered config only works in an image that has what it calls: the Rucio extension
reads ``rucio:``'s server config, ``datalakectl`` (``upload:``) imports the Rucio client, and the
token renewer (``auth:``) runs with ``python3``. An image built here is known from its packages;
an image built elsewhere must say what it provides. Each finding points at the line to change.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from dlaas_gen.config.checks.finding import Finding, Loc
from dlaas_gen.config.images import (
    ALMA9_PYTHONS,
    BASE_REF,
    PIP_PIN,
    BuildImage,
    BuiltImageRef,
    ExternalImage,
    ResolvedImage,
    chain,
    normalize_name,
    resolve_images,
)
from dlaas_gen.config.site import SiteConfig

#: docker-stacks images that ship Notebook 7 from conda (every ``jupyter/*-notebook``).
#: Why a warning: rucio-jupyterlab 41.0.0 declares ``notebook<7`` (``dependencies`` in its
#: pyproject.toml; its code imports nothing from ``notebook``), so pip replaces conda's Notebook 7
#: (and ``jupyter_client`` 8, as notebook 6.5 needs ``<8``) in such an image, and a later conda
#: install may put them back. The extension's own image (docker/container/Dockerfile) starts from
#: ``quay.io/jupyter/docker-stacks-foundation:python-3.12`` and pip-installs the extension, so the
#: resolver picks the Notebook 6.5 set with no conda package to replace; the examples do the same.
NOTEBOOK7_STACKS = re.compile(r"(^|/)jupyter/[a-z0-9-]+-notebook$")
#: The Python distribution behind each capability (for messages about built images).
CARRIED_BY = {
    "rucio-extension": "rucio-jupyterlab",
    "rucio-client": "rucio-clients",
    "python3": "python3",
}


def needed(site: SiteConfig) -> list[tuple[str, str]]:
    """What every single-user image must carry for this site: (capability, why)."""
    out = []
    if site.rucio is not None:
        out.append(("rucio-extension", "`rucio:` configures the Rucio JupyterLab extension"))
    if site.upload is not None:
        out.append(("rucio-client",
                    "`upload:` installs datalakectl, which imports the Rucio client"))
    if site.auth is not None:
        out.append(("python3", "`auth:` starts the token renewer with python3"))
    return out


def _pins(pins: Iterable[str]) -> list[tuple[str, str]]:
    """(normalized name, version) of each pin, in order."""
    out = []
    for pin in pins:
        match = PIP_PIN.fullmatch(pin)
        if match:
            out.append((normalize_name(match["name"]), match["version"]))
    return out


def _definition(name: str, image: BuildImage, images: dict[str, BuildImage]) -> Iterator[Finding]:
    """One image on its own: a base or a parent, a pinned base, no package pinned twice."""
    loc: Loc = ("images", name)
    if image.base is not None and image.from_ is not None:
        yield ((*loc, "from"), "error", f"image {name!r} sets both `base` and `from`; keep one")
    elif image.base is None and image.from_ is None:
        yield (loc, "error", f"image {name!r} needs `base` (a pinned image) or `from` "
               "(another image of this site)")
    if image.from_ is not None and image.from_ not in images:
        yield ((*loc, "from"), "error", f"`from: {image.from_}` names no image of this site "
               f"({', '.join(sorted(images))})")
    elif image.from_ is not None and chain(images, name) is None:
        yield ((*loc, "from"), "error", f"image {name!r} is built on itself (a `from` loop)")
    match = BASE_REF.fullmatch(image.base or "")
    if match and match["digest"] is None:
        yield ((*loc, "base"), "warning", f"base {image.base} is pinned to a tag only; the tag "
               "can move under the same context: add @sha256:<digest>")
    seen: dict[str, int] = {}
    for index, (pkg, _version) in enumerate(_pins(image.pip)):
        if pkg in seen:
            yield ((*loc, "pip", index), "error", f"{pkg} is pinned twice in image {name!r} "
                   f"(item #{seen[pkg] + 1})")
        seen.setdefault(pkg, index)


def _inherited(image: ResolvedImage, own: BuildImage, parent: ResolvedImage) -> Iterator[Finding]:
    """An image built `from` another agrees with it (family, Python, package versions)."""
    loc: Loc = ("images", image.name)
    if own.family is not None and own.family != parent.family:
        yield ((*loc, "family"), "error", f"image {image.name!r} is built on {parent.name!r} "
               f"({parent.family}); it cannot be {own.family}")
    if own.python is not None and own.python != parent.python:
        yield ((*loc, "python"), "error", f"image {image.name!r} is built on {parent.name!r}, "
               f"whose Python is {parent.python}")
    parent_pins = dict(_pins(parent.pip))
    for index, (pkg, version) in enumerate(_pins(own.pip)):
        if parent_pins.get(pkg, version) != version:
            yield ((*loc, "pip", index), "error", f"{pkg} is pinned to {parent_pins[pkg]} by "
                   f"{parent.name!r}, which this image is built on")


def _family(image: ResolvedImage, own: BuildImage) -> Iterator[Finding]:
    """What the image's family can do, and the Notebook 7 conflict of docker-stacks bases."""
    loc: Loc = ("images", image.name)
    if image.family == "alma9":
        if own.conda:
            yield ((*loc, "conda"), "error", "conda packages need the docker-stacks family "
                   "(AlmaLinux 9 images have no conda)")
        if image.python not in ALMA9_PYTHONS:
            where = (*loc, "python") if own.python else (*loc, "family")
            yield (where, "error", f"AlmaLinux 9 AppStream ships Python "
                   f"{' and '.join(ALMA9_PYTHONS)}, not {image.python}")
    match = BASE_REF.fullmatch(own.base or "")
    if (image.family == "docker-stacks" and match and "rucio-extension" in image.provides
            and NOTEBOOK7_STACKS.search(match["repository"])):
        yield ((*loc, "base"), "warning", f"{match['repository']} ships Notebook 7 from conda "
               "while rucio-jupyterlab requires notebook<7: pip would replace conda's packages; "
               "start from quay.io/jupyter/docker-stacks-foundation as the extension's own "
               "Dockerfile does")


def check_built_images(site: SiteConfig) -> Iterator[Finding]:
    """Each image under ``images:`` can be built and is complete."""
    for name, image in site.images.items():
        yield from _definition(name, image, dict(site.images))
    resolved = resolve_images(site.images)
    for name, built in resolved.items():
        own = site.images[name]
        parent = resolved.get(built.parent) if built.parent else None
        if parent is not None:
            yield from _inherited(built, own, parent)
        yield from _family(built, own)
        if not built.registry:
            yield (("images", name), "error",
                   f"image {name!r} needs `registry` (where CI pushes it)")


def check_image_refs(site: SiteConfig) -> Iterator[Finding]:
    """Rule: every single-user image carries what the site enables (built here, or `provides`)."""
    resolved = resolve_images(site.images)
    wanted = needed(site)
    uses: list[tuple[Loc, object]] = [(("singleuser", "image"), site.singleuser.image)]
    uses += [(("profiles", index, "image"), p.image) for index, p in enumerate(site.profiles)
             if p.image is not None]
    for loc, image in uses:
        if isinstance(image, BuiltImageRef):
            yield from _built_ref(loc, image, site, resolved, wanted)
        elif isinstance(image, ExternalImage):
            missing = [(c, why) for c, why in wanted if c not in image.provides]
            if missing:
                where = (*loc, "provides") if image.provides else loc
                yield (where, "error", f"image {image.ref()} is not built here and does not "
                       f"declare {', '.join(c for c, _ in missing)} in `provides` "
                       f"({'; '.join(why for _, why in missing)}): build it under `images:` and "
                       "use `{build: <name>}`, or declare what it carries")


def _built_ref(loc: Loc, image: BuiltImageRef, site: SiteConfig, resolved: dict[str, ResolvedImage],
               wanted: list[tuple[str, str]]) -> Iterator[Finding]:
    if image.build not in site.images:
        yield ((*loc, "build"), "error", f"`build: {image.build}` names no entry of `images:` "
               f"({', '.join(sorted(site.images)) or 'none'})")
        return
    built = resolved.get(image.build)
    if built is None:
        return  # the image's own findings say why it cannot be built
    for capability, why in wanted:
        if capability not in built.provides:
            yield ((*loc, "build"), "error", f"image {image.build!r} does not install "
                   f"{CARRIED_BY[capability]}, and {why}: add it to images.{image.build}.pip")
