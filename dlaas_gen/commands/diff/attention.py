"""Rules for the "needs attention" section of a diff.

Why: the lines that matter in a review are the ones where the apply will fail (immutable
fields), where something is deleted (prune, uninstall and reinstall) or where what runs changes
(images, chart versions, privileges). Each rule looks at one redacted pair of objects, so no
rule can quote a Secret value.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from dlaas_gen.commands.diff.index import Index
from dlaas_gen.commands.diff.model import (
    ADDED,
    CHANGED,
    DANGER,
    INFO,
    REMOVED,
    SEVERITIES,
    WARNING,
    Attention,
    ResourceChange,
)
from dlaas_gen.commands.diff.normalize import MISSING, get_path, is_secret
from dlaas_gen.manifest import ResourceKey
from dlaas_gen.quantity import QuantityError, parse_quantity

WORKLOAD_KINDS = frozenset({"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"})
#: Keys whose change alters what a pod may do on its node.
SECURITY_KEYS = frozenset(
    {
        "privileged",
        "allowPrivilegeEscalation",
        "hostPath",
        "mountPropagation",
        "hostNetwork",
        "hostPID",
        "hostIPC",
    }
)
HELM_GROUP = "helm.toolkit.fluxcd.io"
KUSTOMIZE_GROUP = "kustomize.toolkit.fluxcd.io"
_FORCE = "the apply fails unless the Kustomization sets force: true (which recreates the object)"


@dataclass
class Pair:
    """The two redacted, normalised sides of one changed resource.

    Attributes:
        change: the change record.
        old: old object (MISSING when added); HelmRelease ``spec.values`` removed.
        new: new object (MISSING when removed).
        old_values: old merged HelmRelease values (MISSING when not a HelmRelease).
        new_values: new merged HelmRelease values.
    """

    change: ResourceChange
    old: Any
    new: Any
    old_values: Any = MISSING
    new_values: Any = MISSING


#: ``emit(severity, rule, message, old=None, new=None)`` records one item.
Emit = Callable[..., None]


def collect(pairs: list[Pair], old_index: Index) -> list[Attention]:
    """Run every rule over `pairs`; return the items, most severe first, then in input order."""
    items: list[Attention] = []
    for pair in pairs:
        change = pair.change

        def emit(
            severity: str,
            rule: str,
            message: str,
            old: str | None = None,
            new: str | None = None,
            change: ResourceChange = change,
        ) -> None:
            items.append(Attention(severity, rule, change.site, change.key, message, old, new))

        if change.status == REMOVED:
            _prune(pair, old_index, emit)
            continue
        if change.status == CHANGED:
            _immutable(pair, emit)
            _helmrelease(pair, emit)
            _kustomization(pair, emit)
        if change.status in (CHANGED, ADDED):
            _images(pair, emit)
            _security(pair, emit)
            _suspended(pair, emit)
    rank = {severity: i for i, severity in enumerate(SEVERITIES)}
    return [item for _, _, item in sorted((rank[a.severity], i, a) for i, a in enumerate(items))]


def _fmt(value: Any) -> str:
    if value is MISSING:
        return "(unset)"
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


# --- prune -------------------------------------------------------------------------------


PRUNE_ANNOTATION = "kustomize.toolkit.fluxcd.io/prune"


def _prune_disabled(doc: Any) -> bool:
    """True when `doc` carries ``kustomize.toolkit.fluxcd.io/prune: disabled``.

    Why: kustomize-controller's garbage collection skips such objects
    (fluxcd/kustomize-controller docs/spec/v1/kustomizations.md, "Prune"); removing one from
    git leaves it in the cluster, nothing is deleted.
    """
    meta = doc.get("metadata") if isinstance(doc, Mapping) else None
    annotations = meta.get("annotations") if isinstance(meta, Mapping) else None
    value = annotations.get(PRUNE_ANNOTATION) if isinstance(annotations, Mapping) else None
    return isinstance(value, str) and value.lower() == "disabled"


def _prune(pair: Pair, old_index: Index, emit: Emit) -> None:
    change = pair.change
    if _prune_disabled(pair.old):
        emit(INFO, "prune", f"removed from git, but it carries {PRUNE_ANNOTATION}: disabled: Flux "
             "leaves it in the cluster, unmanaged (delete it by hand to retire it)", None, None)
        return
    owner = _owning_kustomization(change.site, change.old_path or "", old_index)
    kind = change.key.kind
    consequence = {
        "Namespace": "deleting a Namespace deletes every object in it",
        "CustomResourceDefinition": "deleting a CRD deletes every custom resource of that kind",
        "PersistentVolumeClaim": "the volume's data may be lost (reclaim policy)",
        "PersistentVolume": "the volume's data may be lost (reclaim policy)",
        "HelmRelease": "helm-controller uninstalls the release and everything it created",
        "Kustomization": "Flux deletes what it applied if it had prune: true",
    }.get(kind, "")
    extra = f"; {consequence}" if consequence else ""
    if owner is None:
        message = (
            "removed: Flux deletes it from the cluster if the Kustomization applying "
            f"this folder has prune: true{extra}"
        )
    else:
        name, prune = owner
        if prune:
            message = f"removed: Kustomization {name} has prune: true, Flux deletes it{extra}"
        else:
            message = (
                f"removed from git, but Kustomization {name} has prune disabled: it stays in "
                "the cluster, unmanaged"
            )
    emit(DANGER, "prune", message, None, None)


def _owning_kustomization(site: str, path: str, index: Index) -> tuple[str, bool] | None:
    """Find the Flux Kustomization whose ``spec.path`` is the folder of `path`.

    Why: render writes one Kustomization per folder with ``path: ./rendered/<site>/<folder>``;
    the longest matching suffix wins, so nested layouts still resolve.
    """
    folder = path.rsplit("/", 1)[0] if "/" in path else ""
    best: tuple[int, str, bool] | None = None
    for (ks_site, key), entry in index.items():
        if ks_site != site or key.kind != "Kustomization" or key.group != KUSTOMIZE_GROUP:
            continue
        spec_path = get_path(entry.doc, "spec.path")
        if not isinstance(spec_path, str):
            continue
        clean = spec_path.strip().lstrip("./").rstrip("/")
        if not clean or not folder:
            continue
        if clean == folder or clean.endswith("/" + folder) or folder.endswith("/" + clean):
            score = len(clean)
            if best is None or score > best[0]:
                prune = get_path(entry.doc, "spec.prune") is True
                best = (score, str(key).split(" ", 1)[1], prune)
    return (best[1], best[2]) if best else None


# --- immutable fields ----------------------------------------------------------------------


def _immutable_fields(key: ResourceKey) -> list[str]:
    """The fields of `key`'s kind the API server refuses to change."""
    if key.kind in WORKLOAD_KINDS and key.group == "apps":
        extra = (["spec.volumeClaimTemplates", "spec.serviceName", "spec.podManagementPolicy"]
                 if key.kind == "StatefulSet" else [])
        return ["spec.selector", *extra]
    if key.kind == "Job" and key.group == "batch":
        return ["spec.selector", "spec.template"]
    if key.kind == "Service" and key.group == "":
        return ["spec.clusterIP", "spec.clusterIPs"]
    if key.kind in ("RoleBinding", "ClusterRoleBinding"):
        return ["roleRef"]
    if key.kind == "StorageClass":
        return ["provisioner", "parameters", "reclaimPolicy", "volumeBindingMode"]
    return []


