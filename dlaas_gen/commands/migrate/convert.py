"""Per-document conversion in two passes: full objects first, then what patches them.

Why: a kustomize patch (a patch document, an inline patch text, a patch ``target``, a
transformer ``fieldSpec``) must end on the same apiVersion as its target, or the overlay stops
building; so full objects are converted first and their fates recorded (`pairing.Fates`), then
every patch follows its target: both move, or neither does and the pair is reported together.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dlaas_gen.commands.migrate.annotations import remove_flux_v1_annotations
from dlaas_gen.commands.migrate.beta import migrate_beta
from dlaas_gen.commands.migrate.ctx import DocCtx, object_label
from dlaas_gen.commands.migrate.docs import Chunk, YamlFile, YamlFileError, parse_file, render_file
from dlaas_gen.commands.migrate.edit import get_path
from dlaas_gen.commands.migrate.helmop import (
    HELM_V2,
    is_helm_operator_release,
    migrate_helm_operator,
)
from dlaas_gen.commands.migrate.kustomize import (
    enclosing_namespace,
    is_kustomize_config,
    update_flux_patches,
    update_kustomize_refs,
)
from dlaas_gen.commands.migrate.model import (
    ERROR,
    MANUAL,
    FileOutcome,
    Finding,
    MigrationResult,
    ObjectPlan,
    Options,
)
from dlaas_gen.commands.migrate.pairing import Fate, Fates
from dlaas_gen.commands.migrate.sources import SourceRegistry
from dlaas_gen.commands.migrate.validation import has_schema, validate_object
from dlaas_gen.commands.migrate.versions import (
    ALPHA,
    CURRENT,
    NEWER_OK,
    OLD,
    UNKNOWN,
    classify,
    close_group,
)

FLUX_KUSTOMIZATION_GROUP = "kustomize.toolkit.fluxcd.io/"


@dataclass
class Item:
    """One mapping document of an input file and what the run decided about it.

    Attributes:
        file: the file.
        chunk: the document.
        outcome: the file's outcome record.
        in_patch_file: a kustomization lists the file as a patch.
        role: ``helmop``, ``legacy``, ``beta``, ``alpha``, ``unknown``, ``current``,
            ``kustomize`` or ``other``.
        partial: a kustomize patch (converted in pass 2, following its target).
        ctx: its report context.
        validated: validation findings (kept apart so a re-validation replaces them).
    """

    file: Path
    chunk: Chunk
    outcome: FileOutcome
    in_patch_file: bool = False
    role: str = "other"
    partial: bool = False
    ctx: DocCtx | None = None
    validated: list[Finding] = field(default_factory=list)

    @property
    def doc(self) -> Any:
        """The parsed document."""
        return self.chunk.doc

    @property
    def path(self) -> str:
        """The file as displayed."""
        return self.file.as_posix()


def _rel(path: Path) -> str:
    try:
        return Path(os.path.relpath(path)).as_posix()
    except ValueError:  # another drive on Windows
        return path.as_posix()


#: kind → the spec fields that say what a full object is made from; a document without any of
#: them is a kustomize patch of an object defined elsewhere.
IDENTITY = {
    "HelmRelease": ("chart", "chartRef"),
    "Kustomization": ("sourceRef",),
    "GitRepository": ("url",),
    "HelmRepository": ("url",),
    "OCIRepository": ("url",),
    "Bucket": ("bucketName",),
    "HelmChart": ("chart",),
}


def is_partial_object(doc: Any) -> bool:
    """True for a Flux object that carries none of the fields that define it (a patch)."""
    fields = IDENTITY.get(str(doc.get("kind", "")))
    spec = doc.get("spec")
    if not fields:
        return False
    return not isinstance(spec, dict) or not any(f in spec for f in fields)


def _has_chart_source(doc: Any) -> bool:
    chart = get_path(doc, "spec", "chart")
    return isinstance(chart, dict) and ("repository" in chart or "git" in chart)


class Converter:
    """Runs both passes over the documents of one run and fills `result`."""

    def __init__(self, options: Options, result: MigrationResult):
        """Convert with `options`, recording everything in `result`."""
        self.options = options
        self.result = result
        self.registry = SourceRegistry(interval=options.interval,
                                       same_namespace=options.no_cross_namespace_refs)
        self.fates = Fates()
        self.ctx_at: dict[tuple[str, int], DocCtx] = {}

    # -- setup ------------------------------------------------------------------------------

    def namespace(self, doc: Any, file: Path) -> tuple[str, bool, str]:
        """Return ``(namespace, explicit, where it came from)`` for a namespaced object."""
        ns = get_path(doc, "metadata", "namespace")
        if ns:
            # a template placeholder ({{ .ns }}) reads as a mapping: no usable namespace
            return (str(ns) if isinstance(ns, str | int) else "?"), True, "metadata.namespace"
        found = enclosing_namespace(file)
        if found:
            return found[0], False, f"namespace of {_rel(found[1])}"
        if self.options.default_namespace:
            return self.options.default_namespace, False, "--default-namespace"
        return "default", False, "the Helm Operator's default"

    def classify(self, item: Item) -> None:
        """Set the item's role, partial flag and report context."""
        doc, file = item.doc, item.file
        api, kind = str(doc.get("apiVersion", "")), str(doc.get("kind", ""))
        verdict = classify(api, kind)
        if is_helm_operator_release(doc):
            item.role = "helmop"
            item.partial = item.in_patch_file or not _has_chart_source(doc)
        elif kind == "FluxHelmRelease" or api.startswith("helm.integrations.flux.weave.works/"):
            item.role = "legacy"
        elif verdict.status in (OLD, ALPHA):
            item.role = "beta" if verdict.status == OLD else "alpha"
            item.partial = item.in_patch_file or is_partial_object(doc)
        elif verdict.status == UNKNOWN:
            item.role = "unknown"
        elif verdict.status in (CURRENT, NEWER_OK):
            item.role = "current"
        elif is_kustomize_config(doc, file.name):
            item.role = "kustomize"
        ns, explicit, _ = self.namespace(doc, file)
        show_ns = explicit or (item.role == "helmop" and not item.partial)
        label = object_label(doc, ns if show_ns else None)
        if item.partial:
            label += " (patch)"
        item.ctx = DocCtx(item.path, item.chunk.body_line, label, self.options)

    # -- helpers ----------------------------------------------------------------------------

    def _plan(self, item: Item, old: str, new: str, plan: str, manual: bool = False) -> None:
        assert item.ctx is not None
        self.result.plans.append(ObjectPlan(item.path, item.ctx.line(item.doc, "apiVersion"),
                                            item.ctx.obj, old, new, plan, manual))

    def _fate(self, item: Item, old: str, new: str, reason: str = "") -> Fate:
        assert item.ctx is not None
        name = get_path(item.doc, "metadata", "name")
        ns = get_path(item.doc, "metadata", "namespace")
        return Fate(str(item.doc.get("kind", "")), str(name or ""), str(ns) if ns else None,
                    old, new, item.path, item.ctx.line(item.doc, "apiVersion"), reason)

    def _annotations(self, item: Item) -> bool:
        assert item.ctx is not None
        ns = self.namespace(item.doc, item.file)[0]
        name = str(get_path(item.doc, "metadata", "name") or "")
        return remove_flux_v1_annotations(item.doc, item.ctx, ns, name)

    # -- pass 1: full objects ---------------------------------------------------------------

    def full(self, item: Item) -> Fate | None:
        """Convert one full object; return its fate (None for non-Flux documents)."""
        doc = item.doc
        api = str(doc.get("apiVersion", ""))
        final = self._unconvertible(item, api)
        if final is not None:
            return final
        fate = None
        if item.role == "helmop":
            fate, migrated = self._helm_operator(item, api)
            if not migrated:
                return fate
        elif item.role in ("beta", "alpha"):
            assert item.ctx is not None
            new = migrate_beta(doc, item.ctx, self.namespace(doc, item.file)[0]) or ""
            count = sum(1 for f in item.ctx.findings if f.level == "change")
            self._plan(item, api, new, f"{count} change(s)")
            item.chunk.changed = True
            fate = self._fate(item, api, new)
        elif item.role == "current":
            fate = self._fate(item, api, api)
        if self._annotations(item):
            if not item.chunk.changed:
                self._plan(item, api, api, "Flux v1 annotations removed")
            item.chunk.changed = True
        return fate

    def _unconvertible(self, item: Item, api: str) -> Fate | None:
        """The fate of an object this run cannot convert (reported here), else None.

        Legacy FluxHelmReleases and unknown API versions are never converted; an alpha object
        only when its converted form validates.
        """
        doc, ctx = item.doc, item.ctx
        assert ctx is not None
        kind = str(doc.get("kind", ""))
        if item.role == "legacy":
            ctx.manual(f"{api} {kind}: chartGitPath is relative to the operator's Git repository "
                       f"(URL unknown); rewrite it as a helm.toolkit.fluxcd.io/v2 HelmRelease",
                       doc, "apiVersion")
            self._plan(item, api, "", "manual", True)
            return self._fate(item, api, "", "FluxHelmRelease")
        if item.role == "unknown":
            target = classify(api, kind).target
            if target:
                ctx.error(f"apiVersion {api} never existed; did you mean {target}?", doc,
                          "apiVersion")
                self._plan(item, api, "", "error: unknown apiVersion", True)
            else:
                guess = close_group(api)
                ctx.warn(f"apiVersion {api}: not a Flux API group; left as is", doc,
                         "apiVersion", f"did you mean {guess}?" if guess else "")
            return self._fate(item, api, "", "unknown apiVersion")
        if item.role == "alpha" and not self._alpha_converts(item):
            return self._fate(item, api, "", "alpha version")
        return None

    def _helm_operator(self, item: Item, api: str) -> tuple[Fate, bool]:
        """Convert a Helm Operator release; its fate, and whether it was migrated."""
        doc, ctx = item.doc, item.ctx
        assert ctx is not None
        ns, explicit, origin = self.namespace(doc, item.file)
        if not explicit:
            ctx.warn(f"no metadata.namespace: assumed {ns} ({origin}); the release name "
                     f"depends on it", doc, "metadata")
        res = migrate_helm_operator(doc, ctx, ns, explicit, self.registry, item.path,
                                    is_patch=False)
        manual = res.manual or any(f.level == MANUAL for f in ctx.findings)
        self._plan(item, api, HELM_V2 if res.migrated else "", res.plan, manual)
        if not res.migrated:
            return self._fate(item, api, "", res.plan.removeprefix("manual: ")), False
        item.chunk.extra.extend(src.doc for src in res.new_sources)
        item.chunk.changed = True
        return self._fate(item, api, HELM_V2), True

    def _alpha_converts(self, item: Item) -> bool:
        """Convert an alpha object only when the result validates; else a manual step."""
        doc, ctx = item.doc, item.ctx
        assert ctx is not None
        api, kind = str(doc.get("apiVersion", "")), str(doc.get("kind", ""))
        target = classify(api, kind).target
        trial = copy.deepcopy(doc)
        scratch = DocCtx(ctx.path, ctx.body_line, ctx.obj, ctx.options)
        migrate_beta(trial, scratch)
        problems = [m for _, _, m in validate_object(trial)] if has_schema(target, kind) else [
            "no schema to check the result against"]
        if not problems:
            return True
        ctx.manual(f"{api} {kind} changed shape before {target}: the converted object does "
                   f"not validate ({'; '.join(problems[:3])}); left unchanged", doc,
                   "apiVersion", f"rewrite it as {target} by hand")
        self._plan(item, api, "", "manual: alpha version", True)
        return False

    # -- pass 2: patches --------------------------------------------------------------------

    def _follows(self, doc: Any, ctx: DocCtx, where: str, line: int) -> bool:
        """True when a patch of `doc`'s target may move; else report the pair and say no."""
        kind = str(doc.get("kind", ""))
        name = str(get_path(doc, "metadata", "name") or "")
        ns = get_path(doc, "metadata", "namespace")
        targets = self.fates.targets(kind, name, str(ns) if ns else None)
        staying = [t for t in targets if t.stays]
        if not staying:
            if not targets and is_helm_operator_release(doc):
                ctx.note(f"patched {kind} {name} is not among the scanned files: converted "
                         f"as if it moved too", doc, "kind")
            return True
        base = staying[0]
        api = str(doc.get("apiVersion", ""))
        ctx.manual(f"patch of {kind} {name}, whose object ({base.where()}) stays on "
                   f"{base.old_api} ({base.reason}): left on {api} with it", doc, "apiVersion",
                   "migrate both once the object can be converted")
        base_ctx = self.ctx_at.get((base.path, base.line))
        if base_ctx is not None:
            base_ctx.findings.append(Finding(base.path, base.line, MANUAL,
                                             f"its patch at {where}:{line} stays on {api} too",
                                             base_ctx.obj))
        return False

    def convert_patch(self, doc: Any, ctx: DocCtx, file: Path, where: str) -> bool:
        """Convert a patch document (or leave it with its target); True when it changed."""
        line = ctx.line(doc, "apiVersion")
        if not self._follows(doc, ctx, where, line):
            return False
        if is_helm_operator_release(doc):
            ns, explicit, _ = self.namespace(doc, file)
            res = migrate_helm_operator(doc, ctx, ns, explicit, self.registry, where,
                                        is_patch=True)
            return res.migrated
        new = migrate_beta(doc, ctx)
        if new:
            ctx.note("partial object (kustomize patch): converted, nothing added", doc, "kind")
        return bool(new)

    def convert_text(self, text: str, ctx: DocCtx, node: Any, key: Any) -> str | None:
        """Convert the Flux patch documents of an inline patch text (see `TextConverter`)."""
        try:
            yfile = parse_file(text)
        except YamlFileError:
            return None
        base = ctx.line(node, key)
        found = False
        for chunk in yfile.chunks:
            doc = chunk.doc
            if not isinstance(doc, dict):
                continue
            verdict = classify(str(doc.get("apiVersion", "")), str(doc.get("kind", "")))
            if not (is_helm_operator_release(doc) or verdict.status in (OLD, ALPHA)):
                continue
            found = True
            sub = DocCtx(ctx.path, base + chunk.body_line, object_label(doc) + " (inline patch)",
                         ctx.options)
            chunk.changed = self.convert_patch(doc, sub, Path(ctx.path), ctx.path)
            ctx.findings.extend(sub.findings)
        return render_file(yfile) if found else None

    def patches(self, item: Item) -> None:
        """Pass 2 for one item: patch documents, kustomize files, Flux Kustomization patches."""
        doc, ctx = item.doc, item.ctx
        assert ctx is not None
        api = str(doc.get("apiVersion", ""))
        if item.partial and item.role in ("helmop", "beta", "alpha"):
            changed = self.convert_patch(doc, ctx, item.file, item.path)
            new = str(doc.get("apiVersion", "")) if changed else ""
            self._plan(item, api, new, "patch: follows its target" if changed
                       else "patch: stays with its target", not changed)
            if changed:
                self._annotations(item)
                item.chunk.changed = True
        elif item.role == "kustomize":
            if update_kustomize_refs(doc, ctx, self.fates, self.convert_text):
                self._plan(item, api, api, "group/version references updated")
                item.chunk.changed = True
        if (api.startswith(FLUX_KUSTOMIZATION_GROUP) and doc.get("kind") == "Kustomization"
                and not item.partial):
            if update_flux_patches(doc, ctx, self.fates, self.convert_text):
                item.chunk.changed = True

    # -- validation and output --------------------------------------------------------------

    def validate(self, item: Item) -> None:
        """(Re)validate one changed document; its findings replace earlier ones."""
        ctx, chunk = item.ctx, item.chunk
        assert ctx is not None
        item.validated = []
        for rel, col, message in validate_object(chunk.doc, partial=item.partial):
            item.validated.append(Finding(ctx.path, chunk.abs_line(rel), ERROR,
                                          f"invalid after migration: {message} (col {col})",
                                          ctx.obj))
        for extra in chunk.extra:
            for _rel, _col, message in validate_object(extra):
                item.validated.append(Finding(ctx.path, ctx.line(chunk.doc, "kind"), ERROR,
                                              f"invalid new {extra['kind']}: {message}",
                                              ctx.obj))

    def _errors(self, item: Item) -> bool:
        assert item.ctx is not None
        return item.chunk.changed and (bool(item.validated) or any(
            f.level == ERROR for f in item.ctx.findings))

    def run(self, items: list[Item], files: list[tuple[Path, YamlFile, FileOutcome]]) -> None:
        """Convert, validate and render every file."""
        for item in items:
            self.classify(item)
            if item.doc.get("kind") in ("HelmRepository", "GitRepository", "OCIRepository"):
                self.registry.register_existing(item.doc,
                                                self.namespace(item.doc, item.file)[0])
        self._record_fates(items, self._convert_full(items))
        for item in items:
            self.patches(item)
            if item.chunk.changed:
                self.validate(item)
        for item in items:
            assert item.ctx is not None
            self.result.findings.extend(item.ctx.findings)
            self.result.findings.extend(item.validated)
        self._render(items, files)

    def _convert_full(self, items: list[Item]) -> list[tuple[Item, Fate]]:
        """Pass 1 over the full objects: convert and validate each; their fates, in order."""
        pending: list[tuple[Item, Fate]] = []
        for item in items:
            if item.partial or item.role == "kustomize":
                continue
            fate = self.full(item)
            if item.chunk.changed:
                self.validate(item)
            if fate is not None:
                pending.append((item, fate))
        return pending

    def _record_fates(self, items: list[Item], pending: list[tuple[Item, Fate]]) -> None:
        """Record where each object goes; an object of a file that is not written stays."""
        bad_files = {i.path for i in items if self._errors(i)}
        for item, fate in pending:
            if fate.new_api and fate.new_api != fate.old_api and item.path in bad_files:
                fate = Fate(fate.kind, fate.name, fate.namespace, fate.old_api, "", fate.path,
                            fate.line, "its file is not written")
            self.fates.add(fate)
            assert item.ctx is not None
            self.ctx_at[(fate.path, fate.line)] = item.ctx

    def _render(self, items: list[Item], files: list[tuple[Path, YamlFile, FileOutcome]]
                ) -> None:
        bad = {i.path for i in items if self._errors(i)}
        for file, yfile, outcome in files:
            if not any(c.changed or c.extra for c in yfile.chunks):
                continue
            if file.as_posix() in bad:
                outcome.valid = False
                self.result.findings.append(Finding(outcome.path, 0, ERROR,
                                                    "not written: see the errors of this file"))
                continue
            outcome.migrated = render_file(yfile)
