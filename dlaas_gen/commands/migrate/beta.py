"""Flux v2 beta APIs → GA, with the field conversions the GA schemas need.

Why: ``flux migrate -f`` only rewrites the version string, which leaves removed fields
(``valuesFile``, ``patchesStrategicMerge``, ``validation``, ``gitImplementation``) in place and
produces objects the GA CRDs reject.
"""

from __future__ import annotations

from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import LiteralScalarString

from dlaas_gen.commands.migrate.ctx import DocCtx, cross_namespace_warning
from dlaas_gen.commands.migrate.docs import dump_document
from dlaas_gen.commands.migrate.edit import cmap, delete_key, get_path, insert_key, replace_key
from dlaas_gen.commands.migrate.versions import ALPHA, OLD, classify


def ga_api_version(api_version: str, kind: str = "") -> str | None:
    """Return the current apiVersion for an old (beta or alpha) Flux apiVersion, else None."""
    verdict = classify(str(api_version), kind)
    return verdict.target if verdict.status in (OLD, ALPHA) else None


def _namespace(doc: CommentedMap) -> str | None:
    ns = get_path(doc, "metadata", "namespace")
    return str(ns) if ns else None


def _cross_namespace(doc: CommentedMap, ctx: DocCtx, namespace: str | None) -> None:
    """Report source references into another namespace (``--no-cross-namespace-refs``)."""
    own = _namespace(doc) or namespace
    for path in (("spec", "chart", "spec", "sourceRef"), ("spec", "chartRef"),
                 ("spec", "sourceRef")):
        ref = get_path(doc, *path)
        if isinstance(ref, CommentedMap) and ref.get("namespace") and own and (
                str(ref["namespace"]) != own):
            cross_namespace_warning(ctx, f"{ref.get('kind', 'source')} {ref['namespace']}/"
                                         f"{ref.get('name')}", ref, "namespace")


def _yaml_text(node: Any) -> LiteralScalarString:
    return LiteralScalarString(dump_document(node, (2, 2, 0)))


def _patches(owner: CommentedMap, ctx: DocCtx, where: str) -> None:
    """Fold ``patchesStrategicMerge``/``patchesJson6902`` into ``patches``."""
    smp = owner.get("patchesStrategicMerge")
    json6902 = owner.get("patchesJson6902")
    if smp is None and json6902 is None:
        return
    patches = _folded_patches(owner.get("patches"), smp, json6902)
    anchor = "patchesStrategicMerge" if smp is not None else "patchesJson6902"
    for key in ("patchesStrategicMerge", "patchesJson6902"):
        if key in owner:
            ctx.change(f"{where}{key} → {where}patches", owner, key)
    if "patches" in owner:
        owner["patches"] = patches
        for key in ("patchesStrategicMerge", "patchesJson6902"):
            if key in owner:
                delete_key(owner, key)
    else:
        replace_key(owner, anchor, "patches", patches)
        other = "patchesJson6902" if anchor == "patchesStrategicMerge" else None
        if other and other in owner:
            delete_key(owner, other)


def _folded_patches(patches: Any, smp: Any, json6902: Any) -> CommentedSeq:
    """The ``patches`` list (the existing one, if any) with both old lists appended as items."""
    if not isinstance(patches, CommentedSeq):
        patches = CommentedSeq()
    for item in smp or []:
        patches.append(cmap(("patch", item if isinstance(item, str) else _yaml_text(item))))
    for item in json6902 or []:
        patch = item.get("patch") if isinstance(item, dict) else None
        text = patch if isinstance(patch, str) else _yaml_text(patch)
        patches.append(cmap(("patch", text), ("target", item.get("target"))))
    return patches


def _values_file(owner: CommentedMap, ctx: DocCtx, where: str) -> None:
    """``valuesFile`` → ``valuesFiles: [valuesFile, *valuesFiles]`` (nothing dropped).

    Why: the v1beta2 API merged ``valuesFile`` "before the ValuesFiles items"
    (fluxcd/source-controller ``api/v1beta2/helmchart_types.go``); v1 only has the list.
    """
    first = owner["valuesFile"]
    old = owner.get("valuesFiles")
    ctx.change(f"{where}valuesFile → {where}valuesFiles (first item)", owner, "valuesFile")
    if isinstance(old, CommentedSeq):
        old.insert(0, first)
        delete_key(owner, "valuesFile")
    elif isinstance(old, list):
        owner["valuesFiles"] = CommentedSeq([first, *old])
        delete_key(owner, "valuesFile")
    else:
        replace_key(owner, "valuesFile", "valuesFiles", CommentedSeq([first]))


