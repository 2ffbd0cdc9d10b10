"""Removal of Flux v1 annotations, with image-automation suggestions.

Why: Flux v1 (fluxd and the Helm Operator) drove image automation and sync behaviour through
annotations; Flux v2 ignores them, so leaving them in place silently loses behaviour. Each one is
removed with a report line, and the automation ones get the Flux v2 equivalent as a suggestion.
"""

from __future__ import annotations

from typing import Any

from ruamel.yaml.comments import CommentedMap

from dlaas_gen.commands.migrate.ctx import DocCtx
from dlaas_gen.commands.migrate.edit import delete_key

PREFIXES = (
    "fluxcd.io/",
    "filter.fluxcd.io/",
    "repository.fluxcd.io/",
    "tag.fluxcd.io/",
    "registry.fluxcd.io/",
    "flux.weave.works/",
)

_IMAGE_API = "image.toolkit.fluxcd.io/v1"


def is_flux_v1_annotation(key: str) -> bool:
    """True for an annotation key under one of the Flux v1 prefixes."""
    return any(str(key).startswith(prefix) for prefix in PREFIXES)


def _policy_name(obj_name: str, container: str) -> str:
    return f"{obj_name}-{container}" if container else obj_name


#: Boolean policies: Flux v1 treated them as set only when the value is exactly "true".
BOOLEAN_POLICIES = ("automated", "locked", "ignore")
#: Tag filter prefixes Flux v1 knew; anything else was a glob of the whole value.
FILTER_PREFIXES = ("glob", "semver", "regexp", "regex")


def suggestion_for(key: str, value: Any, namespace: str, name: str) -> tuple[str, str]:
    """Return ``(level, suggestion)`` for one removed annotation (level ``warning`` or ``note``).

    Why: Flux v1 read ``automated``/``locked``/``ignore`` as on only for the value ``"true"``
    (fluxcd/flux ``pkg/policy/policy.go``, ``Set.Has`` with ``Boolean``), and a tag filter
    without one of the prefixes ``glob:``, ``semver:``, ``regexp:``/``regex:`` was a glob of the
    whole value (``pkg/policy/pattern.go``, ``NewPattern``). Suggestions never repeat the value.
    """
    key = str(key)
    value = "" if value is None else str(value)
    prefix, _, rest = key.partition("/")
    policy = _policy_name(name, rest.split(".", 1)[1] if rest.startswith("tag.") else "")
    if (rest in BOOLEAN_POLICIES and value != "true") or rest.startswith("locked_"):
        return "note", ""
    if rest == "automated":
        return "warning", (
            f"create an ImageRepository, an ImagePolicy and an ImageUpdateAutomation "
            f"({_IMAGE_API}) and mark the image field with "
            f'# {{"$imagepolicy": "{namespace}:{policy}"}}'
        )
    if prefix in ("fluxcd.io", "flux.weave.works") and rest.startswith("tag."):
        kind, sep, _pattern = value.partition(":")
        if not sep or kind not in FILTER_PREFIXES:
            return "warning", (
                "the value has no known filter prefix (glob:, semver:, regexp:), so Flux v1 "
                "matched it as a glob of the whole value; check it for a typo, then write an "
                f"ImagePolicy {namespace}/{policy} with spec.filterTags.pattern"
            )
        if kind == "semver":
            return "warning", (
                f"ImagePolicy {namespace}/{policy} ({_IMAGE_API}) with "
                f"spec.policy.semver.range set to the annotation's range"
            )
        return "warning", (
            f"{kind} tag filters have no direct equivalent (Flux v1 sorted by build "
            f"time): give images sortable tags, then an ImagePolicy {namespace}/{policy} with "
            f"spec.filterTags.pattern and spec.policy.numerical or alphabetical"
        )
    if prefix in ("filter.fluxcd.io", "tag.fluxcd.io", "repository.fluxcd.io",
                  "registry.fluxcd.io"):
        policy = _policy_name(name, rest)
        field = {"repository.fluxcd.io": ":name", "tag.fluxcd.io": ":tag"}.get(prefix, "")
        if prefix == "filter.fluxcd.io":
            return "warning", (
                f"ImagePolicy {namespace}/{policy} from the annotation's filter "
                f"(semver: -> spec.policy.semver.range)"
            )
        # the value of these annotations is a path into spec.values (a path, not data)
        where = f"spec.values.{value}" if value else "the values field"
        return "warning", (
            f'add the marker # {{"$imagepolicy": "{namespace}:{policy}{field}"}} next to {where}'
        )
    if rest == "ignore":
        return "warning", (
            "closest Flux v2 equivalent: annotation kustomize.toolkit.fluxcd.io/reconcile: "
            "disabled, or exclude the file with .sourceignore (semantics differ)"
        )
    if rest.startswith("locked"):
        return "warning", "no equivalent: suspend the ImageUpdateAutomation or pin the ImagePolicy"
    return "note", ""


def remove_flux_v1_annotations(doc: Any, ctx: DocCtx, namespace: str, name: str) -> bool:
    """Remove every Flux v1 annotation of `doc`'s metadata; return True if any was removed."""
    meta = doc.get("metadata") if isinstance(doc, CommentedMap) else None
    if not isinstance(meta, CommentedMap):
        return False
    annotations = meta.get("annotations")
    if not isinstance(annotations, CommentedMap):
        return False
    keys = [k for k in annotations if is_flux_v1_annotation(k)]
    for key in keys:
        value = annotations[key]
        level, suggestion = suggestion_for(key, value, namespace, name)
        ctx.change(f"removed Flux v1 annotation {key}", annotations, key)
        if level == "warning":
            ctx.warn(f"annotation {key} has no automatic Flux v2 equivalent",
                     annotations, key, suggestion)
        delete_key(annotations, key)
    if keys and not annotations:
        delete_key(meta, "annotations")
    return bool(keys)
