"""The chart lock a site needs: found, or one located line naming the command to run."""

from __future__ import annotations

from pathlib import Path

from dlaas_gen import yamlio
from dlaas_gen.chart_lock import CHART, RULE, ChartFiles, ChartLockError, load_chart
from dlaas_gen.errors import ConfigError
from dlaas_gen.loader import LoadedSite
from dlaas_gen.problem import Problem


def site_chart(site: LoadedSite, charts_dir: Path | None) -> ChartFiles:
    """The defaults and schema of the site's pinned z2jh chart version.

    Raises:
        ConfigError: one problem, at ``chart.version`` in the site file when the version is not
            locked (naming ``dlaas-gen chart pull <site>``), at the lock file when it is broken.
    """
    try:
        return load_chart(CHART, site.config.chart.version, charts_dir, site=site.name)
    except ChartLockError as exc:
        if not exc.missing:
            raise ConfigError([exc.problem]) from None
        line, col = version_position(site.path)
        raise ConfigError([Problem(str(site.path), line, col, rule=RULE,
                                   message=exc.problem.message)]) from None


def version_position(path: Path) -> tuple[int, int]:
    """Line and column of ``chart.version`` in a site file (1, 1 when it cannot be found)."""
    try:
        raw = yamlio.load_roundtrip(path.read_text(encoding="utf-8"))
    except Exception:  # noqa: BLE001 - the file was loaded a moment ago; a position is a bonus
        return 1, 1
    return yamlio.position_of(raw, ("chart", "version"), value=True)
