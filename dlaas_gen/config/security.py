"""The ``security:`` section: justified policy exceptions and the egress the site needs.

Why: the policy lint refuses insecure manifests unless a person wrote down why; the written
justification lives next to the site in git, where reviewers see it. NetworkPolicy cannot name
hosts, so the services user pods talk to are given as CIDRs here.
"""

from __future__ import annotations

import ipaddress

from pydantic import Field, field_validator

from dlaas_gen.config.base import StrictModel
from dlaas_gen.names import DnsLabel, DnsSubdomain
from dlaas_gen.policy_catalog import BY_ID

MIN_JUSTIFICATION = 40


class PolicyException(StrictModel):
    """Opt one object out of one policy rule, with a written reason."""

    rule: str = Field(description="Policy rule id, e.g. `PRIV001` (see the README table).")
    kind: str = Field(pattern=r"^[A-Z][A-Za-z0-9]*$", description="Kind of the object.")
    namespace: DnsLabel | None = Field(
        default=None, description="Namespace of the object (unset for cluster-scoped kinds)."
    )
    name: DnsSubdomain = Field(description="Name of the object.")
    justification: str = Field(
        min_length=MIN_JUSTIFICATION,
        description=f"Why this object needs the exception (at least {MIN_JUSTIFICATION} "
        "characters).",
    )

    @field_validator("rule")
    @classmethod
    def _known_rule(cls, value: str) -> str:
        if value not in BY_ID:
            raise ValueError(f"unknown policy rule {value!r} (known: {', '.join(sorted(BY_ID))})")
        return value

    @field_validator("justification")
    @classmethod
    def _real_text(cls, value: str) -> str:
        if len(set(value.lower().split())) < 5:
            raise ValueError("justification must say why in words (at least 5 different words)")
        return value


def _check_cidr(value: str) -> str:
    try:
        network = ipaddress.ip_network(value, strict=True)
    except ValueError:
        raise ValueError(
            f"{value!r} is not a CIDR with its host bits zero (e.g. 188.184.0.0/15)") from None
    if network.prefixlen == 0:
        raise ValueError(f"{value!r} allows every address; give the service's own ranges")
    return str(network)


class EgressTarget(StrictModel):
    """Address ranges and TCP ports of one service user pods connect to."""

    cidrs: list[str] = Field(
        min_length=1, description="CIDRs of the service, e.g. `188.184.0.0/15`.")
    ports: list[int] = Field(default_factory=lambda: [443], description="TCP ports (default 443).")

    @field_validator("cidrs")
    @classmethod
    def _cidrs(cls, values: list[str]) -> list[str]:
        return [_check_cidr(v) for v in values]

    @field_validator("ports")
    @classmethod
    def _ports(cls, values: list[int]) -> list[int]:
        for port in values:
            if not 1 <= port <= 65535:
                raise ValueError(f"{port} is not a TCP port")
        return values


class EgressConfig(StrictModel):
    """Where single-user pods may connect: everything else is blocked by the NetworkPolicy."""

    dns: list[str] = Field(
        default_factory=list,
        description="CIDRs of DNS servers outside kube-system (port 53); cluster DNS in "
        "kube-system is always allowed.",
    )
    iam: EgressTarget | None = Field(default=None, description="The IAM (token refresh).")
    rucio: EgressTarget | None = Field(default=None, description="Rucio servers.")
    eos: EgressTarget | None = Field(default=None, description="EOS MGM/FSTs (xrootd, https).")
    xcache: EgressTarget | None = Field(
        default=None, description="An XCache outside the cluster (an in-cluster one is allowed "
        "by namespace).")
    other: dict[DnsLabel, EgressTarget] = Field(
        default_factory=dict, description="Further services by name.")

    @field_validator("dns")
    @classmethod
    def _dns(cls, values: list[str]) -> list[str]:
        return [_check_cidr(v) for v in values]


class SecurityConfig(StrictModel):
    """Policy exceptions and single-user egress."""

    exceptions: list[PolicyException] = Field(
        default_factory=list, description="Per-object policy exceptions, each justified."
    )
    egress: EgressConfig | None = Field(
        default=None, description="Limit single-user egress to these services (recommended)."
    )