def _immutable_data(kind: str, old: Any, new: Any, emit: Emit) -> None:
    """A Secret's type, and the data of a ConfigMap or Secret marked ``immutable: true``."""
    if kind == "Secret" and get_path(old, "type") != get_path(new, "type"):
        emit(DANGER, "immutable", f"Secret type is immutable: {_FORCE}", None, None)
    if get_path(old, "immutable") is True and any(
        get_path(old, f) != get_path(new, f) for f in ("data", "stringData", "binaryData")
    ):
        emit(DANGER, "immutable", f"{kind} has immutable: true and its data changed: {_FORCE}",
             None, None)


def _immutable(pair: Pair, emit: Emit) -> None:
    key = pair.change.key
    old, new = pair.old, pair.new
    if key.kind == "PersistentVolumeClaim" and key.group == "":
        _pvc(old, new, emit)
    elif key.kind in ("ConfigMap", "Secret") and key.group == "":
        _immutable_data(key.kind, old, new, emit)
    fields = _immutable_fields(key)
    for field_name in fields:
        before, after = get_path(old, field_name), get_path(new, field_name)
        if field_name.startswith("spec.clusterIP") and after in (MISSING, "", None):
            # Leaving clusterIP out keeps the allocated address: not a change on the server.
            continue
        if before != after:
            # A whole pod template is too long for one line; the diff below shows it.
            brief = field_name not in ("spec.template", "spec.volumeClaimTemplates")
            emit(
                DANGER,
                "immutable",
                f"{field_name} is immutable: {_FORCE}",
                _fmt(before) if brief else None,
                _fmt(after) if brief else None,
            )


