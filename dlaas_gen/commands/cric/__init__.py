"""CRIC storage catalogue → XCache origins files (``sites/<site>.origins.yaml``).

Why: the cache's allowed origins follow the catalogue, but ``render`` must stay offline and
deterministic; ``dlaas-gen cric sync`` fetches once and writes a reviewed origins file
(`dlaas_gen.origins_file`) that the loader reads.
"""

from dlaas_gen.commands.cric.fetch import CricError, Deadline, fetch_catalogue
from dlaas_gen.commands.cric.sync import SyncResult, sync_site

__all__ = [
    "CricError",
    "Deadline",
    "SyncResult",
    "fetch_catalogue",
    "sync_site",
]