def _helmrelease(spec: CommentedMap, ctx: DocCtx) -> None:
    chart_spec = get_path(spec, "chart", "spec")
    if isinstance(chart_spec, CommentedMap) and "valuesFile" in chart_spec:
        _values_file(chart_spec, ctx, "spec.chart.spec.")
    for renderer in spec.get("postRenderers") or []:
        kustomize = renderer.get("kustomize") if isinstance(renderer, dict) else None
        if isinstance(kustomize, CommentedMap):
            _patches(kustomize, ctx, "postRenderers[].kustomize.")
    install = spec.get("install")
    if isinstance(install, CommentedMap) and "skipCRDs" in install:
        skip = install["skipCRDs"]
        ctx.change("install.skipCRDs → install.crds", install, "skipCRDs")
        if "crds" in install:
            delete_key(install, "skipCRDs")
        else:
            replace_key(install, "skipCRDs", "crds", "Skip" if skip else "Create")


def _kustomization(spec: CommentedMap, ctx: DocCtx) -> None:
    if "validation" in spec:
        ctx.change("removed spec.validation (gone in v1; the server validates on apply)", spec,
                   "validation")
        delete_key(spec, "validation")
    _patches(spec, ctx, "spec.")


#: Source fields the v1beta2 types had and v1 dropped (source-controller ``api/v1beta2`` vs
#: ``api/v1``; HelmRepository v1 kept ``accessFrom``).
SOURCE_REMOVED = {
    "GitRepository": ("gitImplementation", "accessFrom"),
    "Bucket": ("accessFrom",),
    "HelmChart": ("accessFrom",),
}


def _source(kind: str, spec: CommentedMap, ctx: DocCtx) -> None:
    for key in SOURCE_REMOVED.get(kind, ()):
        if key in spec:
            ctx.change(f"removed spec.{key} (gone in v1)", spec, key)
            delete_key(spec, key)
    if kind == "HelmChart" and "valuesFile" in spec:
        _values_file(spec, ctx, "spec.")


def _notification(kind: str, spec: CommentedMap, ctx: DocCtx) -> None:
    if kind == "Alert" and "summary" in spec:
        summary = spec["summary"]
        ctx.change("spec.summary → spec.eventMetadata.summary (v1beta3)", spec, "summary")
        delete_key(spec, "summary")
        meta = spec.get("eventMetadata")
        if not isinstance(meta, CommentedMap):
            meta = CommentedMap()
            insert_key(spec, "eventMetadata", meta)
        meta.setdefault("summary", summary)


def migrate_beta(doc: CommentedMap, ctx: DocCtx, namespace: str | None = None) -> str | None:
    """Move one beta (or alpha) Flux object to its current apiVersion in place; return it.

    Args:
        doc: the object.
        ctx: report context.
        namespace: the namespace it lands in when it sets none (for cross-namespace checks).
    """
    kind = str(doc.get("kind", ""))
    old = str(doc.get("apiVersion", ""))
    new = ga_api_version(old, kind)
    if new is None:
        return None
    doc["apiVersion"] = new
    ctx.change(f"apiVersion {old} → {new}", doc, "apiVersion")
    spec = doc.get("spec")
    if isinstance(spec, CommentedMap):
        group = old.split("/", 1)[0]
        if group == "helm.toolkit.fluxcd.io" and kind == "HelmRelease":
            _helmrelease(spec, ctx)
        elif group == "kustomize.toolkit.fluxcd.io" and kind == "Kustomization":
            _kustomization(spec, ctx)
        elif group == "source.toolkit.fluxcd.io":
            _source(kind, spec, ctx)
        elif group == "notification.toolkit.fluxcd.io":
            _notification(kind, spec, ctx)
        elif group == "image.toolkit.fluxcd.io":
            ctx.note("image automation objects have no vendored schema: review fields by hand",
                     doc, "kind")
        if kind in ("HelmRelease", "Kustomization"):
            _cross_namespace(doc, ctx, namespace)
    return new
