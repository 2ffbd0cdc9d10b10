"""Kubernetes naming rules as reusable checks and pydantic types.

Why: site names, namespaces and object names end up in file names and API objects; checking
them once, at the edge, keeps every later stage free of re-validation.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
CONFIG_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")


def is_dns1123_label(value: str) -> bool:
    """True for a DNS-1123 label (lower-case alphanumerics and '-', at most 63 characters)."""
    return len(value) <= 63 and bool(DNS1123_LABEL.fullmatch(value))


def is_dns1123_subdomain(value: str) -> bool:
    """True for a DNS-1123 subdomain (dot-separated labels, at most 253 characters)."""
    return len(value) <= 253 and bool(DNS1123_SUBDOMAIN.fullmatch(value))


def _check_label(value: str) -> str:
    if not is_dns1123_label(value):
        raise ValueError(
            f"{value!r} is not a DNS-1123 label (lower-case letters, digits and '-', "
            "starting and ending with an alphanumeric, at most 63 characters)"
        )
    return value


def _check_subdomain(value: str) -> str:
    if not is_dns1123_subdomain(value):
        raise ValueError(f"{value!r} is not a DNS-1123 subdomain (lower-case, dots, at most 253)")
    return value


def _check_config_key(value: str) -> str:
    if not value or len(value) > 253 or not CONFIG_KEY.fullmatch(value):
        raise ValueError(f"{value!r} is not a valid Secret/ConfigMap key ([-._a-zA-Z0-9]+)")
    return value


DnsLabel = Annotated[str, AfterValidator(_check_label)]
DnsSubdomain = Annotated[str, AfterValidator(_check_subdomain)]
ConfigKey = Annotated[str, AfterValidator(_check_config_key)]
