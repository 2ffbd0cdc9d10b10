"""The XCache origins file ``sites/<site>.origins.yaml``: its format, read and written here.

Why: a file in git makes each catalogue change a reviewed diff and keeps ``render`` offline and
deterministic; the same catalogue always gives the same bytes (sorted keys and lists, no
timestamps). ``dlaas-gen cric sync`` writes it (`dlaas_gen.commands.cric`); the loader reads it
into the loaded site (`dlaas_gen.loader`), so no later stage touches the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ruamel.yaml.error import YAMLError

from dlaas_gen import yamlio
from dlaas_gen.defaults import ORIGINS_SUFFIX, SITE_SUFFIX
from dlaas_gen.errors import ConfigError
from dlaas_gen.payloads import PSS_PROTOCOL, sort_endpoints
from dlaas_gen.problem import Problem

HEADER = (
    "# XCache origins from CRIC, written by `dlaas-gen cric sync`; `dlaas-gen render` reads it.\n"
    "# Do not edit by hand: run `dlaas-gen cric sync {site}` and commit the result.\n"
)
RULE = "xcache-origins"


@dataclass(frozen=True)
class OriginsFile:
    """The CRIC-derived origins of one site and the settings they were derived with."""

    schemes: tuple[str, ...]
    exclude_rses: tuple[str, ...] = ()
    origins: dict[str, list[str]] = field(default_factory=dict)

    @property
    def count(self) -> int:
        """Number of ``host:port`` entries over all protocols."""
        return sum(len(v) for v in self.origins.values())


def origins_path(site_file: Path) -> Path:
    """``sites/<site>.origins.yaml`` next to ``sites/<site>.yaml``."""
    return site_file.with_name(site_file.name.removesuffix(SITE_SUFFIX) + ORIGINS_SUFFIX)


def origins_text(site: str, origins: OriginsFile) -> str:
    """The file's text, deterministic: sorted keys and lists, a header naming the command."""
    doc = {
        "schemes": sorted(set(origins.schemes)),
        "exclude_rses": sorted(set(origins.exclude_rses)),
        "origins": {k: sort_endpoints(v) for k, v in sorted(origins.origins.items()) if v},
    }
    return HEADER.format(site=site) + yamlio.dump_doc(doc)


def read_origins_file(path: Path, shown: str | None = None) -> OriginsFile:
    """Read and check an origins file.

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
        doc = _parse(text)
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
    return OriginsFile(
        schemes=tuple(doc.get("schemes") or ()),
        exclude_rses=tuple(doc.get("exclude_rses") or ()),
        origins=origins,
    )


def _parse(text: str) -> object:
    """The file's data: the fast reader, else the round-trip parser for its error message."""
    try:
        return yamlio.load_rendered(text)
    except YAMLError:
        return yamlio.plain(yamlio.load_roundtrip(text))
