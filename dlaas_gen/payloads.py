"""The library side of the shipped payloads: their text, and what dlaas-gen shares with them.

Why: ``dlaas_gen/payload/`` holds programs that run elsewhere (the hub pod, user pods, the XCache
refresh job) and are shipped verbatim as ConfigMap or ``hub.extraFiles`` text. A few of their
functions must be the very same code on both sides (the origins merge and authdb format of the
refresh job are also what ``cric sync`` and ``render`` write; the hub's token settings are
validated by the hub module's own parser), so the library imports them from here and nothing
else in dlaas-gen imports ``dlaas_gen.payload`` as a module.
"""

from __future__ import annotations

from importlib import resources

from dlaas_gen.payload.hub_tokens import TokenSettings
from dlaas_gen.payload.xcache_refresh import (
    PSS_PROTOCOL,
    RefreshError,
    authdb_text,
    merge_origins,
    parse_catalogue,
    sort_endpoints,
)

__all__ = [
    "PSS_PROTOCOL",
    "RefreshError",
    "TokenSettings",
    "authdb_text",
    "merge_origins",
    "parse_catalogue",
    "payload_text",
    "sort_endpoints",
]

#: The package that holds the shipped files.
PAYLOAD_PACKAGE = "dlaas_gen.payload"


def payload_text(name: str) -> str:
    """Return the text of the payload file `name` (e.g. ``"token_renewer.py"``).

    Raises:
        FileNotFoundError: no such payload file.
    """
    return resources.files(PAYLOAD_PACKAGE).joinpath(name).read_text(encoding="utf-8")