def _pvc(old: Any, new: Any, emit: Emit) -> None:
    def without_size(doc: Any) -> Any:
        spec = get_path(doc, "spec")
        if not isinstance(spec, Mapping):
            return spec
        copy = json.loads(json.dumps(spec))
        requests = get_path(copy, "resources.requests")
        if isinstance(requests, dict):
            requests.pop("storage", None)
        return copy

    if without_size(old) != without_size(new):
        emit(
            DANGER,
            "immutable",
            f"PersistentVolumeClaim spec is immutable except the requested size: {_FORCE} "
            "(recreating a claim can lose its data)",
            None,
            None,
        )
    before = get_path(old, "spec.resources.requests.storage")
    after = get_path(new, "spec.resources.requests.storage")
    if before != after and before is not MISSING and after is not MISSING:
        if _quantity(after) < _quantity(before):
            emit(DANGER, "immutable", "a PersistentVolumeClaim cannot shrink",
                 str(before), str(after))
        else:
            emit(
                INFO,
                "volume-resize",
                "volume expansion needs allowVolumeExpansion on the StorageClass",
                str(before),
                str(after),
            )


def _quantity(value: Any) -> Fraction:
    """A storage request's value (0 when it does not parse: the API server refuses it)."""
    try:
        return parse_quantity(str(value).strip())
    except QuantityError:
        return Fraction(0)


# --- Flux objects ---------------------------------------------------------------------------


def _helmrelease(pair: Pair, emit: Emit) -> None:
    key = pair.change.key
    if key.kind != "HelmRelease" or key.group != HELM_GROUP:
        return
    old, new = pair.old, pair.new
    for field_name in ("releaseName", "targetNamespace", "storageNamespace"):
        before, after = get_path(old, f"spec.{field_name}"), get_path(new, f"spec.{field_name}")
        if before != after:
            emit(
                DANGER,
                "helm-reinstall",
                f"spec.{field_name} changed: helm-controller uninstalls the release and "
                "installs it again",
                _fmt(before),
                _fmt(after),
            )
    before = get_path(old, "spec.chart.spec.chart")
    after = get_path(new, "spec.chart.spec.chart")
    if before != after:
        emit(WARNING, "chart", "chart changed", _fmt(before), _fmt(after))
    before = get_path(old, "spec.chartRef")
    after = get_path(new, "spec.chartRef")
    if before != after:
        emit(WARNING, "chart", "spec.chartRef changed", _fmt(before), _fmt(after))
    before = get_path(old, "spec.chart.spec.version")
    after = get_path(new, "spec.chart.spec.version")
    if before != after:
        _chart_version(_fmt(before), _fmt(after), emit)


def _chart_version(before: str, after: str, emit: Emit) -> None:
    old_v, new_v = _semver(before), _semver(after)
    if old_v is None or new_v is None:
        emit(INFO, "chart-version", "chart version changed", before, after)
    elif new_v[0] > old_v[0]:
        emit(WARNING, "chart-version", "chart major version bump: read the upgrade notes",
             before, after)
    elif new_v < old_v:
        emit(WARNING, "chart-version", "chart version downgrade", before, after)
    else:
        emit(INFO, "chart-version", "chart version changed", before, after)


def _semver(text: str) -> tuple[int, int, int] | None:
    match = re.match(r"^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?", text.strip())
    if not match:
        return None
    return tuple(int(g or 0) for g in match.groups())  # type: ignore[return-value]


