"""``chart pull``: fetch a chart from a Helm repository, verify it, and write the lock folder.

Why: a Helm repository is an ``index.yaml`` listing each version's archive URL and the SHA-256
digest of the archive (Helm's ``repo.ChartVersion.Digest``); checking the downloaded bytes
against that digest is what ``helm pull`` does before trusting them. Requests have bounded
timeouts, retries with backoff and one deadline for the run (the pattern of
`dlaas_gen.commands.cric`). Nothing is written unless every step succeeded, so a failed pull
leaves the lock as it was.
"""

from __future__ import annotations

import hashlib
import io
import ipaddress
import json
import tarfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from ruamel.yaml.error import YAMLError

from dlaas_gen import yamlio
from dlaas_gen.atomicfile import replace_file
from dlaas_gen.chart_lock import (
    SCHEMA_FILE,
    VALUES_FILE,
    archive_name,
    lock_dir,
)
from dlaas_gen.commands.cric.fetch import Deadline, _short
from dlaas_gen.errors import DlaasGenError, UsageError

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 20.0
ATTEMPTS = 3
BACKOFF = 1.0
RUN_DEADLINE = 120.0
#: hub.jupyter.org's index lists every development build; a few MiB today.
MAX_INDEX_BYTES = 64 * 1024 * 1024
MAX_ARCHIVE_BYTES = 32 * 1024 * 1024
MAX_MEMBER_BYTES = 8 * 1024 * 1024

_sleep = time.sleep  # module attribute, so tests can skip the backoff


class ChartPullError(DlaasGenError):
    """The chart could not be fetched or verified (one line; nothing was written)."""


@dataclass
class PullResult:
    """Outcome of pulling one chart version."""

    chart: str
    version: str
    folder: Path
    url: str
    digest: str
    written: bool


def check_repo_url(url: str) -> str:
    """Accept ``https://`` anywhere and plain ``http://`` only for a loopback host.

    Raises:
        UsageError: another scheme, or ``http://`` to a host that is not loopback.
    """
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return url
    if parts.scheme == "http" and parts.hostname and _loopback(parts.hostname):
        return url
    if parts.scheme == "http":
        raise UsageError(f"{url}: plain http:// is only accepted for a loopback host "
                         "(127.0.0.1, ::1, localhost); use https://")
    raise UsageError(f"{url}: not an https:// Helm repository URL")


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def pull_chart(
    repo_url: str,
    chart: str,
    version: str,
    charts_dir: Path,
    *,
    deadline: Deadline | None = None,
    session: requests.Session | None = None,
    sleep: Callable[[float], None] | None = None,
    attempts: int = ATTEMPTS,
) -> PullResult:
    """Fetch `chart` `version` from the Helm repository at `repo_url` into its lock folder.

    Raises:
        UsageError: the URL scheme is refused.
        ChartPullError: unreachable, not in the index, digest mismatch, or a bad archive.
    """
    base = check_repo_url(repo_url).rstrip("/") + "/"
    http = _Http(session or requests.Session(), deadline or Deadline(RUN_DEADLINE),
                 sleep or _sleep, attempts)
    index_url = urljoin(base, "index.yaml")
    index = _parse_index(http.get(index_url, MAX_INDEX_BYTES, "index"), index_url)
    entry = _find_entry(index, chart, version, index_url)
    url, digest = _entry_source(entry, base, chart, version, index_url)
    _same_rules(url, index_url)
    data = http.get(url, MAX_ARCHIVE_BYTES, "archive")
    actual = hashlib.sha256(data).hexdigest()
    if actual != digest:
        raise ChartPullError(f"{url}: digest mismatch: the index says sha256:{digest}, the "
                             f"archive is sha256:{actual}; nothing was written")
    files = _unpack(data, chart, version, url)
    files[archive_name(chart, version)] = data
    folder = lock_dir(charts_dir, chart, version)
    written = _write_folder(folder, files)
    return PullResult(chart, version, folder, url, f"sha256:{digest}", written)


@dataclass
class _Http:
    session: requests.Session
    deadline: Deadline
    sleep: Callable[[float], None]
    attempts: int

    def get(self, url: str, limit: int, what: str) -> bytes:
        """GET `url`; retry connection errors, timeouts and 5xx; never 4xx."""
        last = "no attempt made"
        for attempt in range(1, self.attempts + 1):
            left = self.deadline.remaining()
            if left <= 0:
                raise ChartPullError(f"{url}: gave up after {self.deadline.seconds:g} s ({last})")
            try:
                with self.session.get(url, stream=True, allow_redirects=True,
                                      timeout=(min(CONNECT_TIMEOUT, left), min(READ_TIMEOUT, left))
                                      ) as response:
                    if response.status_code >= 500:
                        last = f"HTTP {response.status_code}"
                    elif response.status_code >= 400:
                        raise ChartPullError(
                            f"{url}: HTTP {response.status_code} {response.reason} ({what})")
                    else:
                        _same_rules(response.url, url)  # a redirect may not leave https
                        return _read_capped(response, limit, url)
            except requests.exceptions.SSLError as exc:
                raise ChartPullError(f"{url}: TLS verification failed ({_short(exc)})") from None
            except requests.exceptions.Timeout:
                last = "timed out"
            except requests.exceptions.ConnectionError as exc:
                last = f"unreachable ({_short(exc)})"
            except requests.exceptions.RequestException as exc:
                raise ChartPullError(f"{url}: {_short(exc)}") from None
            if attempt < self.attempts:
                self.sleep(min(BACKOFF * 2 ** (attempt - 1), self.deadline.remaining()))
        raise ChartPullError(f"{url}: {last} (after {self.attempts} attempts)")


