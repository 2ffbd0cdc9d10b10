"""Writing the origins file ``sites/<site>.origins.yaml`` (its format: `dlaas_gen.origins_file`).

Why: a crash while writing must leave the old file or the new one, never half of it; the
reviewed file in git is what ``render`` trusts.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomic(path: Path, text: str) -> None:
    """Replace `path` with `text` atomically (a crash leaves the old or the new file)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
