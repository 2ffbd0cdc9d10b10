"""Cross-field checks of a validated `SiteConfig`, each reported at the value to change.

Why: pydantic validators see one model at a time and lose the position of the offending item;
these checks span sections and return the path (``loc``) of what is wrong, so the loader can
point at the exact line. One module per site section (`auth`, `rucio`, `eos`, ...), the shape
of a check in `finding`, their order in `registry`.
"""

from dlaas_gen.config.checks.finding import Check, Finding, Loc
from dlaas_gen.config.checks.registry import CHECKS, run_checks

__all__ = ["CHECKS", "Check", "Finding", "Loc", "run_checks"]
