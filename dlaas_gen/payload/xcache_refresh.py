#!/usr/bin/env python3
"""Refresh an XCache's origin allow-list (an xrootd authdb) from the CRIC storage catalogue.

Runs in a CronJob next to the cache (stdlib only, Python >= 3.8). It fetches the CRIC RSE
catalogue, keeps the protocols whose scheme is configured, turns them into a sorted,
de-duplicated ``host:port`` list per xrootd protocol, renders the authdb, and writes it into the
ConfigMap the cache mounts, through the Kubernetes API with the pod's ServiceAccount token.
xrootd re-reads the file by itself (``acc.authrefresh``), so no restart is needed.

Usage::

    xcache_refresh.py --config FILE [--dry-run]

The config is JSON (rendered by dlaas-gen)::

    {"cric_url": "https://escape-cric.cern.ch/api/doma/rse/query/?json",
     "ca_file": "/etc/xcache-cric-ca/ca.pem",          # optional; default system CAs
     "schemes": ["root", "davs"], "exclude_rses": ["OLD-RSE"],
     "static": {"root": ["eospublic.cern.ch:1094"]},  # always allowed
     "template": "datalakepaths", "privileges": "lr",
     "namespace": "xcache", "configmap": "xcache-authdb", "key": "authdb"}

Exit status: 0 updated or already current; 1 on any failure (CRIC unreachable, HTTP error,
invalid JSON, empty result, API refused). On failure the ConfigMap is not touched, so the cache
keeps its last good list. The same functions parse the catalogue for ``dlaas-gen cric sync``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import ssl
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import quote
from urllib.request import Request, urlopen

#: CRIC scheme → the protocol name ``pss.origin =`` knows (davs is reached as https).
PSS_PROTOCOL = {"root": "root", "xroot": "root", "davs": "https", "https": "https", "http": "http"}
DEFAULT_PORTS = {"root": 1094, "xroot": 1094, "davs": 443, "https": 443, "http": 80}
#: xrootd protocol → the export prefixes a client may use for it in a forwarding path.
EXPORT_PREFIXES = {"root": ("root", "xroot"), "https": ("https",), "http": ("http",)}
_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?"
HOST = re.compile(rf"^{_LABEL}(\.{_LABEL})*$")
SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
CONNECT_TIMEOUT = 5
READ_TIMEOUT = 10
ATTEMPTS = 3
DEADLINE = 45.0


class RefreshError(Exception):
    """A failure worth one line (the allow-list is left as it is)."""


# --------------------------------------------------------------------------- catalogue parsing


def _endpoint(host: object, port: Any, scheme: str) -> str | None:
    """Return ``host:port`` (default port by scheme) or None when the host is unusable."""
    text = str(host or "").strip()
    if "://" in text:
        text = text.split("://", 1)[1]
    text = text.split("/", 1)[0]
    if port in (None, "", 0) and text.count(":") == 1:
        text, port = text.split(":")
    if not text or not HOST.match(text):
        return None
    try:
        number = int(port) if port not in (None, "", 0) else DEFAULT_PORTS[scheme]
    except (TypeError, ValueError):
        return None
    if not 0 < number < 65536:
        return None
    return f"{text.lower()}:{number}"


def _wan_readable(protocol: dict) -> bool:
    """Doma-form protocols carry ``domains.wan.read``; 0 or null means not readable from WAN."""
    domains = protocol.get("domains")
    if not isinstance(domains, dict) or not isinstance(domains.get("wan"), dict):
        return True
    read = domains["wan"].get("read")
    return isinstance(read, int) and not isinstance(read, bool) and read > 0


def _protocols(value: object) -> list[tuple[str, Any, Any, str]]:
    """(scheme, host, port, label) of every protocol of one RSE, in either JSON shape.

    The host and port are as the JSON holds them (`_endpoint` checks them).
    """
    if not isinstance(value, dict):
        return []
    protocols = value.get("protocols")
    out: list[tuple[str, Any, Any, str]] = []
    if isinstance(protocols, dict):  # the plain ?json shape: label -> {flavour, endpoint, path}
        for label in sorted(protocols, key=str):
            item = protocols[label]
            if isinstance(item, dict):
                out.append((str(item.get("flavour") or ""), item.get("endpoint"), None, str(label)))
    elif isinstance(protocols, list):  # the preset=doma shape: [{scheme, hostname, port, ...}]
        for index, item in enumerate(protocols):
            if isinstance(item, dict) and _wan_readable(item):
                out.append((str(item.get("scheme") or ""), item.get("hostname"), item.get("port"),
                            f"#{index + 1}"))
    return out


def parse_catalogue(
    data: object, schemes: Iterable[str], exclude_rses: Iterable[str] = ()
) -> tuple[dict[str, list[str]], list[str]]:
    """Turn a CRIC RSE catalogue into allowed origins per xrootd protocol.

    Args:
        data: decoded JSON, either ``{RSE: {protocols: {...}}}`` or ``{"rses": {RSE: {...}}}``.
        schemes: CRIC schemes to keep (``root``, ``xroot``, ``davs``, ``https``, ``http``).
        exclude_rses: RSE names to skip.

    Returns:
        ``({"root": ["host:1094", ...], "https": [...]}, warnings)``; lists sorted by host
        then port, without duplicates; protocols without a host are dropped with a warning.

    Raises:
        RefreshError: the document is not a catalogue.
    """
    if isinstance(data, dict) and isinstance(data.get("rses"), dict):
        rses = data["rses"]
    elif isinstance(data, dict):
        rses = data
    else:
        raise RefreshError("CRIC answer is not a JSON object keyed by RSE")
    wanted = set(schemes)
    excluded = set(exclude_rses)
    found: dict[str, set[str]] = {}
    warnings = []
    for rse in sorted(rses, key=str):
        if rse in excluded:
            continue
        for scheme, host, port, label in _protocols(rses[rse]):
            if scheme not in wanted:
                continue
            endpoint = _endpoint(host, port, scheme)
            if endpoint is None:
                warnings.append(f"RSE {rse} protocol {label} ({scheme}): no usable host:port "
                                f"({host!r}); dropped")
                continue
            found.setdefault(PSS_PROTOCOL[scheme], set()).add(endpoint)
    return {k: sort_endpoints(v) for k, v in sorted(found.items())}, warnings


def sort_endpoints(endpoints: Iterable[str]) -> list[str]:
    """Sort ``host:port`` strings by host, then numerically by port."""
    def key(text: str) -> tuple[str, int]:
        host, _, port = text.rpartition(":")
        return host, int(port)
    return sorted(set(endpoints), key=key)


def merge_origins(*parts: dict[str, list[str]]) -> dict[str, list[str]]:
    """Union of several per-protocol origin maps, sorted."""
    merged: dict[str, set[str]] = {}
    for part in parts:
        for protocol, endpoints in part.items():
            merged.setdefault(protocol, set()).update(endpoints)
    return {k: sort_endpoints(v) for k, v in sorted(merged.items()) if v}


def authdb_paths(origins: dict[str, list[str]]) -> list[str]:
    """The forwarding paths a client may open: ``/root:/host:port/`` for each origin."""
    paths = []
    for protocol in sorted(origins):
        for endpoint in origins[protocol]:
            for prefix in EXPORT_PREFIXES[protocol]:
                paths.append(f"/{prefix}:/{endpoint}/")
    return sorted(paths)


def authdb_text(origins: dict[str, list[str]], template: str = "datalakepaths",
                privileges: str = "lr") -> str:
    """Render the xrootd authdb allowing reads below each origin (and nothing else).

    Why: in forwarding mode the origin is part of the path, so a path privilege per origin is
    an allow-list that xrootd re-reads live (``acc.authrefresh``), unlike ``pss.permit``.

    Raises:
        RefreshError: no origins (an empty authdb would be a syntax error, not a deny-all).
    """
    paths = authdb_paths(origins)
    if not paths:
        raise RefreshError("no origins to allow")
    count = sum(len(v) for v in origins.values())
    lines = [f"# XCache origin allow-list: {count} origin(s). Written by dlaas-gen and by the",
             "# xcache-origins-refresh CronJob (from CRIC); edits are overwritten."]
    body = [f"{path} {privileges}" for path in paths]
    lines.append(f"t {template} " + " \\\n  ".join(body))
    lines.append(f"u * {template}")
    return "\n".join(lines) + "\n"


def authdb_origins(text: str) -> set[str]:
    """The ``/proto:/host:port/`` paths an authdb allows (to report what changed)."""
    return set(re.findall(r"(/[a-z]+:/[^\s/]+/)", text or ""))


# --------------------------------------------------------------------------- HTTP


def _context(ca_file: str | None) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=ca_file or None)


def fetch_json(url: str, ca_file: str | None = None, *, attempts: int = ATTEMPTS,
               deadline: float = DEADLINE, sleep=time.sleep) -> object:
    """GET `url` and decode JSON, retrying 5xx and connection errors (not 4xx) with backoff.

    Raises:
        RefreshError: unreachable, timed out, HTTP error, or not JSON.
    """
    end = time.monotonic() + deadline
    last = "no attempt made"
    for attempt in range(1, attempts + 1):
        remaining = end - time.monotonic()
        if remaining <= 0:
            break
        try:
            request = Request(url, headers={"Accept": "application/json"})
            with urlopen(request, timeout=min(READ_TIMEOUT, remaining),
                         context=_context(ca_file) if url.startswith("https:") else None) as resp:
                body = resp.read()
            try:
                return json.loads(body.decode("utf-8"))
            except (UnicodeDecodeError, ValueError) as exc:
                raise RefreshError(f"CRIC answer from {url} is not valid JSON ({exc})") from None
        except HTTPError as exc:
            last = f"HTTP {exc.code} from {url}"
            if exc.code < 500:
                raise RefreshError(last) from None
        except (URLError, socket.timeout, ConnectionError, TimeoutError) as exc:
            reason = getattr(exc, "reason", exc)
            last = f"cannot reach {url}: {reason}"
        if attempt < attempts:
            sleep(min(2 ** (attempt - 1), max(0.0, end - time.monotonic())))
    raise RefreshError(f"{last} (after {attempts} attempts)")


class KubeClient:
    """The two ConfigMap calls the job needs, with the pod's ServiceAccount token."""

    def __init__(self, api_url: str, token: str, ca_file: str | None):
        """Talk to `api_url` with `token`, trusting `ca_file` (else the system's CAs)."""
        self.api_url = api_url.rstrip("/")
        self.token = token
        self.context = _context(ca_file) if api_url.startswith("https:") else None

    def _call(self, method: str, path: str, body: object = None,
              content_type: str = "application/json") -> dict:
        data = json.dumps(body).encode() if body is not None else None
        request = Request(self.api_url + path, data=data, method=method, headers={
            "Authorization": f"Bearer {self.token}", "Accept": "application/json",
            "Content-Type": content_type})
        try:
            with urlopen(request, timeout=READ_TIMEOUT, context=self.context) as resp:
                return json.loads(resp.read().decode("utf-8"))
        except HTTPError as exc:
            raise RefreshError(f"Kubernetes API {method} {path}: HTTP {exc.code}") from None
        except (URLError, socket.timeout, ConnectionError, TimeoutError, ValueError) as exc:
            raise RefreshError(f"Kubernetes API {method} {path}: {exc}") from None

    def get_configmap(self, namespace: str, name: str) -> dict:
        """Read a ConfigMap."""
        return self._call("GET", f"/api/v1/namespaces/{quote(namespace)}/configmaps/{quote(name)}")

    def patch_configmap(self, namespace: str, name: str, key: str, text: str,
                        resource_version: str | None) -> dict:
        """Set one data key; with `resource_version`, fail (409) if someone changed it since."""
        body: dict = {"data": {key: text}}
        if resource_version:
            body["metadata"] = {"resourceVersion": resource_version}
        path = f"/api/v1/namespaces/{quote(namespace)}/configmaps/{quote(name)}"
        return self._call("PATCH", path, body, "application/merge-patch+json")


