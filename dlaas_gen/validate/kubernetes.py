"""Core Kubernetes kinds, validated offline with kubernetes-validate's strict schemas.

Why: ``kubernetes_validate.validate()`` re-reads its 5 MB definitions file and rebuilds the
validator for every document and stops at the first error. We use the same bundled schemas
and the same look-up rule, but compile each validator once per run and report every error.
"""

from __future__ import annotations

import functools
import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
from packaging.version import Version
from referencing import Registry, Resource

from dlaas_gen.errors import DlaasGenError

SCHEMA_FOLDER = "kubernetes-json-schema"


class UnknownKind(Exception):
    """No bundled schema for this kind/apiVersion."""


@functools.lru_cache(maxsize=1)
def _schema_root() -> Path:
    return Path(str(resources.files("kubernetes_validate"))) / SCHEMA_FOLDER


@functools.lru_cache(maxsize=1)
def bundled_versions() -> tuple[str, ...]:
    """Kubernetes versions with bundled schemas, e.g. ``("1.25.0", ...)``, oldest first."""
    names = {m.group(1) for p in _schema_root().iterdir() if (m := re.match(r"^v([0-9.]+)-local", p.name))}
    return tuple(sorted(names, key=Version))


class UnsupportedKubeVersion(DlaasGenError):
    """A Kubernetes version that cannot be parsed, or is older than every bundled schema set."""


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


@functools.lru_cache(maxsize=4)
def _registry(version: str) -> Registry:
    folder = _schema_root() / f"v{version}-local-strict"
    with (folder / "_definitions.json").open(encoding="utf-8") as handle:
        definitions = json.load(handle)
    return Resource.from_contents(definitions) @ Registry()


@functools.lru_cache(maxsize=256)
def validator_for(version: str, api_version: str, kind: str) -> jsonschema.protocols.Validator:
    """Return the compiled strict validator for one kind (cached for the run).

    Raises:
        UnknownKind: no schema is bundled for this kind and apiVersion.
    """
    api = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    path = _schema_root() / f"v{version}-local-strict" / f"{kind.lower()}-{api}.json"
    if not path.is_file():
        raise UnknownKind(f"no Kubernetes {version} schema for {kind} {api_version}")
    with path.open(encoding="utf-8") as handle:
        schema = json.load(handle)
    registry = Resource.from_contents(schema) @ _registry(version)
    return jsonschema.Draft202012Validator(schema, registry=registry)


def iter_core_errors(doc: dict[str, Any], kube_version: str) -> list[jsonschema.ValidationError]:
    """Every schema error of one core object (raises `UnknownKind` for unknown kinds)."""
    validator = validator_for(resolve_version(kube_version), doc["apiVersion"], doc["kind"])
    return sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))
