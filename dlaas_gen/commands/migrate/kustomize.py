"""kustomize files and Flux Kustomization patches: namespaces, patch targets, inline patches.

Why: a HelmRelease without ``metadata.namespace`` gets its namespace from the kustomization
that includes it, and the Helm Operator's release name depends on it. Patch targets and
transformer ``fieldSpecs`` that select an old group/version, and inline patch texts that carry
an old apiVersion, silently stop matching once their targets move, in ``kustomization.yaml`` and
in a Flux Kustomization's ``spec.patches`` alike (a parent's patches would stop adding SOPS
decryption to its child Kustomizations). Each follows its target: it moves when the target
moved and stays when the target stays (`pairing`).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeGuard

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import LiteralScalarString

from dlaas_gen.commands.migrate.ctx import DocCtx
from dlaas_gen.commands.migrate.pairing import Fates
from dlaas_gen.commands.migrate.versions import ALPHA, OLD, classify, group_of_kind, target_version

KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
_OLD_HELM_GROUPS = ("helm.fluxcd.io", "flux.weave.works")
#: An apiVersion of a Flux group inside a text (a patch embedded as a string).
FLUX_API_IN_TEXT = re.compile(r"(?:[a-z0-9-]+\.)*(?:fluxcd\.io|flux\.weave\.works)/v\d\w*")

#: Converts an inline patch text; returns the new text (the same text when its objects stay),
#: or None when the text holds no Flux object.
TextConverter = Callable[[str, DocCtx, CommentedMap | CommentedSeq, Any], str | None]


@lru_cache(maxsize=512)
def _namespace_of(path: Path) -> str | None:
    from dlaas_gen.commands.migrate.docs import load_tolerant  # noqa: PLC0415 - docs imports nothing here

    try:
        doc, _ = load_tolerant(path.read_bytes().decode("utf-8").replace("\r\n", "\n"))
    except Exception:  # noqa: BLE001 - an unreadable kustomization gives no namespace
        return None
    ns = doc.get("namespace") if isinstance(doc, dict) else None
    return str(ns) if ns else None


def enclosing_namespace(file: Path) -> tuple[str, Path] | None:
    """Return ``(namespace, kustomization path)`` of the nearest kustomization setting one.

    Walks up from the file's folder to the first kustomization that sets ``namespace:``; None
    when there is none.
    """
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


def patch_files(doc: Any, folder: Path) -> list[Path]:
    """Files a kustomization uses as patches (strategic-merge or ``patches[].path``)."""
    if not isinstance(doc, dict):
        return []
    out = []
    for item in doc.get("patchesStrategicMerge") or []:
        if isinstance(item, str) and "\n" not in item:
            out.append(folder / item)
    for item in doc.get("patches") or []:
        if isinstance(item, dict) and isinstance(item.get("path"), str):
            out.append(folder / item["path"])
    return [p.resolve() for p in out]


def new_group_version(group: str, version: str | None, kind: str | None) -> tuple[str, str | None]:
    """Return the current ``(group, version)`` for an old Flux group/version (same when current)."""
    if group in _OLD_HELM_GROUPS and kind in (None, "HelmRelease"):
        return "helm.toolkit.fluxcd.io", ("v2" if version else None)
    if version:
        verdict = classify(f"{group}/{version}", kind or "")
        if verdict.status in (OLD, ALPHA):
            return group, verdict.target.rsplit("/", 1)[1]
    return group, version


def _old_apis_of_selector(group: str | None, version: str | None, kind: str | None
                          ) -> list[tuple[str, str | None]]:
    """``(old group, new version)`` candidates a selector may mean (group may be unset)."""
    if group:
        new_group, new_version = new_group_version(group, version, kind)
        return [(group, new_version)] if (new_group, new_version) != (group, version) else []
    if not version or not kind:
        return []
    out: list[tuple[str, str | None]] = []
    flux_group = group_of_kind(kind)
    if flux_group and classify(f"{flux_group}/{version}", kind).status in (OLD, ALPHA):
        out.append((flux_group, target_version(flux_group, kind)))
    if kind == "HelmRelease" and version in ("v1", "v1beta1"):
        out.append(("helm.fluxcd.io" if version == "v1" else "flux.weave.works", "v2"))
    return out


def _fates_of(node: CommentedMap, kind: str | None, old_api: str, fates: Fates) -> list[Any]:
    name = node.get("name")
    if isinstance(name, str) and kind:
        found = fates.targets(kind, name, node.get("namespace") or None)
        return [f for f in found if f.old_api.startswith(old_api)]
    return fates.matching(kind, old_api)


#: update_selector results.
UNCHANGED, MOVED, KEPT, SPLIT = "unchanged", "moved", "kept", "split"


def update_selector(node: CommentedMap, ctx: DocCtx, where: str, fates: Fates,
                    *, can_split: bool = False) -> str:
    """Update one patch target / fieldSpec / selector naming an old Flux API.

    It follows the objects it selects: when they all stay on their old apiVersion (a Helm 2
    release, say) it is left alone and reported as a manual step with their location; when some
    stay and some move and `can_split`, the caller keeps this selector and adds a copy for the
    new apiVersion (`SPLIT`: `node` is left as is, `split_copy` builds the copy).

    Returns:
        `UNCHANGED`, `MOVED`, `KEPT` or `SPLIT`.
    """
    kind = node.get("kind")
    kind = str(kind) if kind is not None else None
    change = _selector_change(node, kind)
    if change is None:
        return UNCHANGED
    key, old_apis, apply, message = change
    found = [f for api in old_apis for f in _fates_of(node, kind, api, fates)]
    staying = [f for f in found if f.stays]
    if staying:
        if can_split and len(staying) < len(found):
            ctx.change(f"{where}{message}: added next to the old one ({staying[0].kind} "
                       f"{staying[0].name} stays on {staying[0].old_api})", node, key)
            _broadened(split_copy(node), ctx, where, kind, key, old_apis, fates)
            return SPLIT
        first = staying[0]
        ctx.manual(f"{where.rstrip('.') or 'selector'} selects {first.kind} {first.name}, which "
                   f"stays on {first.old_api} ({first.reason}, {first.where()}): left unchanged "
                   f"with it", node, key, "migrate both once the target can be converted")
        return KEPT
    ctx.change(f"{where}{message}", node, key)
    apply(node)
    _broadened(node, ctx, where, kind, key, old_apis, fates)
    return MOVED


def _broadened(new: CommentedMap, ctx: DocCtx, where: str, kind: str | None, key: str,
               old_apis: list[str], fates: Fates) -> None:
    """Warn when the updated selector now also selects objects it did not select before.

    For example ``helm.fluxcd.io`` → ``helm.toolkit.fluxcd.io`` also takes in former beta
    releases.
    """
    if isinstance(new.get("name"), str):
        return
    api = new.get("apiVersion")
    prefix = str(api) if isinstance(api, str) else "/".join(
        str(new[k]) for k in ("group", "version") if new.get(k) is not None)
    if "group" not in new and "apiVersion" not in new:
        return  # a version-only selector matched any group before and after
    extra = [f for f in fates.landing(kind, prefix)
             if not any(f.old_api.startswith(o) for o in old_apis)]
    if extra:
        ctx.warn(f"{where.rstrip('.')} now also selects {extra[0].kind} {extra[0].name} "
                 f"({extra[0].where()}, was {extra[0].old_api})"
                 + (f" and {len(extra) - 1} more" if len(extra) > 1 else ""), new, key,
                 "add a name or labelSelector if it should not")


def split_copy(node: CommentedMap) -> CommentedMap:
    """A copy of a selector, updated to the new apiVersion (for `SPLIT`)."""
    clone = copy.deepcopy(node)
    kind = clone.get("kind")
    change = _selector_change(clone, str(kind) if kind is not None else None)
    if change is not None:
        change[2](clone)
    return clone


_Change = tuple[str, list[str], Callable[[CommentedMap], None], str]


def _api_version_change(api: str, kind: str | None) -> _Change | None:
    """The change of a selector's ``apiVersion: group/version``, None when it is current."""
    group, version = api.rsplit("/", 1)
    new_group, new_version = new_group_version(group, version, kind)
    new = f"{new_group}/{new_version}"
    if new == api:
        return None

    def set_api(target: CommentedMap) -> None:
        target["apiVersion"] = new

    return "apiVersion", [api], set_api, f"apiVersion {api} → {new}"


