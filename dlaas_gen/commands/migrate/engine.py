"""The migration run: find files, convert every document, validate, and write if asked.

Why: sources are shared across files (one HelmRepository per URL for the whole run), and a
kustomize patch must end on the same apiVersion as the object it patches, so all files are
parsed first; full objects are converted next (pass 1, their fates recorded), then patches,
patch targets and inline patch texts follow them (pass 2, `convert`). A file is written only
when it changed and every changed object in it validates.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Sequence
from pathlib import Path

from dlaas_gen.atomicfile import replace_file
from dlaas_gen.commands.migrate.convert import Converter, Item
from dlaas_gen.commands.migrate.docs import YamlFile, YamlFileError, looks_like_template, parse_file
from dlaas_gen.commands.migrate.kustomize import KUSTOMIZATION_NAMES, patch_files
from dlaas_gen.commands.migrate.model import (
    ERROR,
    MANUAL,
    NOTE,
    WARNING,
    FileOutcome,
    Finding,
    MigrationResult,
    Options,
)
from dlaas_gen.errors import UsageError

YAML_SUFFIXES = (".yaml", ".yml")
TEMPLATE_SUFFIXES = (".j2", ".jinja", ".jinja2", ".tpl", ".gotmpl", ".tmpl", ".jsonnet",
                     ".libsonnet")
#: Text that names a Flux API group (``*.fluxcd.io/``, ``flux.weave.works/``).
_FLUX_TEXT = re.compile(r"(?:[a-z0-9-]+\.)*(?:fluxcd\.io|flux\.weave\.works)/")


def _walk(root: Path, exclude: Path | None) -> list[Path]:
    out: list[Path] = []
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        dirs[:] = sorted(
            d for d in dirs
            if not d.startswith(".") and (exclude is None or (here / d).resolve() != exclude)
        )
        out.extend(here / f for f in sorted(files))
    return out


def collect_files(paths: Sequence[str | os.PathLike[str]], exclude: Path | None = None
                  ) -> list[tuple[Path, Path]]:
    """Return ``(file, base)`` for every file under `paths` (hidden folders skipped).

    Raises:
        UsageError: a path does not exist.
    """
    out: list[tuple[Path, Path]] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            out.extend((f, path) for f in _walk(path, exclude))
        elif path.is_file():
            out.append((path, path.parent))
        else:
            raise UsageError(f"no such file or folder: {raw}")
    return out


def names_flux(text: str) -> bool:
    """True when a text names a Flux API group (so a problem in it may hide a Flux object)."""
    return bool(_FLUX_TEXT.search(text))


class _Run:
    """State of one run (kept private: `migrate` is the API)."""

    def __init__(self, options: Options):
        self.options = options
        self.result = MigrationResult()
        self.parsed: list[tuple[Path, YamlFile, FileOutcome]] = []

    def _skip(self, display: str, line: int, message: str, text: str) -> None:
        """Report a file that cannot be read as YAML.

        An error when it names a Flux API, else a warning (it holds nothing to migrate, and
        kustomize would refuse it anyway).
        """
        level = ERROR if names_flux(text) else WARNING
        self.result.findings.append(Finding(display, line, level, f"{message}: skipped"))

    def read(self, file: Path) -> None:
        display = file.as_posix()
        if file.name != ".flux.yaml" and file.suffix not in YAML_SUFFIXES + TEMPLATE_SUFFIXES:
            return
        outcome = FileOutcome(display)
        self.result.files.append(outcome)
        try:
            data = file.read_bytes()
        except OSError as exc:
            outcome.unreadable = True
            self.result.findings.append(Finding(display, 0, ERROR,
                                                f"cannot read: {exc.strerror or 'I/O error'}"))
            return
        try:
            raw = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, exc.start) + 1
            col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
            self._skip(display, line, f"not UTF-8 (column {col} of this line)",
                       data.decode("latin-1"))
            return
        outcome.original = raw
        if file.name == ".flux.yaml":
            folder = file.parent.as_posix()
            folder = "./" if folder in (".", "") else f"./{folder.removeprefix('./')}"
            self.result.findings.append(Finding(
                display, 1, MANUAL, "Flux v1 .flux.yaml generator file",
                suggestion=f"delete it and point a Kustomization (kustomize.toolkit.fluxcd.io/v1) "
                           f"at {folder} (kustomize-controller builds it)"))
            return
        if file.suffix in TEMPLATE_SUFFIXES:
            if names_flux(raw):
                self.result.findings.append(Finding(
                    display, 0, NOTE, "template file mentions Flux APIs: skipped (not YAML), "
                    "migrate its template source by hand"))
            return
        try:
            yfile = parse_file(raw)
        except YamlFileError as exc:
            if looks_like_template(raw):
                self.result.findings.append(Finding(
                    display, exc.line, NOTE, "not plain YAML (template markup): skipped"))
            else:
                self._skip(display, exc.line, str(exc), raw)
            return
        self.parsed.append((file, yfile, outcome))

    def items(self) -> list[Item]:
        """Every mapping document of the parsed files, with the patch files marked."""
        patches: set[Path] = set()
        for file, yfile, _ in self.parsed:
            if file.name in KUSTOMIZATION_NAMES:
                for chunk in yfile.chunks:
                    patches.update(patch_files(chunk.doc, file.parent))
        out: list[Item] = []
        for file, yfile, outcome in self.parsed:
            in_patch = file.resolve() in patches
            out.extend(Item(file, chunk, outcome, in_patch) for chunk in yfile.chunks
                       if isinstance(chunk.doc, dict))
        return out


def _write_text(target: Path, text: str, like: Path | None) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    replace_file(target, text.encode("utf-8"), like=like)


def migrate(paths: Sequence[str | os.PathLike[str]], options: Options | None = None, *,
            write: bool = False, out: str | os.PathLike[str] | None = None) -> MigrationResult:
    """Migrate Flux v1 and Flux v2 beta objects under `paths`.

    Args:
        paths: files or folders.
        options: run settings.
        write: rewrite changed files in place (files with manual steps left are still written
            when what could be converted validates; the exit code stays 1).
        out: write a complete migrated copy of the inputs under this folder instead.

    Returns:
        Findings, per-object plans and per-file outcomes.

    Raises:
        UsageError: missing paths, or both `write` and `out`.
    """
    if write and out is not None:
        raise UsageError("--write and --out exclude each other")
    if not paths:
        raise UsageError("give at least one file or folder")
    options = options or Options()
    out_dir = Path(out).resolve() if out is not None else None
    files = collect_files(paths, exclude=out_dir)
    run = _Run(options)
    for file, _base in files:
        run.read(file)
    converter = Converter(options, run.result)
    converter.run(run.items(), [(f, y, o) for f, y, o in run.parsed])
    result = run.result
    result.findings.sort(key=lambda f: (f.path, f.line))
    result.plans.sort(key=lambda p: (p.path, p.line))
    if write:
        for outcome in result.changed_files:
            _write_text(Path(outcome.path), outcome.migrated or "", Path(outcome.path))
            outcome.written = outcome.path
        result.written = True
    elif out_dir is not None:
        by_path = {o.path: o for o in result.files}
        for file, base in files:
            target = out_dir / file.relative_to(base)
            found = by_path.get(file.as_posix())
            if found is not None and found.changed:
                _write_text(target, found.migrated or "", file)
                found.written = target.as_posix()
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(file, target)
        result.written = True
    return result


def scan(paths: Sequence[str | os.PathLike[str]], options: Options | None = None
         ) -> MigrationResult:
    """List every Flux v1 / beta object under `paths` with its plan (nothing is written)."""
    return migrate(paths, options)