def _same_rules(url: str, source: str) -> None:
    """A URL the repository sent (archive URL, redirect) obeys the rules of the one given."""
    try:
        check_repo_url(url)
    except UsageError:
        raise ChartPullError(f"{source}: leads to {url}, which is refused "
                             "(https://, or http:// to a loopback host only)") from None


def _read_capped(response: requests.Response, limit: int, url: str) -> bytes:
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(chunk_size=65536):
        size += len(chunk)
        if size > limit:
            raise ChartPullError(f"{url}: larger than {limit // (1024 * 1024)} MiB; refused")
        chunks.append(chunk)
    return b"".join(chunks)


def _parse_index(data: bytes, url: str) -> dict[str, Any]:
    try:
        index = yamlio.load_fast(data.decode("utf-8"))
    except (UnicodeDecodeError, YAMLError) as exc:
        raise ChartPullError(f"{url}: not a Helm repository index "
                             f"({str(exc).splitlines()[0]})") from None
    if not isinstance(index, dict) or not isinstance(index.get("entries"), dict):
        raise ChartPullError(f"{url}: not a Helm repository index (no `entries` mapping)")
    return index


def _find_entry(index: dict[str, Any], chart: str, version: str, url: str) -> dict[str, Any]:
    entries = index["entries"].get(chart)
    if not isinstance(entries, list):
        raise ChartPullError(f"{url}: the repository has no chart {chart!r}")
    for entry in entries:
        if isinstance(entry, dict) and str(entry.get("version")) == version:
            return entry
    stable = sorted((str(e.get("version")) for e in entries
                     if isinstance(e, dict) and "-" not in str(e.get("version"))),
                    key=_version_key)[-3:]
    newest = f" (newest: {', '.join(stable)})" if stable else ""
    raise ChartPullError(f"{url}: {chart} {version} is not in the index{newest}")


def _version_key(text: str) -> tuple[int, ...]:
    return tuple(int(p) if p.isdigit() else -1 for p in text.split("."))


def _entry_source(entry: dict[str, Any], base: str, chart: str, version: str,
                  index_url: str) -> tuple[str, str]:
    urls = entry.get("urls")
    if not isinstance(urls, list) or not urls or not isinstance(urls[0], str):
        raise ChartPullError(f"{index_url}: {chart} {version} lists no archive URL")
    digest = str(entry.get("digest") or "").removeprefix("sha256:").lower()
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise ChartPullError(f"{index_url}: {chart} {version} has no SHA-256 digest in the "
                             "index; the archive cannot be verified")
    return urljoin(base, urls[0]), digest


def _unpack(data: bytes, chart: str, version: str, url: str) -> dict[str, bytes]:
    """``values.yaml`` and ``values.schema.json`` of the chart, after checking ``Chart.yaml``."""
    wanted = {f"{chart}/Chart.yaml": "Chart.yaml", f"{chart}/{VALUES_FILE}": VALUES_FILE,
              f"{chart}/{SCHEMA_FILE}": SCHEMA_FILE}
    found = _members(data, wanted, url)
    for name in wanted.values():
        if name not in found:
            raise ChartPullError(f"{url}: the archive has no {chart}/{name}")
    meta = _load_yaml(found.pop("Chart.yaml"), "Chart.yaml", url)
    if not isinstance(meta, dict) or (str(meta.get("name")), str(meta.get("version"))) != (
            chart, version):
        got = f"{meta.get('name')} {meta.get('version')}" if isinstance(meta, dict) else "?"
        raise ChartPullError(f"{url}: Chart.yaml says {got}, expected {chart} {version}")
    if not isinstance(_load_yaml(found[VALUES_FILE], VALUES_FILE, url), dict):
        raise ChartPullError(f"{url}: {VALUES_FILE} is not a mapping")
    try:
        schema = json.loads(found[SCHEMA_FILE].decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ChartPullError(f"{url}: {SCHEMA_FILE} is not valid JSON") from None
    if not isinstance(schema, dict):
        raise ChartPullError(f"{url}: {SCHEMA_FILE} is not a JSON schema object")
    return found


def _members(data: bytes, wanted: dict[str, str], url: str) -> dict[str, bytes]:
    """The regular files of the archive named in `wanted` (archive path → name), by name."""
    found: dict[str, bytes] = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
            for member in archive:
                name = wanted.get(member.name.removeprefix("./"))
                if name is None or not member.isreg():
                    continue
                if member.size > MAX_MEMBER_BYTES:
                    raise ChartPullError(f"{url}: {member.name} is too large; refused")
                handle = archive.extractfile(member)
                found[name] = handle.read() if handle else b""
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise ChartPullError(f"{url}: not a chart archive ({exc})") from None
    return found


def _load_yaml(data: bytes, name: str, url: str) -> Any:
    try:
        return yamlio.load_fast(data.decode("utf-8"))
    except (UnicodeDecodeError, YAMLError) as exc:
        raise ChartPullError(f"{url}: {name} is not valid YAML "
                             f"({str(exc).splitlines()[0]})") from None


def _write_folder(folder: Path, files: dict[str, bytes]) -> bool:
    """Write the files that differ, each atomically; True when anything was written."""
    changed = {name: data for name, data in files.items()
               if not (folder / name).is_file() or (folder / name).read_bytes() != data}
    if not changed:
        return False
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in sorted(changed.items()):
        replace_file(folder / name, data)
    return True


