"""Rules of single-user images: built images are complete, every image carries what is called.

Why: the rendered config only works in an image that has what it calls: the Rucio extension
reads ``rucio:``'s server config, ``datalakectl`` (``upload:``) imports the Rucio client, and the
token renewer (``auth:``) runs with ``python3``. An image built here is known from its packages;
an image built elsewhere must say what it provides. Each finding points at the line to change.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from dlaas_gen.config.checks import Finding, Loc, check
from dlaas_gen.config.images import (
    ALMA9_PYTHONS,
    BASE_REF,
    BuiltImageRef,
    ExternalImage,
    PIP_PIN,
    chain,
    normalize_name,
    resolve_images,
)
from dlaas_gen.config.site import SiteConfig

#: docker-stacks images that ship Notebook 7 from conda (every ``jupyter/*-notebook``).
NOTEBOOK7_STACKS = re.compile(r"(^|/)jupyter/[a-z0-9-]+-notebook$")
#: Which Python distribution carries each capability (for messages about built images).
CARRIED_BY = {"rucio-extension": "rucio-jupyterlab", "rucio-client": "rucio-clients", "python3": "python3"}


def needed(site: SiteConfig) -> list[tuple[str, str]]:
    """What every single-user image must carry for this site: (capability, why)."""
    out = []
    if site.rucio is not None:
        out.append(("rucio-extension", "`rucio:` configures the Rucio JupyterLab extension"))
    if site.upload is not None:
        out.append(("rucio-client", "`upload:` installs datalakectl, which imports the Rucio client"))
    if site.auth is not None:
        out.append(("python3", "`auth:` starts the token renewer with python3"))
    return out


@check
def _check_built_images(site: SiteConfig) -> Iterator[Finding]:
    images = site.images
    for name, image in images.items():
        loc: Loc = ("images", name)
        if image.base is not None and image.from_ is not None:
            yield ((*loc, "from"), "error", f"image {name!r} sets both `base` and `from`; keep one")
        elif image.base is None and image.from_ is None:
            yield (loc, "error", f"image {name!r} needs `base` (a pinned image) or `from` "
                   "(another image of this site)")
        if image.from_ is not None:
            if image.from_ not in images:
                yield ((*loc, "from"), "error", f"`from: {image.from_}` names no image of this site "
                       f"({', '.join(sorted(images)) or 'none'})")
            elif chain(images, name) is None:
                yield ((*loc, "from"), "error", f"image {name!r} is built on itself (a `from` loop)")
        if image.base is not None:
            match = BASE_REF.match(image.base)
            if match and match["digest"] is None:
                yield ((*loc, "base"), "warning", f"base {image.base} is pinned to a tag only; the "
                       "tag can move under the same context: add @sha256:<digest>")
        yield from _check_pins(name, image.pip, loc)
    resolved = resolve_images(images)
    for name, image in resolved.items():
        loc = ("images", name)
        own = images[name]
        parent = resolved.get(image.parent) if image.parent else None
        if parent is not None:
            if own.family is not None and own.family != parent.family:
                yield ((*loc, "family"), "error", f"image {name!r} is built on {parent.name!r} "
                       f"({parent.family}); it cannot be {own.family}")
            if own.python is not None and own.python != parent.python:
                yield ((*loc, "python"), "error", f"image {name!r} is built on {parent.name!r}, "
                       f"whose Python is {parent.python}")
            parent_pins = {n: v for n, v in _pins(parent.pip)}
            for index, (pkg, version) in enumerate(_pins(own.pip)):
                if pkg in parent_pins and parent_pins[pkg] != version:
                    yield ((*loc, "pip", index), "error", f"{pkg} is pinned to "
                           f"{parent_pins[pkg]} by {parent.name!r}, which this image is built on")
        if image.family == "alma9":
            if own.conda:
                yield ((*loc, "conda"), "error", "conda packages need the docker-stacks family "
                       "(AlmaLinux 9 images have no conda)")
            if image.python not in ALMA9_PYTHONS:
                where = (*loc, "python") if own.python else (*loc, "family")
                yield (where, "error", f"AlmaLinux 9 AppStream ships Python {' and '.join(ALMA9_PYTHONS)}"
                       f", not {image.python}")
        if not image.registry:
            yield (loc, "error", f"image {name!r} needs `registry` (where CI pushes it)")
        match = BASE_REF.match(own.base or "")
        if (image.family == "docker-stacks" and match and NOTEBOOK7_STACKS.search(match["repository"])
                and "rucio-extension" in image.provides):
            yield ((*loc, "base"), "warning", f"{match['repository']} ships Notebook 7 from conda "
                   "while rucio-jupyterlab requires notebook<7: pip would replace conda's packages; "
                   "start from quay.io/jupyter/docker-stacks-foundation as the extension's own "
                   "Dockerfile does")


def _pins(pins: tuple[str, ...] | list[str]) -> list[tuple[str, str]]:
    out = []
    for pin in pins:
        match = PIP_PIN.match(pin)
        if match:
            out.append((normalize_name(match["name"]), match["version"]))
    return out


def _check_pins(name: str, pins: list[str], loc: Loc) -> Iterator[Finding]:
    seen: dict[str, int] = {}
    for index, (pkg, _version) in enumerate(_pins(pins)):
        if pkg in seen:
            yield ((*loc, "pip", index), "error", f"{pkg} is pinned twice in image {name!r} "
                   f"(item #{seen[pkg] + 1})")
        seen.setdefault(pkg, index)


@check
def _check_image_refs(site: SiteConfig) -> Iterator[Finding]:
    """Rule: every single-user image carries what the site enables (built here, or `provides`)."""
    resolved = resolve_images(site.images)
    wanted = needed(site)
    uses: list[tuple[Loc, object]] = [(("singleuser", "image"), site.singleuser.image)]
    uses += [(("profiles", index, "image"), p.image) for index, p in enumerate(site.profiles)
             if p.image is not None]
    for loc, image in uses:
        if isinstance(image, BuiltImageRef):
            if image.build not in site.images:
                yield ((*loc, "build"), "error", f"`build: {image.build}` names no entry of `images:` "
                       f"({', '.join(sorted(site.images)) or 'none'})")
                continue
            built = resolved.get(image.build)
            if built is None:
                continue  # its own findings say why
            for capability, why in wanted:
                if capability not in built.provides:
                    yield ((*loc, "build"), "error", f"image {image.build!r} does not install "
                           f"{CARRIED_BY[capability]}, and {why}: add it to images.{image.build}.pip")
        elif isinstance(image, ExternalImage):
            missing = [(c, why) for c, why in wanted if c not in image.provides]
            if missing:
                where = (*loc, "provides") if image.provides else loc
                yield (where, "error", f"image {image.ref()} is not built here and does not declare "
                       f"{', '.join(c for c, _ in missing)} in `provides` ({'; '.join(w for _, w in missing)})"
                       ": build it under `images:` and use `{build: <name>}`, or declare what it carries")