def _selector_change(node: CommentedMap, kind: str | None) -> _Change | None:
    """``(key, old api prefixes, apply, message)`` for a selector naming an old API, or None."""
    api = node.get("apiVersion")
    if isinstance(api, str) and "/" in api:
        return _api_version_change(api, kind)
    raw_group, raw_version = node.get("group"), node.get("version")
    group = str(raw_group) if isinstance(raw_group, str) else None
    version = str(raw_version) if raw_version is not None else None
    candidates = _old_apis_of_selector(group, version, kind)
    if not candidates:
        return None
    old_group, new_version = candidates[0]
    olds = [f"{g}/{version}" if version else g for g, _ in candidates]
    if group:
        new_group, _ = new_group_version(group, version, kind)
        old = f"{group}/{version}" if version else group
        new = f"{new_group}/{new_version}" if new_version else new_group

        def set_group(target: CommentedMap) -> None:
            target["group"] = new_group
            if new_version is not None and version is not None:
                target["version"] = new_version

        return "group", olds, set_group, f"group/version {old} → {new}"

    def set_version(target: CommentedMap) -> None:
        target["version"] = new_version

    return "version", olds, set_version, (f"version {version} → {new_version} ({kind} of "
                                          f"{old_group})")


def _convert_string(node: Any, key: Any, ctx: DocCtx, where: str,
                    convert_text: TextConverter) -> bool:
    value = node[key]
    if not (isinstance(value, str) and "\n" in value and FLUX_API_IN_TEXT.search(value)):
        return False
    new = convert_text(value, ctx, node, key)
    if new is None:
        ctx.warn(f"inline {where}{key} text mentions an old Flux API but holds no Flux object",
                 node, key, "edit it by hand")
        return False
    if new == value:
        return False
    node[key] = LiteralScalarString(new) if "\n" in new else new
    ctx.change(f"inline patch {where}{key}: converted", node, key)
    return True


