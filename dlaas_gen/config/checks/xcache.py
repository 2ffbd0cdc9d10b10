"""Cross-field checks of the ``xcache:`` section.

Why: each rule yields the path of the value to change, so the loader reports ``file:line:col``;
the Rucio section is read defensively (``getattr``) because it is owned by another module.
"""

from __future__ import annotations

from collections.abc import Iterator

from dlaas_gen.config.checks.finding import Finding
from dlaas_gen.config.site import SiteConfig
from dlaas_gen.config.xcache import (
    SHARED_SITE_NAMES,
    deployment_token,
    proposed_site_name,
    required_exports,
    xrd_size_bytes,
)
from dlaas_gen.quantity import parse_quantity

MIN_BLOCK = 4 * 1024
MAX_BLOCK = 512 * 1024**2
X = "xcache"


def check_origin_mode(site: SiteConfig) -> Iterator[Finding]:
    """The origin settings match the mode (one fixed origin, or an allow-list)."""
    xc = site.xcache
    if xc is None:
        return
    if xc.mode == "fixed_origin":
        if xc.origin is None:
            yield (X, "mode"), "error", "mode fixed_origin needs xcache.origin (host:port)"
        if xc.origins is not None:
            yield ((X, "origins"), "error", "xcache.origins is the allow-list of forwarding mode; "
                   "a fixed_origin cache has exactly one origin (xcache.origin): remove one")
    else:
        if xc.origin is not None:
            yield ((X, "origin"), "error", "xcache.origin is the fixed origin; forwarding mode "
                   "(pss.origin =) takes none: remove it or set mode: fixed_origin")
        origins = xc.origins
        if origins is None or (not origins.static and origins.cric is None):
            where = (X, "origins") if origins is not None else (X, "mode")
            yield (where, "error", "forwarding mode needs an origin allow-list: set "
                   "xcache.origins.static and/or xcache.origins.cric")
    if xc.origin is not None and not 0 < int(xc.origin.rsplit(":", 1)[1]) < 65536:
        yield (X, "origin"), "error", f"port of {xc.origin!r} is out of range"


def check_exports(site: SiteConfig) -> Iterator[Finding]:
    """The exports cover the origin schemes in use."""
    xc = site.xcache
    if xc is None or xc.exports is None:
        return
    if not xc.exports:
        yield (X, "exports"), "error", "xcache.exports is empty: xrootd would serve nothing"
        return
    if xc.mode == "forwarding":
        missing = [e for e in required_exports(xc) if e not in xc.exports]
        if missing:
            yield ((X, "exports"), "error", f"forwarding mode needs the exports {missing} for the "
                   "origin schemes in use (davs origins are reached as https)")


def check_cache_tuning(site: SiteConfig) -> Iterator[Finding]:
    """Watermarks, block size, RAM and ports are consistent."""
    xc = site.xcache
    if xc is None:
        return
    usage = xc.disk_usage
    if usage.low >= usage.high:
        yield ((X, "disk_usage", "low"), "error", f"disk_usage.low ({usage.low}) must be below "
               f"disk_usage.high ({usage.high})")
    block = xrd_size_bytes(xc.block_size)
    if block & (block - 1) or not MIN_BLOCK <= block <= MAX_BLOCK:
        yield ((X, "block_size"), "error", f"block_size {xc.block_size!r} must be a power of two "
               "between 4k and 512M")
    ram = xrd_size_bytes(xc.ram)
    if ram <= 0:
        yield (X, "ram"), "error", "ram must be positive"
    elif xc.memory.limit is None:
        yield ((X, "memory"), "error", "set xcache.memory.limit: pfc.ram must stay below the "
               "container memory limit")
    elif ram >= parse_quantity(xc.memory.limit):
        yield ((X, "ram"), "error", f"ram {xc.ram!r} must be below the memory limit "
               f"{xc.memory.limit!r} (xrootd needs memory beyond its block RAM)")
    if xc.service_port != xc.port:
        yield ((X, "service_port"), "error", f"service_port {xc.service_port} differs from the "
               f"xrootd port {xc.port}; Rucio's proxy URL and the probes use one port")


def check_site_name(site: SiteConfig) -> Iterator[Finding]:
    """Rucio instances name the XCache's site."""
    xc = site.xcache
    rucio = getattr(site, "rucio", None)
    if xc is None or rucio is None:
        return
    for index, instance in enumerate(getattr(rucio, "instances", None) or []):
        name = getattr(instance, "site_name", None)
        if name is not None and name != xc.site_name:
            yield (("rucio", "instances", index, "site_name"), "error",
                   f"site_name {name!r} differs from xcache.site_name {xc.site_name!r}: Rucio "
                   "would not send this instance's clients through the cache")


def check_site_name_unique(site: SiteConfig) -> Iterator[Finding]:
    """``xcache.site_name`` is unique to this deployment.

    Why: the Rucio server prepends ``root://<[root-proxy-internal][site]>//`` to the wan
    root/http(s) PFNs of every client whose ``client_location['site']`` is that name (rucio
    ``lib/rucio/core/replica.py``, the ``root-proxy-internal`` branch of the PFN builder), and the
    client takes the name from ``SITE_NAME`` (``detect_client_location`` in
    ``lib/rucio/common/client.py``). A shared name (``CERN``) hands every client of that site a
    cluster-internal address it cannot resolve; a name equal to an RSE's ``site`` attribute also
    turns off the cache for that RSE. Only a name containing a DNS name the deployment owns is
    unique.
    """
    xc = site.xcache
    if xc is None:
        return
    name = xc.site_name
    proposal = proposed_site_name(site)
    where = (X, "site_name")
    if name.upper() in SHARED_SITE_NAMES:
        yield (where, "error", f"site_name {name!r} is a shared name: every Rucio client "
               f"presenting SITE_NAME={name} would be sent to this cluster's internal cache "
               f"address; use a name unique to this deployment, e.g. {proposal!r}")
        return
    rse_sites = {s.upper(): s for s in xc.rse_sites}
    if name.upper() in rse_sites:
        yield (where, "error", f"site_name {name!r} is the `site` attribute of an RSE "
               f"(xcache.rse_sites): that site's clients share it and its replicas would bypass "
               f"the cache; use a name unique to this deployment, e.g. {proposal!r}")
        return
    token = deployment_token(site)
    if token is not None and token.lower() not in name.lower():
        yield (where, "error", f"site_name {name!r} is not unique to this deployment: it must "
               f"contain the ingress host {token!r} (e.g. {proposal!r}), so that no other Rucio "
               "client presents it")


def check_cluster_only(site: SiteConfig) -> Iterator[Finding]:
    """The cache Service stays inside the cluster.

    Why: a forwarding XCache reads any allowed origin for anyone who can reach it, without
    authenticating them; a NodePort or LoadBalancer would open it to the network.
    """
    xc = site.xcache
    if xc is not None and xc.service_type != "ClusterIP":
        yield ((X, "service_type"), "error", f"service_type {xc.service_type} exposes the cache "
               "outside the cluster; it is an unauthenticated proxy: use ClusterIP (the "
               "NetworkPolicy admits only the hub's and xcache.client_namespaces' pods)")