def _kustomization(pair: Pair, emit: Emit) -> None:
    key = pair.change.key
    if key.kind != "Kustomization" or key.group != KUSTOMIZE_GROUP:
        return
    old, new = pair.old, pair.new
    messages = {
        "spec.path": (DANGER, "objects that are not in the new path are pruned (with prune: true)"),
        "spec.targetNamespace": (
            DANGER,
            "objects move namespace: new copies are created and the old ones pruned",
        ),
        "spec.sourceRef": (WARNING, "the Kustomization reads from another source"),
    }
    for field_name, (severity, why) in messages.items():
        before, after = get_path(old, field_name), get_path(new, field_name)
        if before != after:
            emit(severity, "kustomization", f"{field_name} changed: {why}",
                 _fmt(before), _fmt(after))
    before = get_path(old, "spec.prune") is True
    after = get_path(new, "spec.prune") is True
    if before != after:
        why = (
            "Flux now deletes objects it applied that are no longer in git"
            if after
            else "objects removed from git later stay in the cluster"
        )
        emit(DANGER if after else WARNING, "kustomization", f"spec.prune changed: {why}",
             str(before).lower(), str(after).lower())


def _suspended(pair: Pair, emit: Emit) -> None:
    key = pair.change.key
    if key.group in (HELM_GROUP, KUSTOMIZE_GROUP) and get_path(pair.new, "spec.suspend") is True:
        emit(WARNING, "suspended", "suspended: Flux does not apply this change until resumed")


# --- images and privileges -----------------------------------------------------------------


def _images(pair: Pair, emit: Emit) -> None:
    before = dict(_walk_images(pair.old, ""))
    before.update(_walk_images(pair.old_values, "values"))
    after = dict(_walk_images(pair.new, ""))
    after.update(_walk_images(pair.new_values, "values"))
    for path in sorted(set(before) | set(after)):
        old, new = before.get(path), after.get(path)
        if old != new:
            emit(INFO, "image", f"image at {path}", old or "(none)", new or "(none)")


def _walk(node: Any, path: str) -> Iterator[tuple[str, str, Any]]:
    """Yield (path, key, value) for every mapping item, skipping Secrets entirely."""
    if is_secret(node):
        return
    if isinstance(node, Mapping):
        for key, value in node.items():
            child = f"{path}.{key}" if path else str(key)
            yield child, str(key), value
            yield from _walk(value, child)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            name = value.get("name") if isinstance(value, Mapping) else None
            label = name if isinstance(name, str) and name else str(i)
            yield from _walk(value, f"{path}[{label}]")


def _walk_images(node: Any, prefix: str) -> Iterator[tuple[str, str]]:
    if node is MISSING:
        return
    for path, key, value in _walk(node, prefix):
        if key != "image":
            continue
        if isinstance(value, str) and value:
            yield path, value
        elif isinstance(value, Mapping):
            image = _compose_image(value)
            if image:
                yield path, image


def _compose_image(value: Mapping[str, Any]) -> str | None:
    repo = value.get("repository") or value.get("name")
    if not isinstance(repo, str) or not repo:
        return None
    registry = value.get("registry")
    if isinstance(registry, str) and registry:
        repo = f"{registry}/{repo}"
    tag = value.get("tag")
    if tag not in (None, ""):
        repo += f":{tag}"
    digest = value.get("digest")
    if isinstance(digest, str) and digest:
        repo += f"@{digest}"
    return repo


def _security(pair: Pair, emit: Emit) -> None:
    before = dict(_walk_security(pair.old, ""))
    before.update(_walk_security(pair.old_values, "values"))
    after = dict(_walk_security(pair.new, ""))
    after.update(_walk_security(pair.new_values, "values"))
    added = pair.change.status == ADDED
    for path in sorted(set(before) | set(after)):
        old, new = before.get(path, MISSING), after.get(path, MISSING)
        if old == new or (added and new in (False, None, "None", "")):
            continue
        emit(
            WARNING,
            "privilege",
            f"{path.rsplit('.', 1)[-1]} changed at {path}",
            _fmt(old),
            _fmt(new),
        )


def _walk_security(node: Any, prefix: str) -> Iterator[tuple[str, Any]]:
    if node is MISSING:
        return
    for path, key, value in _walk(node, prefix):
        if key in SECURITY_KEYS:
            yield path, value
