"""kustomize files: the namespace they give releases, and group/version references in them.

Why: a HelmRelease without ``metadata.namespace`` gets its namespace from the kustomization
that includes it, and the Helm Operator's release name depends on it; patch targets and
transformer ``fieldSpecs`` that select the old group/version would silently stop matching.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from dlaas_gen.migrate.beta import ga_api_version
from dlaas_gen.migrate.ctx import DocCtx
from dlaas_gen.yamlio import make_roundtrip

KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
_OLD_HELM_GROUPS = ("helm.fluxcd.io", "flux.weave.works")
_OLD_API_STRINGS = ("helm.fluxcd.io/v1", "flux.weave.works/v1beta1", "toolkit.fluxcd.io/v1beta",
                    "toolkit.fluxcd.io/v2beta")


@lru_cache(maxsize=512)
def _namespace_of(path: Path) -> str | None:
    try:
        doc = make_roundtrip().load(path.read_text(encoding="utf-8"))
    except Exception:  # noqa: BLE001 - an unreadable kustomization gives no namespace
        return None
    ns = doc.get("namespace") if isinstance(doc, dict) else None
    return str(ns) if ns else None


def enclosing_namespace(file: Path) -> tuple[str, Path] | None:
    """Return ``(namespace, kustomization path)`` of the nearest enclosing kustomization that
    sets ``namespace:``, walking up from the file's folder; None when there is none."""
    folder = file.resolve().parent
    for parent in (folder, *folder.parents):
        for name in KUSTOMIZATION_NAMES:
            candidate = parent / name
            if candidate.is_file():
                ns = _namespace_of(candidate)
                if ns:
                    return ns, candidate
        if (parent / ".git").exists():
            break
    return None


def is_kustomize_config(doc: Any, filename: str) -> bool:
    """True for kustomization files, builtin transformer configs and configuration files."""
    if not isinstance(doc, dict):
        return False
    api = str(doc.get("apiVersion", ""))
    kind = str(doc.get("kind", ""))
    return (
        filename in KUSTOMIZATION_NAMES
        or api.startswith("kustomize.config.k8s.io")
        or api == "builtin"
        or kind.endswith(("Transformer", "Generator"))
        or ("apiVersion" not in doc and "kind" not in doc)
    )


def new_group_version(group: str, version: str | None, kind: str | None) -> tuple[str, str | None]:
    """Return the GA ``(group, version)`` for an old Flux group/version (same when current)."""
    if group in _OLD_HELM_GROUPS and kind in (None, "HelmRelease"):
        return "helm.toolkit.fluxcd.io", ("v2" if version else None)
    if version:
        new = ga_api_version(f"{group}/{version}", kind or "")
        if new:
            return group, new.rsplit("/", 1)[1]
    return group, version


def _update_selector(node: CommentedMap, ctx: DocCtx, where: str) -> bool:
    changed = False
    kind = node.get("kind")
    kind = str(kind) if kind is not None else None
    api = node.get("apiVersion")
    if isinstance(api, str) and "/" in api:
        group, version = api.rsplit("/", 1)
        new_group, new_version = new_group_version(group, version, kind)
        new = f"{new_group}/{new_version}"
        if new != api:
            ctx.change(f"{where}apiVersion {api} → {new}", node, "apiVersion")
            node["apiVersion"] = new
            changed = True
    group = node.get("group")
    if isinstance(group, str):
        version = node.get("version")
        version = str(version) if version is not None else None
        new_group, new_version = new_group_version(group, version, kind)
        if (new_group, new_version) != (group, version):
            old = f"{group}/{version}" if version else group
            new = f"{new_group}/{new_version}" if new_version else new_group
            ctx.change(f"{where}group/version {old} → {new}", node, "group")
            node["group"] = new_group
            if new_version is not None:
                node["version"] = new_version
            changed = True
    return changed


def update_kustomize_refs(doc: Any, ctx: DocCtx) -> bool:
    """Update patch targets, fieldSpecs and selectors naming old Flux APIs; True if changed.

    Only nested maps are touched, never the document's own ``apiVersion``/``kind``; inline patch
    texts that mention old APIs are reported, not edited.
    """
    changed = False

    def walk(node: Any, where: str, top: bool) -> None:
        nonlocal changed
        if isinstance(node, CommentedMap):
            if not top and "kind" in node and ("group" in node or "apiVersion" in node):
                changed |= _update_selector(node, ctx, where)
            for key, value in node.items():
                if isinstance(value, str) and any(s in value for s in _OLD_API_STRINGS) and (
                        "\n" in value):
                    ctx.warn(f"inline {where}{key} text mentions an old Flux API", node, key,
                             "move the patch to a file (migrate converts it) or edit it by hand")
                else:
                    walk(value, f"{where}{key}.", False)
        elif isinstance(node, CommentedSeq):
            for item in node:
                walk(item, where.rstrip(".") + "[].", False)

    walk(doc, "", True)
    return changed
