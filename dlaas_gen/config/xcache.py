"""The ``xcache:`` section: an XRootD proxy file cache in front of the Data Lake.

Why: the report's stretch goal puts an XCache between notebooks and the storage, known to Rucio
as the proxy of a site name; its allowed origins come from the CRIC catalogue through a lock
file (``sites/<site>.origins.yaml``) so that rendering never touches the network.
Cross-field rules (origin mode, watermarks, RAM vs memory limit...) are in
`dlaas_gen.config.checks.xcache`.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any, Literal

from pydantic import Field, field_validator

from dlaas_gen.config.base import CRON, AbsPath, Image, Resources, StrictModel, Toleration
from dlaas_gen.names import ConfigKey, DnsLabel, DnsSubdomain

HOST = r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*"
HOST_PORT = rf"^{HOST}:[0-9]{{1,5}}$"
ORIGIN_URL = re.compile(
    rf"^(?P<scheme>root|xroot|davs|https|http)://(?P<host>{HOST})(:(?P<port>[0-9]{{1,5}}))?/?$"
)
XRD_SIZE = re.compile(r"^([0-9]+)([kKmMgGtT]?)$")
CricScheme = Literal["root", "xroot", "davs", "https", "http"]
#: Schemes a CRIC allow-list takes when the site names none.
DEFAULT_CRIC_SCHEMES: tuple[CricScheme, ...] = ("root", "davs")
#: Default port of a static origin URL without one.
DEFAULT_PORTS = {"root": 1094, "xroot": 1094, "davs": 443, "https": 443, "http": 80}
#: Shortest ``acc.authrefresh`` xrootd accepts (XrdAccConfig.cc ``xart``: ``a2tm(..., 60)``,
#: "authrefresh value 5 may not be less than 60").
AUTHREFRESH_MIN = 60
#: Longest ``all.sitename`` xrootd keeps (longer names are cut: XrdConfig.cc ``xsit``).
SITE_NAME_MAX = 63
#: Site names other Rucio clients present too (compared upper case). ``ROAMING`` is what the
#: Rucio client sends without ``SITE_NAME``; the others are laboratories of the Data Lake and
#: words any deployment could pick.
#: Why: the Rucio server keys ``[root-proxy-internal]`` by the client's site (rucio
#: ``core/replica.py``, ``config_get('root-proxy-internal', client_location['site'])``), so a
#: shared name hands this cluster's internal cache address to every client of that site.
SHARED_SITE_NAMES = frozenset({
    "ROAMING", "CERN", "CERN-PROD", "DESY", "PIC", "INFN", "CNAF", "IN2P3", "CC-IN2P3", "LAPP",
    "GSI", "SURF", "SARA", "NIKHEF", "FNAL", "BNL", "SLAC", "RAL", "KIT", "ESCAPE", "EULAKE",
    "DEFAULT", "LOCAL", "LOCALHOST", "SITE", "UNKNOWN", "XCACHE", "CACHE", "PROXY", "DLAAS",
    "JUPYTER", "JUPYTERHUB", "HUB",
})


def xrd_size_bytes(text: str) -> int:
    """Bytes of an xrootd size (``512k``, ``1M``, ``16g``; binary units).

    Raises:
        ValueError: not a size.
    """
    match = XRD_SIZE.fullmatch(str(text))
    if not match:
        raise ValueError(f"{text!r} is not a size (e.g. 512k, 1M, 16g)")
    power = " kmgt".index(match.group(2).lower() or " ")
    return int(match.group(1)) * 1024**power


def _check_xrd_size(value: str) -> str:
    xrd_size_bytes(value)
    return str(value)


class ConfigMapKeyRef(StrictModel):
    """A key of a ConfigMap ops create (e.g. a CA bundle)."""

    name: DnsSubdomain = Field(description="Name of the ConfigMap (in the XCache namespace).")
    key: ConfigKey = Field(description="Key inside the ConfigMap.")


class XCacheDisks(StrictModel):
    """Node disks (hostPath) the cache stores data and metadata on."""

    data: list[AbsPath] = Field(
        min_length=1, description="Host folders for cached data (one `oss.space data` each)."
    )
    meta: AbsPath = Field(description="Host folder for the namespace and `cinfo` metadata.")


class DiskUsage(StrictModel):
    """``pfc.diskusage``: purge from `high` down to `low` (fractions of the data disks)."""

    low: float = Field(default=0.90, gt=0, le=1, description="Low watermark, in (0, 1].")
    high: float = Field(default=0.95, gt=0, le=1, description="High watermark, in (0, 1].")


class WriteQueue(StrictModel):
    """``pfc.writequeue``: blocks written per batch and writer threads."""

    blocks: int = Field(default=16, ge=1, le=1024, description="Blocks per write batch.")
    threads: int = Field(default=4, ge=1, le=64, description="Writer threads.")


class CricOrigins(StrictModel):
    """Origins taken from the CRIC RSE catalogue (lock file + in-cluster refresh)."""

    url: str = Field(
        default="https://escape-cric.cern.ch/api/doma/rse/query/?json",
        description="CRIC RSE query URL (`?json` or `?json&preset=doma`).",
        pattern=r"^https://\S+$",
    )
    ca_file: str | None = Field(
        default=None,
        description="CA bundle `dlaas-gen cric sync` verifies CRIC with (relative to sites/); "
        "unset: the system CAs.",
    )
    ca_configmap: ConfigMapKeyRef | None = Field(
        default=None,
        description="ConfigMap key with the CA bundle the refresh job verifies CRIC with; "
        "unset: the job image's CAs.",
    )
    schemes: list[CricScheme] = Field(
        default_factory=lambda: list(DEFAULT_CRIC_SCHEMES), min_length=1,
        description="Protocol schemes to allow (davs origins are reached as https).",
    )
    exclude_rses: list[str] = Field(default_factory=list, description="RSE names to skip.")
    refresh_schedule: str = Field(
        default="23 */6 * * *", description="Cron schedule of the in-cluster refresh job."
    )
    job_image: Image = Field(
        default_factory=lambda: Image(name="docker.io/library/python", tag="3.12.8-slim"),
        description="Image of the refresh job (needs python3; the script is mounted).",
    )

    @field_validator("refresh_schedule")
    @classmethod
    def _check_schedule(cls, value: str) -> str:
        if not CRON.fullmatch(value.strip()):
            raise ValueError(f"{value!r} is not a 5-field cron schedule")
        return value.strip()


class XCacheOrigins(StrictModel):
    """Which origins a forwarding cache may contact (its allow-list)."""

    static: list[str] = Field(
        default_factory=list,
        description="Always-allowed origins as `scheme://host[:port]` (root, xroot, davs, "
        "https, http).",
    )
    cric: CricOrigins | None = Field(default=None, description="Origins from CRIC.")

    @field_validator("static")
    @classmethod
    def _check_static(cls, values: list[str]) -> list[str]:
        for value in values:
            if not ORIGIN_URL.fullmatch(value):
                raise ValueError(f"{value!r} is not scheme://host[:port] (root, xroot, davs, "
                                 "https, http; lower-case host)")
        return values

    def static_by_protocol(self) -> dict[str, list[str]]:
        """Static origins as ``{pss protocol: [host:port]}`` (davs → https)."""
        from dlaas_gen.payloads import PSS_PROTOCOL, merge_origins

        out: dict[str, list[str]] = {}
        for value in self.static:
            match = ORIGIN_URL.fullmatch(value)
            assert match is not None  # validated
            scheme, host, port = match["scheme"], match["host"], match["port"]
            endpoint = f"{host}:{int(port) if port else DEFAULT_PORTS[scheme]}"
            out.setdefault(PSS_PROTOCOL[scheme], []).append(endpoint)
        return merge_origins(out)


class XCacheConfig(StrictModel):
    """An XCache (xrootd proxy file cache) and its origin allow-list."""

    image: Image = Field(description="xrootd image with `xrootd` and the Pss/Pfc plugins.")
    namespace: DnsLabel = Field(default="xcache", description="Namespace of the cache.")
    replicas: int = Field(default=1, ge=1, le=16, description="Cache pods (one per node).")
    node_selector: dict[str, str] = Field(
        default_factory=lambda: {"xcache-capable": "true"},
        description="Nodes with the cache disks.",
    )
    tolerations: list[Toleration] = Field(default_factory=list, description="Tolerations.")
    port: int = Field(default=1094, ge=1, le=65535, description="`xrd.port` of xrootd.")
    service_port: int = Field(default=1094, ge=1, le=65535, description="Port of the Service.")
    service_type: Literal["ClusterIP", "NodePort", "LoadBalancer"] = Field(
        default="ClusterIP",
        description="Service type; only `ClusterIP` is accepted: the cache is an "
        "unauthenticated forwarding proxy and must not be reachable from outside the cluster.",
    )
    proxy_host: DnsSubdomain | None = Field(
        default=None,
        description="Host name clients reach the cache by (Rucio `[root-proxy-internal]`); "
        "default: the Service's cluster DNS name.",
    )
    client_namespaces: list[DnsLabel] = Field(
        default_factory=list,
        description="Namespaces besides the hub's whose pods may use the cache.",
    )
    mode: Literal["forwarding", "fixed_origin"] = Field(
        default="forwarding",
        description="`forwarding` (`pss.origin =`, origin named in the path, allow-list) or "
        "`fixed_origin` (`pss.origin host:port`).",
    )
    origin: str | None = Field(
        default=None, pattern=HOST_PORT, description="The origin `host:port` (fixed_origin)."
    )
    exports: list[str] | None = Field(
        default=None,
        description="`all.export` paths; default: `/root:/`, `/xroot:/` and `/https:/`, "
        "`/http:/` for the schemes in use (forwarding), `/` (fixed_origin).",
    )
    origins: XCacheOrigins | None = Field(
        default=None, description="Allowed origins (forwarding mode)."
    )
    disks: XCacheDisks = Field(description="hostPath disks.")
    run_as_user: int = Field(
        default=10940, ge=1, description="uid xrootd runs as (must own the disk folders)."
    )
    ram: str = Field(default="4g", description="`pfc.ram` (memory for blocks in flight).")
    block_size: str = Field(default="1M", description="`pfc.blocksize` (power of two).")
    prefetch: int = Field(default=0, ge=0, le=256, description="`pfc.prefetch` blocks.")
    disk_usage: DiskUsage = Field(default_factory=DiskUsage, description="`pfc.diskusage`.")
    write_queue: WriteQueue = Field(default_factory=WriteQueue, description="`pfc.writequeue`.")
    site_name: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=SITE_NAME_MAX,
        description="`all.sitename`; also the Rucio client's `SITE_NAME` and the Rucio "
        "`[root-proxy-internal]` key, so it must be unique to this deployment: it must contain "
        "`ingress.host` (e.g. `DLAAS-<ingress.host>`, what `dlaas-gen xcache rucio-config` "
        "proposes); shared names (`CERN`, `ROAMING`...) and `rse_sites` are refused.",
    )
    rse_sites: list[str] = Field(
        default_factory=list,
        description="Values of the `site` attribute of RSEs on the Rucio server "
        "(`rucio-admin rse get-attribute <RSE>`); `site_name` may not equal one of them.",
    )
    authdb_refresh_seconds: int = Field(
        default=AUTHREFRESH_MIN, ge=AUTHREFRESH_MIN, le=86400,
        description="`acc.authrefresh`: seconds between xrootd's checks of the allow-list file "
        "(xrootd refuses less than 60).",
    )
    auth_template: str = Field(
        default="datalakepaths", pattern=r"^[A-Za-z][A-Za-z0-9_]*$",
        description="Template name in the generated authdb.",
    )
    cpu: Resources = Field(
        default_factory=lambda: Resources(limit="2", guarantee="500m"), description="CPU."
    )
    memory: Resources = Field(
        default_factory=lambda: Resources(limit="8Gi", guarantee="6Gi"),
        description="Memory (the limit must exceed `ram`).",
    )

    @field_validator("ram", "block_size", mode="before")
    @classmethod
    def _check_sizes(cls, value: Any) -> str:
        return _check_xrd_size(value)


EXPORT_PREFIXES = {"root": ("/root:/", "/xroot:/"), "https": ("/https:/",), "http": ("/http:/",)}


def protocols_in_use(xcache: XCacheConfig) -> list[str]:
    """The xrootd protocols (root, https, http) the forwarding cache's origins use, sorted."""
    from dlaas_gen.payloads import PSS_PROTOCOL

    origins = xcache.origins
    used: set[str] = set()
    if origins is not None:
        used.update(origins.static_by_protocol())
        if origins.cric is not None:
            used.update(PSS_PROTOCOL[s] for s in origins.cric.schemes)
    return sorted(used or {"root"})


