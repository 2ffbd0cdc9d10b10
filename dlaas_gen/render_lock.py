"""The render lock: one ``render`` at a time writes a rendered folder.

Why: two runs writing ``rendered/`` at once would interleave their folder swaps. The lock is
an ``flock`` on ``.dlaas-gen.lock`` beside the rendered folder (never inside it, so it is not
part of any site tree), git-ignored. The kernel releases an flock when its process dies, so a
lock file left by a killed run never blocks the next one.

Not to be confused with the XCache origins file (``sites/<site>.origins.yaml``) or the chart
locks (``charts/``): those are pinned inputs in git; this is machine state of a running write.
"""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator
from pathlib import Path

from dlaas_gen.errors import LockedError

#: The render lock file, beside the rendered folder (``dlaas-gen init`` git-ignores it).
RENDER_LOCK_FILE = ".dlaas-gen.lock"


def render_lock_path(out_dir: Path) -> Path:
    """The render lock file of `out_dir`: beside it, never inside it."""
    return out_dir.resolve().parent / RENDER_LOCK_FILE


@contextlib.contextmanager
def render_lock(out_dir: Path) -> Iterator[None]:
    """Hold the render lock of `out_dir` (an exclusive flock) for the duration of a write.

    Raises:
        LockedError: another run holds it; the message names the lock file.
    """
    path = render_lock_path(out_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LockedError(
                f"another dlaas-gen run is writing {out_dir} (lock {path}); try again when it ends"
            ) from None
        yield
