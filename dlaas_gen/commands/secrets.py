"""List the Secrets a site expects ops to create (the rendered tree only references them)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from dlaas_gen.context import SiteInput, build_context
from dlaas_gen.loader import load_site, read_cric_origins


@dataclass(frozen=True, order=True)
class ExpectedSecret:
    """One Secret key a site needs."""

    namespace: str
    name: str
    key: str
    used_for: str
    target: str


def expected_secrets(site_file: Path) -> list[ExpectedSecret]:
    """Every (namespace, Secret, key) the rendered site refers to, sorted and de-duplicated."""
    site = load_site(site_file)
    ctx = build_context(SiteInput(site.name, site.config, cric_origins=read_cric_origins(site)))
    rows = {ExpectedSecret(**asdict(row)) for row in ctx.secrets}
    return sorted(rows)
