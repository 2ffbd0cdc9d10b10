"""The chart lock ``charts/<chart>-<version>/``: written by ``chart pull``, read offline by render.

Why: the policy and the value checks need the chart's own defaults and schema for the pinned
version (reading a default as "unset" raises false errors such as NET001), but ``render`` must
stay offline and deterministic. As with the XCache origins file, ``dlaas-gen chart pull`` fetches
once and writes reviewed files into the repository: the chart archive (digest checked against
the repository index), and its ``values.yaml`` and ``values.schema.json`` taken out of it.
The z2jh version this release was written against (4.4.0) ships with the package, so a site on
it needs no pull.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml.error import YAMLError

from dlaas_gen import yamlio
from dlaas_gen.errors import DlaasGenError
from dlaas_gen.problem import Problem
from dlaas_gen.resources import schemas_dir

CHART = "jupyterhub"
#: chart name → {version: (schema file, defaults file)} shipped in ``dlaas_gen/data/schemas``.
VENDORED_CHARTS = {CHART: {"4.4.0": ("z2jh/values.schema.json", "z2jh/values.yaml")}}
CHARTS_FOLDER = "charts"
VALUES_FILE = "values.yaml"
SCHEMA_FILE = "values.schema.json"
RULE = "chart-lock"


class ChartLockError(DlaasGenError):
    """A lock folder is missing or unusable; `problem` says where and what to run."""

    def __init__(self, problem: Problem, *, missing: bool = False):
        """Wrap `problem`; `missing` is True when neither a lock nor a vendored copy exists."""
        self.problem = problem
        self.missing = missing
        super().__init__(problem.format())


@dataclass(frozen=True)
class ChartFiles:
    """The defaults and schema of one chart version, and where they came from.

    Attributes:
        chart: chart name.
        version: chart version.
        defaults: the chart's ``values.yaml`` as plain data.
        schema: the chart's ``values.schema.json`` as plain data.
        origin: ``lock`` (``charts/<chart>-<version>/``) or ``vendored`` (in the package).
        folder: the lock folder, None when vendored.
    """

    chart: str
    version: str
    defaults: dict[str, Any]
    schema: dict[str, Any]
    origin: str
    folder: Path | None = None


def charts_dir_for(sites_dir: Path) -> Path:
    """The lock folder of a repository: ``charts/`` beside its ``sites/``."""
    return sites_dir.parent / CHARTS_FOLDER


def lock_dir(charts_dir: Path, chart: str, version: str) -> Path:
    """``charts/<chart>-<version>/``."""
    return charts_dir / f"{chart}-{version}"


def archive_name(chart: str, version: str) -> str:
    """The archive's file name, as Helm names packaged charts."""
    return f"{chart}-{version}.tgz"


def archive_path(charts_dir: Path, chart: str, version: str) -> Path:
    """``charts/<chart>-<version>/<chart>-<version>.tgz``."""
    return lock_dir(charts_dir, chart, version) / archive_name(chart, version)


def pull_command(site: str | None = None) -> str:
    """The command that writes a missing lock."""
    return f"dlaas-gen chart pull {site}" if site else "dlaas-gen chart pull"


def is_vendored(chart: str, version: str) -> bool:
    """True when the package ships the chart version's defaults and schema."""
    return version in VENDORED_CHARTS.get(chart, {})


def has_lock(charts_dir: Path | None, chart: str, version: str) -> bool:
    """True when ``charts/<chart>-<version>/`` holds the values and the schema."""
    if charts_dir is None:
        return False
    folder = lock_dir(charts_dir, chart, version)
    return (folder / VALUES_FILE).is_file() and (folder / SCHEMA_FILE).is_file()


def available(charts_dir: Path | None, chart: str, version: str) -> bool:
    """True when the chart version's defaults and schema can be read offline."""
    return has_lock(charts_dir, chart, version) or is_vendored(chart, version)


def load_chart(
    chart: str, version: str, charts_dir: Path | None, *, site: str | None = None
) -> ChartFiles:
    """The defaults and schema of `chart` `version`: the lock first, else the vendored copy.

    Raises:
        ChartLockError: neither exists (``missing``), or a lock file is unreadable or malformed.
    """
    if has_lock(charts_dir, chart, version):
        folder = lock_dir(charts_dir, chart, version)  # type: ignore[arg-type]
        stamps = tuple((folder / name).stat().st_mtime_ns for name in (VALUES_FILE, SCHEMA_FILE))
        return _read_lock(str(folder.resolve()), chart, version, stamps)
    if is_vendored(chart, version):
        return _read_vendored(chart, version)
    folder = lock_dir(charts_dir or Path(CHARTS_FOLDER), chart, version)
    raise ChartLockError(Problem(str(folder), rule=RULE, message=missing_message(
        chart, version, site)), missing=True)


def missing_message(chart: str, version: str, site: str | None = None) -> str:
    """One line: the version is not locked, and the command that locks it."""
    return (f"{chart} chart {version} is not locked (no {CHARTS_FOLDER}/{chart}-{version}/): "
            f"run `{pull_command(site)}` and commit the folder")


@functools.lru_cache(maxsize=8)
def _read_lock(folder: str, chart: str, version: str, _stamps: tuple[int, ...]) -> ChartFiles:
    path = Path(folder)

    def fail(name: str, message: str) -> ChartLockError:
        return ChartLockError(Problem(str(path / name), 1, 1, rule=RULE, message=(
            f"{message}; run `{pull_command()}` again to rewrite the lock")))

    try:
        defaults = yamlio.load_fast((path / VALUES_FILE).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, YAMLError) as exc:
        raise fail(VALUES_FILE, f"cannot read: {str(exc).splitlines()[0]}") from None
    try:
        schema = json.loads((path / SCHEMA_FILE).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise fail(SCHEMA_FILE, f"cannot read: {str(exc).splitlines()[0]}") from None
    if not isinstance(defaults, dict):
        raise fail(VALUES_FILE, "not a mapping of chart values")
    if not isinstance(schema, dict):
        raise fail(SCHEMA_FILE, "not a JSON schema object")
    return ChartFiles(chart, version, defaults, schema, "lock", path)


@functools.lru_cache(maxsize=4)
def _read_vendored(chart: str, version: str) -> ChartFiles:
    schema_rel, defaults_rel = VENDORED_CHARTS[chart][version]
    with (schemas_dir() / schema_rel).open(encoding="utf-8") as handle:
        schema = json.load(handle)
    defaults = yamlio.load_fast((schemas_dir() / defaults_rel).read_text("utf-8"))
    return ChartFiles(chart, version, defaults, schema, "vendored")
