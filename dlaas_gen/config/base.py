"""Building blocks shared by every section of a site file.

Why: every secret is a reference (Secret name + key), images are pinned, quantities are
checked, and unknown keys are errors everywhere; defining those once keeps the sections small.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from dlaas_gen.names import ConfigKey, DnsSubdomain
from dlaas_gen.quantity import has_byte_suffix, is_site_quantity

#: A 5-field cron schedule (Kubernetes CronJob ``spec.schedule``), checked after stripping.
CRON = re.compile(r"^(\S+\s+){4}\S+$")
DURATION = re.compile(r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$")
TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
TAG_AT_DIGEST = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}@sha256:[a-f0-9]{64}$")


class StrictModel(BaseModel):
    """Base of every site-file model: unknown keys are errors, instances are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _check_quantity(value: str | int | float) -> str:
    text = str(value)
    if not is_site_quantity(text):
        raise ValueError(f"{text!r} is not a Kubernetes quantity (e.g. 500m, 2, 1Gi, 512M)")
    return text


def _check_duration(value: str) -> str:
    if not DURATION.fullmatch(value):
        raise ValueError(f"{value!r} is not a Go duration (e.g. 30s, 5m, 1h)")
    return value


def _check_abs_path(value: str) -> str:
    if not value.startswith("/") or "/../" in value + "/" or "\x00" in value:
        raise ValueError(f"{value!r} must be an absolute path without '..'")
    return value


def _check_https_url(value: str) -> str:
    if not re.fullmatch(r"^https://[^\s/]+(/\S*)?$", value):
        raise ValueError(f"{value!r} must be an https:// URL")
    return value


def _check_size(value: str | int | float) -> str:
    """A storage size: a quantity with a byte suffix.

    Why: a Kubernetes quantity without a suffix is bytes; ``capacity: 20`` would ask the
    storage class for a 20-byte volume, which nobody means.
    """
    text = _check_quantity(value)
    if not has_byte_suffix(text):
        raise ValueError(f"{text!r} has no unit and would be {text} bytes; write a size with a "
                         f"unit, e.g. {text}Gi")
    return text


Quantity = Annotated[str | int | float, AfterValidator(_check_quantity)]
#: A storage size: a quantity with a byte unit (Ki, Mi, Gi, ... or k, M, G, ...).
StorageSize = Annotated[str | int | float, AfterValidator(_check_size)]
Duration = Annotated[str, AfterValidator(_check_duration)]
AbsPath = Annotated[str, AfterValidator(_check_abs_path)]
HttpsUrl = Annotated[str, AfterValidator(_check_https_url)]


class SecretRef(StrictModel):
    """A key of a Kubernetes Secret that ops create; the value never appears in git."""

    name: DnsSubdomain = Field(description="Name of the Secret (in the namespace that uses it).")
    key: ConfigKey = Field(description="Key inside the Secret.")


def _check_tag(tag: str) -> str:
    """A tag, or a tag pinned to a digest (``2024-12-23@sha256:...``).

    Why no bare digest: the z2jh chart and KubeSpawner join ``name:tag``, so a bare
    ``sha256:...`` tag would become the invalid reference ``name:sha256:...``.
    """
    if tag == "latest" or tag.startswith("latest@"):
        raise ValueError(
            "image tag 'latest' is not pinned; use a version tag (optionally @sha256:...)")
    if tag.startswith("sha256:"):
        raise ValueError("a bare digest cannot be used as a tag (the chart writes name:tag); "
                         "write it as '<tag>@sha256:...'")
    if not (TAG.fullmatch(tag) or TAG_AT_DIGEST.fullmatch(tag)):
        raise ValueError(f"{tag!r} is not a valid image tag (or '<tag>@sha256:<64 hex>')")
    return tag


ImageTag = Annotated[str, AfterValidator(_check_tag)]


class Image(StrictModel):
    """A container image pinned to a tag or a digest (never `latest`)."""

    name: str = Field(
        description="Image repository, e.g. `quay.io/jupyter/scipy-notebook`.",
        pattern=r"^[a-z0-9]([a-z0-9._/:-]*[a-z0-9])?$",
    )
    tag: ImageTag = Field(description="Tag (not `latest`), optionally pinned: `<tag>@sha256:...`.")

    def ref(self) -> str:
        """Return ``name:tag`` (``name:tag@sha256:...`` when pinned to a digest)."""
        return f"{self.name}:{self.tag}"


class Toleration(StrictModel):
    """A core/v1 Toleration."""

    key: str | None = Field(default=None, description="Taint key to tolerate.")
    operator: Literal["Equal", "Exists"] = Field(default="Equal", description="Match operator.")
    value: str | None = Field(default=None, description="Taint value (with `Equal`).")
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] | None = Field(
        default=None, description="Taint effect; empty matches all."
    )


class Resources(StrictModel):
    """A limit and a guarantee (request) for CPU or memory."""

    limit: Quantity | None = Field(default=None, description="Upper bound.")
    guarantee: Quantity | None = Field(default=None, description="Amount reserved (request).")
