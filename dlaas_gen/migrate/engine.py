"""The migration run: find files, convert every document, validate, and write if asked.

Why: sources are shared across files (one HelmRepository per URL for the whole run), so all files
are parsed before any is converted; a file is written only when it changed and every migrated
object in it validates.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dlaas_gen.errors import UsageError
from dlaas_gen.migrate.annotations import remove_flux_v1_annotations
from dlaas_gen.migrate.beta import ga_api_version, migrate_beta
from dlaas_gen.migrate.ctx import DocCtx, object_label
from dlaas_gen.migrate.docs import (
    Chunk,
    YamlFile,
    YamlFileError,
    looks_like_template,
    parse_file,
    render_file,
)
from dlaas_gen.migrate.edit import get_path
from dlaas_gen.migrate.helmop import HELM_V2, is_helm_operator_release, migrate_helm_operator
from dlaas_gen.migrate.kustomize import enclosing_namespace, is_kustomize_config, update_kustomize_refs
from dlaas_gen.migrate.model import (
    ERROR,
    MANUAL,
    NOTE,
    FileOutcome,
    Finding,
    MigrationResult,
    ObjectPlan,
    Options,
)
from dlaas_gen.migrate.schema import validate_object
from dlaas_gen.migrate.sources import SourceRegistry

YAML_SUFFIXES = (".yaml", ".yml")
TEMPLATE_SUFFIXES = (".j2", ".jinja", ".jinja2", ".tpl", ".gotmpl", ".tmpl", ".jsonnet", ".libsonnet")
_FLUX_MARKERS = ("fluxcd.io", "flux.weave.works")


def _walk(root: Path, exclude: Path | None) -> list[Path]:
    out = []
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


def _is_partial(doc: Any) -> bool:
    chart = get_path(doc, "spec", "chart")
    return not (isinstance(chart, dict) and ("repository" in chart or "git" in chart))


def _rel(path: Path) -> str:
    try:
        return Path(os.path.relpath(path)).as_posix()
    except ValueError:  # another drive on Windows
        return path.as_posix()


class _Run:
    """State of one run (kept private: `migrate` is the API)."""

    def __init__(self, options: Options):
        self.options = options
        self.result = MigrationResult()
        self.registry = SourceRegistry(interval=options.interval)
        self.parsed: list[tuple[Path, YamlFile, FileOutcome]] = []

    def namespace(self, doc: Any, file: Path) -> tuple[str, bool, str]:
        """Return ``(namespace, explicit, where it came from)`` for a namespaced object."""
        ns = get_path(doc, "metadata", "namespace")
        if ns:
            return str(ns), True, "metadata.namespace"
        found = enclosing_namespace(file)
        if found:
            return found[0], False, f"namespace of {_rel(found[1])}"
        if self.options.default_namespace:
            return self.options.default_namespace, False, "--default-namespace"
        return "default", False, "the Helm Operator's default"

    def read(self, file: Path) -> None:
        display = file.as_posix()
        if file.name != ".flux.yaml" and file.suffix not in YAML_SUFFIXES + TEMPLATE_SUFFIXES:
            return
        outcome = FileOutcome(display)
        self.result.files.append(outcome)
        try:
            raw = file.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            self.result.findings.append(Finding(display, 0, ERROR, f"cannot read: {exc}"))
            return
        outcome.original = raw
        if file.name == ".flux.yaml":
            self.result.findings.append(Finding(
                display, 1, MANUAL, "Flux v1 .flux.yaml generator file",
                suggestion=f"delete it and point a Kustomization (kustomize.toolkit.fluxcd.io/v1) "
                           f"at ./{file.parent.as_posix()} (kustomize-controller builds it)"))
            return
        if file.suffix in TEMPLATE_SUFFIXES:
            if any(m in raw for m in _FLUX_MARKERS):
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
                self.result.findings.append(Finding(display, exc.line, ERROR, str(exc)))
            return
        self.parsed.append((file, yfile, outcome))
        for chunk in yfile.chunks:
            if isinstance(chunk.doc, dict) and chunk.doc.get("kind") in (
                    "HelmRepository", "GitRepository", "OCIRepository"):
                self.registry.register_existing(chunk.doc, self.namespace(chunk.doc, file)[0])

    def convert_chunk(self, file: Path, chunk: Chunk) -> tuple[DocCtx, bool, bool]:
        """Convert one document; return ``(ctx, flux object migrated, partial)``."""
        doc = chunk.doc
        display = file.as_posix()
        ns, explicit, origin = self.namespace(doc, file)
        name = str(get_path(doc, "metadata", "name") or "")
        ctx = DocCtx(display, chunk.body_line, object_label(doc, ns if explicit or (
            is_helm_operator_release(doc) and not _is_partial(doc)) else None), self.options)
        api, kind = str(doc.get("apiVersion", "")), str(doc.get("kind", ""))
        line = ctx.line(doc, "apiVersion")
        label = ctx.obj
        migrated = partial = False
        if is_helm_operator_release(doc):
            partial = _is_partial(doc)
            if not explicit and not partial:
                ctx.warn(f"no metadata.namespace: assumed {ns} ({origin}); the release name "
                         f"depends on it", doc, "metadata")
            res = migrate_helm_operator(doc, ctx, ns, explicit, self.registry, display)
            self.result.plans.append(ObjectPlan(display, line, label, api,
                                                HELM_V2 if res.migrated else "", res.plan,
                                                res.manual or any(f.level == MANUAL
                                                                  for f in ctx.findings)))
            if not res.migrated:
                return ctx, False, partial
            chunk.extra.extend(src.doc for src in res.new_sources)
            migrated = True
        elif kind == "FluxHelmRelease" or api.startswith("helm.integrations.flux.weave.works/"):
            ctx.manual(f"{api} {kind}: chartGitPath is relative to the operator's Git repository "
                       f"(URL unknown); rewrite it as a helm.toolkit.fluxcd.io/v2 HelmRelease",
                       doc, "apiVersion")
            self.result.plans.append(ObjectPlan(display, line, label, api, "", "manual", True))
            return ctx, False, False
        elif ga_api_version(api, kind):
            new = migrate_beta(doc, ctx)
            count = sum(1 for f in ctx.findings if f.level == "change")
            self.result.plans.append(ObjectPlan(display, line, label, api, str(new),
                                                f"{count} change(s)"))
            migrated = True
        elif is_kustomize_config(doc, file.name):
            migrated = update_kustomize_refs(doc, ctx)
            if migrated:
                self.result.plans.append(ObjectPlan(display, line, label, api, api,
                                                    "group/version references updated"))
            return ctx, migrated, False
        if remove_flux_v1_annotations(doc, ctx, ns, name):
            if not migrated:
                self.result.plans.append(ObjectPlan(display, line, label, api, api,
                                                    "Flux v1 annotations removed"))
            migrated = True
        return ctx, migrated, partial

    def convert_file(self, file: Path, yfile: YamlFile, outcome: FileOutcome) -> None:
        findings: list[Finding] = []
        valid = True
        for chunk in yfile.chunks:
            if not isinstance(chunk.doc, dict):
                continue
            ctx, changed, partial = self.convert_chunk(file, chunk)
            chunk.changed = changed
            if changed:
                for rel, col, message in validate_object(chunk.doc, partial=partial):
                    ctx.findings.append(Finding(ctx.path, chunk.abs_line(rel), ERROR,
                                                f"invalid after migration: {message} (col {col})",
                                                ctx.obj))
                for extra in chunk.extra:
                    for _rel, _col, message in validate_object(extra):
                        ctx.error(f"invalid new {extra['kind']}: {message}", chunk.doc, "kind")
            valid &= not any(f.level == ERROR for f in ctx.findings)
            findings.extend(ctx.findings)
        self.result.findings.extend(findings)
        if not any(c.changed or c.extra for c in yfile.chunks):
            return
        if not valid:
            outcome.valid = False
            self.result.findings.append(Finding(outcome.path, 0, ERROR,
                                                "not written: migrated objects do not validate"))
            return
        outcome.migrated = render_file(yfile)


def _write_text(target: Path, text: str, like: Path | None) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    with os.fdopen(fd, "wb") as handle:
        handle.write(text.encode("utf-8"))
    if like is not None and like.exists():
        shutil.copymode(like, tmp)
    Path(tmp).replace(target)


def migrate(paths: Sequence[str | os.PathLike[str]], options: Options | None = None, *,
            write: bool = False, out: str | os.PathLike[str] | None = None) -> MigrationResult:
    """Migrate Flux v1 and Flux v2 beta objects under `paths`.

    Args:
        paths: files or folders.
        options: run settings.
        write: rewrite changed files in place.
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
    for file, yfile, outcome in run.parsed:
        run.convert_file(file, yfile, outcome)
    result = run.result
    result.findings.sort(key=lambda f: (f.path, f.line))
    if write:
        for outcome in result.changed_files:
            _write_text(Path(outcome.path), outcome.migrated or "", Path(outcome.path))
            outcome.written = outcome.path
        result.written = True
    elif out_dir is not None:
        by_path = {o.path: o for o in result.files}
        for file, base in files:
            target = out_dir / file.relative_to(base)
            outcome = by_path.get(file.as_posix())
            if outcome is not None and outcome.changed:
                _write_text(target, outcome.migrated or "", file)
                outcome.written = target.as_posix()
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(file, target)
        result.written = True
    return result


def scan(paths: Sequence[str | os.PathLike[str]], options: Options | None = None
         ) -> MigrationResult:
    """List every Flux v1 / beta object under `paths` with its plan (nothing is written)."""
    return migrate(paths, options)
