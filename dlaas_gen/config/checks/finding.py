"""What a site check is and what it yields.

Why: a check returns the path (``loc``) of the value to change rather than a message alone, so
the loader can point at the exact ``file:line:col``; the types are kept apart from the list of
checks so that every section's module depends on them and on nothing else of this package.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from dlaas_gen.config.site import SiteConfig

#: Path of a value in the site file: keys and list indexes, e.g. ``("profiles", 0, "slug")``.
Loc = tuple[Any, ...]
#: ``(loc, level, message)``; level is ``error`` or ``warning``.
Finding = tuple[Loc, str, str]
#: A check: every finding of one rule over a validated site.
Check = Callable[[SiteConfig], Iterator[Finding]]
