"""``cric sync`` for one site: fetch, derive origins, compare with or write the origins file."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import requests

from dlaas_gen.commands.cric.fetch import CricError, Deadline, fetch_catalogue
from dlaas_gen.commands.cric.write import write_atomic
from dlaas_gen.config.xcache import CricOrigins
from dlaas_gen.errors import UsageError
from dlaas_gen.loader import LoadedSite
from dlaas_gen.origins_file import OriginsFile, origins_path, origins_text
from dlaas_gen.payloads import RefreshError, parse_catalogue


@dataclass
class SyncResult:
    """Outcome of syncing one site."""

    site: str
    path: Path
    count: int
    changed: bool
    written: bool
    warnings: list[str] = field(default_factory=list)


def cric_origins(site: LoadedSite) -> CricOrigins | None:
    """The site's ``xcache.origins.cric`` section, None when its XCache does not use CRIC."""
    xcache = site.config.xcache
    return xcache.origins.cric if xcache is not None and xcache.origins is not None else None


def uses_cric(site: LoadedSite) -> bool:
    """True when the site's XCache takes origins from CRIC."""
    return bool(cric_origins(site))


def sync_site(
    site: LoadedSite,
    *,
    cric_url: str | None = None,
    check: bool = False,
    deadline: Deadline | None = None,
    session: requests.Session | None = None,
    sleep: Callable[[float], None] | None = None,
) -> SyncResult:
    """Fetch CRIC for `site` and write (or, with `check`, compare) its origins file.

    Any failure raises before the origins file is opened for writing, so it stays byte-for-byte
    as it was.

    Raises:
        UsageError: the site has no ``xcache.origins.cric``.
        CricError: fetch failed, the answer is not a catalogue, or it yields no origin.
    """
    cric = cric_origins(site)
    if not cric:
        raise UsageError(f"site {site.name!r} has no xcache.origins.cric section")
    url = cric_url or cric.url
    ca_file = None
    if cric.ca_file:
        ca = Path(cric.ca_file)
        ca_file = str(ca if ca.is_absolute() else site.path.parent / ca)
        if not Path(ca_file).is_file():
            raise CricError(f"{site.name}: CA file {ca_file} does not exist")
    data = fetch_catalogue(url, ca_file, deadline=deadline, session=session, sleep=sleep)
    try:
        origins, warnings = parse_catalogue(data, list(cric.schemes), list(cric.exclude_rses))
    except RefreshError as exc:
        raise CricError(f"CRIC {url}: {exc}") from None
    if not origins:
        raise CricError(f"CRIC {url}: no origin for schemes {', '.join(cric.schemes)} "
                        f"(site {site.name}); lock file left as it is")
    derived = OriginsFile(tuple(cric.schemes), tuple(cric.exclude_rses), origins)
    text = origins_text(site.name, derived)
    path = origins_path(site.path)
    try:
        old = path.read_bytes()
    except FileNotFoundError:
        old = None
    changed = old != text.encode("utf-8")
    written = False
    if changed and not check:
        write_atomic(path, text)
        written = True
    return SyncResult(site.name, path, derived.count, changed, written, warnings)
