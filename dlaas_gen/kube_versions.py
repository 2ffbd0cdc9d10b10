"""Kubernetes versions a site may target: those kubernetes-validate bundles schemas for.

Why: the site checks ``kubernetes_version`` when the file is loaded, and the validator picks
the schema set for it; both must agree on which versions exist, so the bundled set is read
here, below both of them. The set is the ``v<version>-local[-strict]`` folders of
kubernetes-validate's package data (what ``kubernetes_validate.utils.all_versions`` lists); a
version between two bundled ones is checked against the older one.
"""

from __future__ import annotations

import functools
import importlib.util
import re
from importlib import resources
from pathlib import Path

from packaging.version import Version

from dlaas_gen.errors import DlaasGenError

SCHEMA_FOLDER = "kubernetes-json-schema"


class UnsupportedKubeVersion(DlaasGenError):
    """A Kubernetes version that cannot be parsed, or is older than every bundled schema set."""


@functools.lru_cache(maxsize=1)
def schema_root() -> Path:
    """The folder of kubernetes-validate's bundled schemas (one sub-folder per version).

    Why: located by its import spec, without importing the package: its ``__init__`` imports
    ``kubernetes_validate.utils`` (PyYAML and more, ~10 ms), and only the data files are read.
    """
    spec = importlib.util.find_spec("kubernetes_validate")
    for location in (spec.submodule_search_locations or []) if spec else []:
        if (Path(location) / SCHEMA_FOLDER).is_dir():
            return Path(location) / SCHEMA_FOLDER
    return Path(str(resources.files("kubernetes_validate"))) / SCHEMA_FOLDER


@functools.lru_cache(maxsize=1)
def bundled_versions() -> tuple[str, ...]:
    """Kubernetes versions with bundled schemas, e.g. ``("1.25.0", ...)``, oldest first."""
    names = {m.group(1) for p in schema_root().iterdir()
             if (m := re.match(r"^v([0-9.]+)-local", p.name))}
    return tuple(sorted(names, key=Version))


@functools.lru_cache(maxsize=64)
def _minor(version: str) -> Version:
    return Version(".".join(version.split(".")[:2]))


def parse_kube_version(wanted: str) -> Version:
    """``1.33`` or ``v1.33`` as a `Version` (major.minor only).

    Raises:
        UnsupportedKubeVersion: `wanted` is not ``X.Y`` (``banana``, ``1``, ``1.3x``).
    """
    text = str(wanted).strip()
    if not re.fullmatch(r"v?[0-9]+\.[0-9]+(\.[0-9]+)?", text):
        raise UnsupportedKubeVersion(f"Kubernetes version {wanted!r} is not X.Y (e.g. \"1.33\")")
    return _minor(text.lstrip("v"))


def resolve_version(wanted: str) -> str:
    """The newest bundled version not newer than `wanted` (``1.33`` → ``1.33.0``).

    Raises:
        UnsupportedKubeVersion: `wanted` is not X.Y, or older than every bundled schema set.
    """
    target = parse_kube_version(wanted)
    candidates = [v for v in bundled_versions() if _minor(v) <= target]
    if not candidates:
        raise UnsupportedKubeVersion(
            f"Kubernetes {wanted} is older than the bundled schemas "
            f"({_oldest()}+); set a version from {_oldest()} to {_newest()}"
        )
    return candidates[-1]


def _oldest() -> str:
    return ".".join(bundled_versions()[0].split(".")[:2])


def _newest() -> str:
    return ".".join(bundled_versions()[-1].split(".")[:2])


def newer_than_bundled(wanted: str) -> str | None:
    """A warning when `wanted` is newer than every bundled schema set (None otherwise).

    Raises:
        UnsupportedKubeVersion: as `resolve_version`.
    """
    used = resolve_version(wanted)
    if parse_kube_version(wanted) > _minor(used):
        return (f"Kubernetes {wanted} is newer than the bundled schemas; objects are checked "
                f"against Kubernetes {_newest()}")
    return None
