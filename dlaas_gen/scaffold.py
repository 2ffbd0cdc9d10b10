"""Start a new site file from an example shipped with the package (``dlaas-gen init``).

Why: a new site should validate and render the moment it exists, so it is a copy of a
maintained example (the repository's own ``sites/``), checked through the real pipeline before
it is written; the schema line comes first so editors complete and check fields at once.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from dlaas_gen.config import SiteConfig
from dlaas_gen.cric.lock import lock_path
from dlaas_gen.errors import DlaasGenError, UsageError
from dlaas_gen.loader import SITE_SUFFIX, discover_sites, site_name
from dlaas_gen.names import is_dns1123_label
from dlaas_gen.pipeline import build_site
from dlaas_gen.problem import Problem
from dlaas_gen.resources import examples_dir
from dlaas_gen.schema import SCHEMA_FILE_NAME, SCHEMA_LINE, site_schema_text

DEFAULT_EXAMPLE = "demo"
_TOP_KEY = re.compile(r"^([a-z_]+):")


class SiteExistsError(DlaasGenError):
    """The site file to create exists already (never overwritten; exit code 1)."""


@dataclass
class InitResult:
    """What `init_site` wrote and what the check of the new site found."""

    site_file: Path
    example: str
    schema_file: Path | None = None
    objects: int = 0
    warnings: list[Problem] = field(default_factory=list)


def example_names() -> list[str]:
    """Names of the example sites shipped with the package."""
    return [site_name(p) for p in discover_sites(examples_dir())]


def site_text(name: str, example: str) -> str:
    """The text of a new site `name` copied from `example`, schema line first, commented.

    Why: top-level keys without a comment of their own get their description from the model
    (descriptions live once, in `SiteConfig`), so the file explains itself in an editor.

    Raises:
        UsageError: there is no such example.
    """
    if example not in example_names():
        raise UsageError(f"no example {example!r}; choose one of: {', '.join(example_names())}")
    body = (examples_dir() / f"{example}{SITE_SUFFIX}").read_text(encoding="utf-8").splitlines()
    if body and body[0].startswith("# yaml-language-server:"):
        body = body[1:]
    header = [
        SCHEMA_LINE,
        "#",
        f"# Site {name!r}, started from the {example!r} example by `dlaas-gen init`.",
        "# Every field: docs/site-reference.md (`dlaas-gen schema --format markdown`).",
        f"# Render and check: `dlaas-gen render {name}` then `dlaas-gen validate rendered/{name}`.",
    ]
    return "\n".join(header + _comment_top_keys(body)) + "\n"


def _comment_top_keys(lines: list[str]) -> list[str]:
    out: list[str] = []
    for line in lines:
        match = _TOP_KEY.match(line)
        info = SiteConfig.model_fields.get(match.group(1)) if match else None
        previous = out[-1].strip() if out else ""
        if info is not None and info.description and not previous.startswith("#"):
            out.append(f"# {info.description}")
        out.append(line)
    return out


def init_site(name: str, sites_dir: Path, example: str = DEFAULT_EXAMPLE) -> InitResult:
    """Write ``sites_dir/<name>.yaml`` from `example`, and the schema file if it is missing.

    The new text is rendered and validated (in a scratch folder) before anything is written.

    Raises:
        UsageError: bad site name or unknown example.
        SiteExistsError: the site file exists already.
        ProblemsError: the example does not render cleanly (a bug in the shipped example).
    """
    if not is_dns1123_label(name):
        raise UsageError(
            f"site name {name!r} is not a DNS-1123 label: use lower-case letters, digits and '-'"
        )
    target = sites_dir / f"{name}{SITE_SUFFIX}"
    if target.exists():
        raise SiteExistsError(f"{target} exists; refusing to overwrite it")
    text = site_text(name, example)
    origins = _example_lock(example, name)
    with tempfile.TemporaryDirectory(prefix="dlaas-gen-init-") as scratch:
        trial = Path(scratch) / target.name
        trial.write_text(text, encoding="utf-8")
        if origins is not None:
            lock_path(trial).write_text(origins, encoding="utf-8")
        built = build_site(trial)
    problems = [_relocate(p, str(trial), str(target)) for p in built.problems]
    errors = [p for p in problems if p.is_error]
    if errors:
        raise DlaasGenError(f"example {example!r} does not validate: {errors[0].format()}")
    sites_dir.mkdir(parents=True, exist_ok=True)
    _create_exclusive(target, text)
    if origins is not None and not lock_path(target).exists():
        lock_path(target).write_text(origins, encoding="utf-8")
    result = InitResult(site_file=target, example=example, objects=len(built.manifests))
    result.warnings = [p for p in problems if not p.is_error]
    schema = sites_dir / SCHEMA_FILE_NAME
    if not schema.exists():
        schema.write_text(site_schema_text(), encoding="utf-8")
        result.schema_file = schema
    return result


def _example_lock(example: str, name: str) -> str | None:
    """The example's XCache origins lock file, renamed for `name` (None when it has none)."""
    path = lock_path(examples_dir() / f"{example}{SITE_SUFFIX}")
    if not path.is_file():
        return None
    return path.read_text(encoding="utf-8").replace(f"cric sync {example}`", f"cric sync {name}`")


def _relocate(problem: Problem, scratch: str, shown: str) -> Problem:
    """Name the real target instead of the scratch copy in a finding."""
    if problem.path != scratch:
        return problem
    return Problem(shown, problem.line, problem.col, problem.level, problem.rule, problem.message)


def _create_exclusive(path: Path, text: str) -> None:
    """Create `path`, failing if it appeared meanwhile (O_EXCL: never overwrite)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        raise SiteExistsError(f"{path} exists; refusing to overwrite it") from None
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}") from None
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
