"""Replace a file in one step: a temporary file beside it, renamed over it.

Why: a crash or a full disk while writing must leave the old file or the new one, never half
of one (an origins lock or chart lock in git, a migrated manifest, a cache entry). One place
decides how: user files get the mode a new file of the user gets (``mkstemp`` alone makes them
0600) or the mode of the file they replace, and reach the disk before the rename; cache entries
stay private and are not flushed (a lost entry only costs time).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path


def replace_file(path: Path, data: bytes, *, like: Path | None = None) -> None:
    """Replace `path` by `data` atomically and durably.

    The file gets the mode of `like` when that exists (the file a migration rewrites), else
    the mode a file the user creates gets (``0666`` less the umask).
    """
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        if like is not None and like.exists():
            shutil.copymode(like, temp)
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.fchmod(fd, 0o666 & ~umask)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        Path(temp).replace(path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def store_entry(path: Path, data: bytes) -> bool:
    """Write the cache entry `path` atomically (mode 0600, its folder 0700 when made here).

    Returns:
        False when the folder is read-only or full: a cache that cannot be written only costs
        time, so no error is raised.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".entry-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            Path(temp).replace(path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
    except OSError:
        return False
    return True
