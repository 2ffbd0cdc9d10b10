"""Writing the origins file ``sites/<site>.origins.yaml`` (its format: `dlaas_gen.origins_file`).

Why: a crash while writing must leave the old file or the new one, never half of it; the
reviewed file in git is what ``render`` trusts.
"""

from __future__ import annotations

from pathlib import Path

from dlaas_gen.atomicfile import replace_file


def write_atomic(path: Path, text: str) -> None:
    """Replace `path` with `text` atomically (a crash leaves the old or the new file)."""
    replace_file(path, text.encode("utf-8"))