# --------------------------------------------------------------------------- the job


def refresh(config: dict, kube: KubeClient, *, dry_run: bool = False, sleep=time.sleep) -> str:
    """Fetch CRIC, build the authdb, and update the ConfigMap if it changed.

    Returns:
        One line saying what happened.

    Raises:
        RefreshError: any failure; nothing was written.
    """
    data = fetch_json(config["cric_url"], config.get("ca_file"), sleep=sleep)
    origins, warnings = parse_catalogue(data, config.get("schemes", ["root", "davs"]),
                                        config.get("exclude_rses", []))
    for warning in warnings:
        print(f"xcache-refresh: warning: {warning}", file=sys.stderr)
    if not origins:
        raise RefreshError(f"CRIC at {config['cric_url']} lists no origin for schemes "
                           f"{', '.join(config.get('schemes', []))}; allow-list left as it is")
    origins = merge_origins(origins, config.get("static", {}))
    text = authdb_text(origins, config.get("template", "datalakepaths"),
                       config.get("privileges", "lr"))
    namespace, name, key = config["namespace"], config["configmap"], config.get("key", "authdb")
    current = kube.get_configmap(namespace, name)
    old = (current.get("data") or {}).get(key, "")
    count = sum(len(v) for v in origins.values())
    if old == text:
        return f"unchanged ConfigMap {namespace}/{name}: {count} origin(s)"
    added = sorted(authdb_origins(text) - authdb_origins(old))
    removed = sorted(authdb_origins(old) - authdb_origins(text))
    change = f"{count} origin(s), added {added or 'none'}, removed {removed or 'none'}"
    if dry_run:
        return f"would update ConfigMap {namespace}/{name}: {change}"
    version = (current.get("metadata") or {}).get("resourceVersion")
    kube.patch_configmap(namespace, name, key, text, version)
    return f"updated ConfigMap {namespace}/{name}: {change}"