def _is_selector(node: Any) -> TypeGuard[CommentedMap]:
    return isinstance(node, CommentedMap) and "kind" in node and (
        "group" in node or "apiVersion" in node or "version" in node)


def _list_item(seq: CommentedSeq, index: int, ctx: DocCtx, where: str, fates: Fates) -> int:
    """Update a selector list item (a fieldSpec) or a patch item's ``target``.

    When the selected objects split (some stay, some move), add an updated copy right after it.

    Returns:
        The number of items inserted (0 or 1), or -1 when nothing changed.
    """
    item = seq[index]
    if _is_selector(item):
        status = update_selector(item, ctx, where, fates, can_split=True)
        if status == SPLIT:
            seq.insert(index + 1, split_copy(item))
            return 1
        return 0 if status == MOVED else -1
    target = item.get("target") if isinstance(item, CommentedMap) else None
    if _is_selector(target):
        status = update_selector(target, ctx, f"{where}target.", fates, can_split=True)
        if status == SPLIT:
            clone = copy.deepcopy(item)
            clone["target"] = split_copy(target)
            seq.insert(index + 1, clone)
            return 1
        return 0 if status == MOVED else -1
    return -1


def update_kustomize_refs(doc: Any, ctx: DocCtx, fates: Fates, convert_text: TextConverter
                          ) -> bool:
    """Update what names old Flux APIs in a kustomize file; True if anything changed.

    Patch targets, fieldSpecs, selectors and inline patch texts are updated; the document's own
    apiVersion/kind is never touched.
    """
    walker = _RefWalker(ctx, fates, convert_text)
    walker.walk(doc, "", True)
    return walker.changed


class _RefWalker:
    """Walks a kustomize document and updates every selector and text naming an old API."""

    def __init__(self, ctx: DocCtx, fates: Fates, convert_text: TextConverter):
        """Report to `ctx`; `fates` says where objects go; `convert_text` rewrites patches."""
        self.ctx, self.fates, self.convert_text = ctx, fates, convert_text
        self.changed = False

    def walk(self, node: Any, where: str, top: bool) -> None:
        """Update `node` (at `where`, a dotted path ending in ``.``) and everything below it."""
        if isinstance(node, CommentedMap):
            if not top and _is_selector(node):
                self.changed |= update_selector(node, self.ctx, where, self.fates) == MOVED
            self._fields(node, where, skip_target=False)
        elif isinstance(node, CommentedSeq):
            here = where.rstrip(".") + "[]"
            index = 0
            while index < len(node):
                index += self._item(node, index, here)

    def _fields(self, node: CommentedMap, where: str, *, skip_target: bool) -> None:
        """Convert the text values of a mapping and walk into the others."""
        for key, value in node.items():
            if isinstance(value, str):
                self.changed |= _convert_string(node, key, self.ctx, where, self.convert_text)
            elif not (skip_target and key == "target"):
                self.walk(value, f"{where}{key}.", False)

    def _item(self, seq: CommentedSeq, index: int, here: str) -> int:
        """Update one list item; return how many items to step over (it and its copy)."""
        item = seq[index]
        if isinstance(item, str):
            self.changed |= _convert_string(seq, index, self.ctx, here, self.convert_text)
            return 1
        inserted = _list_item(seq, index, self.ctx, here + ".", self.fates)
        self.changed |= inserted >= 0
        if isinstance(item, CommentedMap) and not _is_selector(item):
            self._fields(item, here + ".", skip_target=True)
        elif not isinstance(item, CommentedMap):
            self.walk(item, here + ".", False)
        return 1 + max(inserted, 0)


def update_flux_patches(doc: Any, ctx: DocCtx, fates: Fates, convert_text: TextConverter
                        ) -> bool:
    """Update a Flux Kustomization's ``spec.patches``: targets and inline patch texts."""
    spec = doc.get("spec") if isinstance(doc, dict) else None
    patches = spec.get("patches") if isinstance(spec, dict) else None
    if not isinstance(patches, CommentedSeq):
        return False
    changed = False
    index = 0
    while index < len(patches):
        item = patches[index]
        inserted = _list_item(patches, index, ctx, "spec.patches[].", fates)
        changed |= inserted >= 0
        if isinstance(item, CommentedMap) and isinstance(item.get("patch"), str):
            changed |= _convert_string(item, "patch", ctx, "spec.patches[].", convert_text)
        index += 1 + max(inserted, 0)
    return changed
