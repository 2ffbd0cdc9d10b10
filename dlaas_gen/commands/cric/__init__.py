"""CRIC storage catalogue → XCache origin lock files (``sites/<site>.origins.yaml``).

Why: the cache's allowed origins follow the catalogue, but ``render`` must stay offline and
deterministic; ``dlaas-gen cric sync`` fetches once and writes a reviewed lock file that
``render`` reads.
"""

from dlaas_gen.commands.cric.fetch import CricError, Deadline, fetch_catalogue
from dlaas_gen.commands.cric.lock import OriginsLock, lock_path, lock_text, read_lock
from dlaas_gen.commands.cric.sync import SyncResult, sync_site

__all__ = [
    "CricError",
    "Deadline",
    "OriginsLock",
    "SyncResult",
    "fetch_catalogue",
    "lock_path",
    "lock_text",
    "read_lock",
    "sync_site",
]