def _in_cluster_api() -> str:
    host = os.environ.get("KUBERNETES_SERVICE_HOST", "kubernetes.default.svc")
    port = os.environ.get("KUBERNETES_SERVICE_PORT", "443")
    if ":" in host:
        host = f"[{host}]"
    return f"https://{host}:{port}"


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True, help="JSON config file.")
    parser.add_argument("--dry-run", action="store_true", help="Report, do not write.")
    parser.add_argument("--kube-api", default=None, help="API server URL (default: in-cluster).")
    parser.add_argument("--sa-dir", default=SA_DIR, help="ServiceAccount token/ca.crt folder.")
    args = parser.parse_args(argv)
    sa_dir = Path(args.sa_dir)
    try:
        with Path(args.config).open(encoding="utf-8") as handle:
            config = json.load(handle)
        with (sa_dir / "token").open(encoding="utf-8") as handle:
            token = handle.read().strip()
    except (OSError, ValueError) as exc:
        print(f"xcache-refresh: error: {exc}", file=sys.stderr)
        return 1
    ca = sa_dir / "ca.crt"
    kube = KubeClient(args.kube_api or _in_cluster_api(), token, str(ca) if ca.exists() else None)
    try:
        print(f"xcache-refresh: {refresh(config, kube, dry_run=args.dry_run)}")
    except RefreshError as exc:
        print(f"xcache-refresh: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