def required_exports(xcache: XCacheConfig) -> list[str]:
    """The ``all.export`` prefixes forwarding needs for the protocols in use."""
    return [p for proto in protocols_in_use(xcache) for p in EXPORT_PREFIXES[proto]]


def effective_exports(xcache: XCacheConfig) -> list[str]:
    """The ``all.export`` paths to render (explicit, or the mode's default)."""
    if xcache.exports is not None:
        return list(xcache.exports)
    return required_exports(xcache) if xcache.mode == "forwarding" else ["/"]


def proposed_site_name(site: Any) -> str:
    """A Rucio site name unique to the deployment: ``DLAAS-<ingress host>``.

    Why: the ingress host is a DNS name only this deployment owns, so no other Rucio client
    presents it and no RSE carries it as its ``site`` attribute. Without an ingress, a
    placeholder the operator must replace with the cluster's own DNS name.
    """
    token = deployment_token(site) or "<cluster-dns-name>"
    return f"DLAAS-{token}"


def deployment_token(site: Any) -> str | None:
    """What a unique site name must contain: the ingress host; None without an ingress.

    A host too long for ``all.sitename`` is shortened to a digest form.
    """
    ingress = getattr(site, "ingress", None)
    if ingress is None:
        return None
    return _host_token(ingress.host)


def site_name_for_host(host: str) -> str:
    """The site name `proposed_site_name` gives a site whose ingress host is `host`.

    Why: ``dlaas-gen init`` writes a site before there is a model of it, and its XCache must
    pass the uniqueness rule at once.
    """
    return f"DLAAS-{_host_token(host)}"


def _host_token(host: str) -> str:
    if len(host) <= SITE_NAME_MAX - len("DLAAS-"):
        return host
    return f"{host.split('.', 1)[0][:40]}-{hashlib.sha256(host.encode()).hexdigest()[:12]}"


def xcache_site_name(site: Any) -> str | None:
    """The XCache site name of a site, or None without an XCache.

    Why: the Rucio extension's ``site_name`` (``SITE_NAME`` of the Rucio client) must equal it,
    so the Rucio section defaults to this value instead of repeating it.
    """
    xcache = getattr(site, "xcache", None)
    return xcache.site_name if xcache is not None else None
