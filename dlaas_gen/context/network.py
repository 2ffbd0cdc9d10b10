"""Single-user NetworkPolicy values: egress limited to the services the site declares.

Why: the chart's default single-user egress allows every public address; a NetworkPolicy cannot
name hosts, so the site gives CIDRs (``security.egress``) and they become
``singleuser.networkPolicy.egress`` entries. The chart's privileged iptables init container
(``cloudMetadata.blockWithIptables``) is turned off because the NetworkPolicy already blocks
the cloud metadata server, which lets the hub namespace run at Pod Security level baseline.
"""

from __future__ import annotations

from typing import Any

from dlaas_gen.config.security import EgressTarget
from dlaas_gen.context.model import SiteContext, SiteInput

DNS_PORT = 53


def _rule(target: EgressTarget) -> dict[str, Any]:
    return {
        "to": [{"ipBlock": {"cidr": cidr}} for cidr in target.cidrs],
        "ports": [{"port": port, "protocol": "TCP"} for port in target.ports],
    }


def contribute(site: SiteInput, out: SiteContext) -> None:
    """Contribute the single-user NetworkPolicy values."""
    hv = out.hub
    hv.add({"singleuser": {"cloudMetadata": {"blockWithIptables": False},
                           "networkPolicy": {"enabled": True,
                                             "egressAllowRules": {"cloudMetadataServer": False}}}})
    egress = site.config.security.egress
    if egress is None:
        return
    rules: list[dict[str, Any]] = []
    if egress.dns:
        rules.append({"to": [{"ipBlock": {"cidr": c}} for c in egress.dns],
                      "ports": [{"port": DNS_PORT, "protocol": p} for p in ("UDP", "TCP")]})
    named = {"iam": egress.iam, "rucio": egress.rucio, "eos": egress.eos, "xcache": egress.xcache,
             **egress.other}
    rules.extend(_rule(target) for target in named.values() if target is not None)
    # An in-cluster XCache is allowed by namespace in context/xcache.py.
    hv.add({"singleuser": {"networkPolicy": {
        "egressAllowRules": {"nonPrivateIPs": False, "privateIPs": False,
                             "dnsPortsPrivateIPs": False, "dnsPortsCloudMetadataServer": False,
                             "dnsPortsKubeSystemNamespace": True},
        "egress": rules,
    }}})
