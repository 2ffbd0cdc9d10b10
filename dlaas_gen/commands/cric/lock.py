"""The origins lock file ``sites/<site>.origins.yaml``: written by ``cric sync``, read by render.

Why: a file in git makes each catalogue change a reviewed diff and keeps ``render`` offline and
deterministic; the same catalogue always gives the same bytes (sorted keys and lists, no
timestamps).
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ruamel.yaml.error import YAMLError

from dlaas_gen import yamlio
from dlaas_gen.errors import ConfigError
from dlaas_gen.payloads import PSS_PROTOCOL, sort_endpoints
from dlaas_gen.problem import Problem

LOCK_SUFFIX = ".origins.yaml"
HEADER = (
    "# XCache origins from CRIC, written by `dlaas-gen cric sync`; `dlaas-gen render` reads it.\n"
    "# Do not edit by hand: run `dlaas-gen cric sync {site}` and commit the result.\n"
)
RULE = "xcache-origins"


@dataclass(frozen=True)
class OriginsLock:
    """The CRIC-derived origins of one site and the settings they were derived with."""

    schemes: tuple[str, ...]
    exclude_rses: tuple[str, ...] = ()
    origins: dict[str, list[str]] = field(default_factory=dict)

    @property
    def count(self) -> int:
        """Number of ``host:port`` entries over all protocols."""
        return sum(len(v) for v in self.origins.values())


def lock_path(site_file: Path) -> Path:
    """``sites/<site>.origins.yaml`` next to ``sites/<site>.yaml``."""
    return site_file.with_name(site_file.name.removesuffix(".yaml") + LOCK_SUFFIX)


def lock_text(site: str, lock: OriginsLock) -> str:
    """Serialise a lock file deterministically."""
    doc = {
        "schemes": sorted(set(lock.schemes)),
        "exclude_rses": sorted(set(lock.exclude_rses)),
        "origins": {k: sort_endpoints(v) for k, v in sorted(lock.origins.items()) if v},
    }
    return HEADER.format(site=site) + yamlio.dump_doc(doc)


def read_lock(path: Path, shown: str | None = None) -> OriginsLock:
    """Read and check a lock file.

    Raises:
        ConfigError: missing, unreadable or malformed (one problem, at the file).
    """
    label = shown or str(path)

    def fail(message: str, line: int = 1) -> ConfigError:
        return ConfigError([Problem(label, line, 1, rule=RULE, message=message)])

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise fail("missing: run `dlaas-gen cric sync` and commit the lock file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise fail(f"cannot read: {exc}") from None
    try:
        doc = yamlio.plain(yamlio.load_roundtrip(text))
    except YAMLError as exc:
        raise fail(f"invalid YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("origins"), dict):
        raise fail("not an origins lock file (no `origins` mapping)")
    origins: dict[str, list[str]] = {}
    for protocol, endpoints in doc["origins"].items():
        if protocol not in set(PSS_PROTOCOL.values()) or not isinstance(endpoints, list):
            raise fail(f"origins.{protocol}: expected root/https/http with a list of host:port")
        if not all(isinstance(e, str) and e.rpartition(":")[2].isdigit() for e in endpoints):
            raise fail(f"origins.{protocol}: every entry must be host:port")
        origins[protocol] = sort_endpoints(endpoints)
    if not any(origins.values()):
        raise fail("lists no origin: run `dlaas-gen cric sync` (it never writes an empty list)")
    return OriginsLock(
        schemes=tuple(doc.get("schemes") or ()),
        exclude_rses=tuple(doc.get("exclude_rses") or ()),
        origins=origins,
    )


def write_atomic(path: Path, text: str) -> None:
    """Replace `path` with `text` atomically (a crash leaves the old or the new file)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
