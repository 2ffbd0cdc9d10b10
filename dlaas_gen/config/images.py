"""Single-user images: the ones this site builds (``images:``) and how profiles name an image.

Why: the rendered deployment calls into the user's image (the Rucio JupyterLab extension reads
its server config, ``datalakectl`` imports the Rucio client, the token renewer runs with
``python3``); a stock image carries none of that. A site either builds its images here, from a
pinned base with pinned packages, or names an external image and declares what it provides, so
the checks in `dlaas_gen.config.checks.images` can refuse an image that lacks what the site
enables.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Discriminator, Field, Tag

from dlaas_gen.config.base import Image, StrictModel
from dlaas_gen.names import DnsLabel

#: ``<repository>:<tag>`` optionally followed by ``@sha256:<digest>``; the repository may name
#: a registry with a port (``host:5000/x``), so the tag is what follows the last ``:``.
BASE_REF = re.compile(
    r"^(?P<repository>[a-z0-9]([a-z0-9._/:-]*[a-z0-9])?)"
    r":(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})"
    r"(@sha256:(?P<digest>[a-f0-9]{64}))?$"
)
REGISTRY = re.compile(
    r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?(/[a-z0-9]([a-z0-9._-]*[a-z0-9])?)*$"
)
#: A PEP 508 name (extras allowed) pinned to one version with ``==`` (PEP 440 characters).
PIP_PIN = re.compile(
    r"^(?P<name>[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?)(\[[A-Za-z0-9._,-]+\])?"
    r"==(?P<version>[A-Za-z0-9][A-Za-z0-9.+!_-]*)$"
)
#: A conda match spec pinned to a version: ``name=version`` or ``name==version``.
CONDA_PIN = re.compile(r"^(?P<name>[a-z0-9_][a-z0-9._-]*)==?(?P<version>[0-9][A-Za-z0-9._+!-]*)$")

Family = Literal["docker-stacks", "alma9"]
PythonVersion = Literal["3.11", "3.12", "3.13"]
Capability = Literal["rucio-extension", "rucio-client", "python3"]

#: Python versions AlmaLinux 9 AppStream ships besides the OS ``python3`` (3.9).
ALMA9_PYTHONS = ("3.11", "3.12")
DEFAULT_FAMILY: Family = "docker-stacks"
DEFAULT_PYTHON: PythonVersion = "3.12"


def normalize_name(name: str) -> str:
    """PEP 503 normalized project name (``Rucio_JupyterLab`` → ``rucio-jupyterlab``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _check_base(value: str) -> str:
    if value.startswith("latest") or ":latest@" in value or value.endswith(":latest"):
        raise ValueError("base image tag 'latest' is not pinned; use a version tag and @sha256:...")
    if not BASE_REF.fullmatch(value):
        raise ValueError(
            f"{value!r} is not '<repository>:<tag>@sha256:<64 hex>' (or '<repository>:<tag>')"
        )
    return value


def _check_pip(value: str) -> str:
    if not PIP_PIN.fullmatch(value):
        raise ValueError(f"{value!r} is not a pinned Python package ('name==version')")
    return value


def _check_conda(value: str) -> str:
    if not CONDA_PIN.fullmatch(value):
        raise ValueError(f"{value!r} is not a pinned conda-forge package ('name=version')")
    return value


def _check_registry(value: str) -> str:
    if not REGISTRY.fullmatch(value):
        raise ValueError(f"{value!r} is not a registry path (e.g. registry.example.org/dlaas)")
    return value


BaseRef = Annotated[str, AfterValidator(_check_base)]
PipPin = Annotated[str, AfterValidator(_check_pip)]
CondaPin = Annotated[str, AfterValidator(_check_conda)]
RegistryPath = Annotated[str, AfterValidator(_check_registry)]


class BuildImage(StrictModel):
    """An image this site builds: a pinned base (or another image of the site) plus packages.

    Why: ``render`` writes its build context to ``rendered/<site>/images/<name>/`` and tags it
    with the digest of that context, so a change of packages is a new tag that CI builds and
    Flux rolls out; the same context always gives the same tag.
    """

    base: BaseRef | None = Field(
        default=None,
        description="Image to build on, pinned: `<repository>:<tag>@sha256:<digest>` (a tag "
        "alone is a warning). For `docker-stacks`, `quay.io/jupyter/docker-stacks-foundation`, as "
        "the Rucio extension's own Dockerfile; for `alma9`, `docker.io/library/almalinux:9`. Not "
        "with `from`.",
    )
    from_: DnsLabel | None = Field(
        default=None, alias="from",
        description="Build on another image of this site (its family, Python, packages and "
        "registry are inherited); its tag is part of this context, so a change of it changes "
        "this image's tag too. Not with `base`.",
    )
    family: Family | None = Field(
        default=None,
        description="`docker-stacks` (conda base environment, user jovyan) or `alma9` "
        "(AlmaLinux 9, Python from AppStream in a venv). Default: the parent's, else "
        "`docker-stacks`.",
    )
    python: PythonVersion | None = Field(
        default=None,
        description="Python version of the image (`X.Y`), checked when the image is built and "
        "used to resolve `pip`. Default: the parent's, else 3.12 (`alma9`: 3.11 or 3.12).",
    )
    pip: list[PipPin] = Field(
        default_factory=list,
        description="Python packages, each pinned `name==version` (PyPI): for the Rucio panel "
        "`rucio-jupyterlab`, for `datalakectl` `rucio-clients`, and `jupyterhub` for "
        "`jupyterhub-singleuser`, the command the chart starts.",
    )
    conda: list[CondaPin] = Field(
        default_factory=list,
        description="conda-forge packages, each pinned `name=version` (`docker-stacks` only), "
        "e.g. `root=6.32.8`.",
    )
    registry: RegistryPath | None = Field(
        default=None,
        description="Where CI pushes the image (`<registry>/<name>:<tag>`). Default: the parent's.",
    )
    description: str = Field(default="", description="One line for the context's README.")


class BuiltImageRef(StrictModel):
    """A profile's image built by this site (``image: {build: <name>}``)."""

    build: DnsLabel = Field(description="Name of an entry of `images:`.")


class ExternalImage(Image):
    """An image built elsewhere, with what it carries for the rendered deployment."""

    provides: list[Capability] = Field(
        default_factory=list,
        description="What the image carries: `rucio-extension` (rucio-jupyterlab, needed with "
        "`rucio:`), `rucio-client` (rucio-clients, needed with `upload:`), `python3` (on PATH, "
        "needed for the token renewer with `auth:`).",
    )


def _image_kind(value: Any) -> str:
    if isinstance(value, dict):
        return "built" if "build" in value else "external"
    return "built" if isinstance(value, BuiltImageRef) else "external"


#: Why the tags are not key names: the loader drops error-path elements that are not in the
#: data (union tags), so a tag equal to a real key (``build``) would stay in the located path.
NotebookImage = Annotated[
    Annotated[BuiltImageRef, Tag("built")] | Annotated[ExternalImage, Tag("external")],
    Discriminator(_image_kind),
]


@dataclass(frozen=True)
class ResolvedImage:
    """A built image with what it inherits from the images it is built on.

    Attributes:
        name: the key under ``images:``.
        parent: the image it is built ``from``, None when built on `base`.
        family: the Dockerfile family.
        python: ``X.Y`` of the image's Python.
        registry: where CI pushes it.
        pip: every pinned Python package of the image (the parent's first, then its own).
        conda: its own conda-forge packages (the parent's are in the parent's layers).
        level: 0 for an image on a base, parent's level + 1 otherwise (CI builds by level).
        provides: what the image carries for the rendered deployment.
    """

    name: str
    parent: str | None
    family: str
    python: str
    registry: str
    pip: tuple[str, ...]
    conda: tuple[str, ...]
    level: int
    provides: frozenset[str] = field(default_factory=frozenset)

    @property
    def repository(self) -> str:
        """``<registry>/<name>``."""
        return f"{self.registry}/{self.name}"


def pip_names(pins: Iterable[str]) -> dict[str, str]:
    """``{normalized name: version}`` of pinned Python packages."""
    out = {}
    for pin in pins:
        match = PIP_PIN.fullmatch(pin)
        if match:
            out[normalize_name(match["name"])] = match["version"]
    return out


def chain(images: Mapping[str, BuildImage], name: str) -> list[str] | None:
    """`name` and the images it is built on, nearest first; None for an unknown name or a loop."""
    out: list[str] = []
    current: str | None = name
    while current is not None:
        if current not in images or current in out:
            return None
        out.append(current)
        current = images[current].from_
    return out


def resolve_images(images: Mapping[str, BuildImage]) -> dict[str, ResolvedImage]:
    """Every image with its inherited settings, parents before children (then by name).

    Only images whose chain is complete are returned (the checks report the others).
    """
    resolved: dict[str, ResolvedImage] = {}
    for name in sorted(images, key=lambda n: (len(chain(images, n) or []), n)):
        links = chain(images, name)
        if links is None:
            continue
        own = images[name]
        parent = resolved.get(own.from_) if own.from_ else None
        if own.from_ and parent is None:
            continue
        family = own.family or (parent.family if parent else DEFAULT_FAMILY)
        python = own.python or (parent.python if parent else DEFAULT_PYTHON)
        registry = own.registry or (parent.registry if parent else "")
        pins = [*(parent.pip if parent else ()), *own.pip]
        names = pip_names(pins)
        provides = {"python3"}
        if "rucio-jupyterlab" in names:
            provides.add("rucio-extension")
        if "rucio-clients" in names:
            provides.add("rucio-client")
        resolved[name] = ResolvedImage(
            name=name, parent=own.from_, family=family, python=python, registry=registry,
            pip=tuple(dict.fromkeys(pins)), conda=tuple(own.conda),
            level=len(links) - 1, provides=frozenset(provides),
        )
    return resolved
