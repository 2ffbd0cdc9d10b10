"""Every API version each Flux group ever served, and what an object of each becomes.

Why: a version that is not in the table (``source.toolkit.fluxcd.io/v2beta1`` never existed) was
silently ignored; with the full history per group, an old version is converted or reported, and
a version of a Flux group outside its history is an error at its line (an unknown
``*.toolkit.fluxcd.io`` group, such as a test CRD's, is a warning).
Sources: the ``api/<version>/`` folders of fluxcd/source-controller, kustomize-controller,
helm-controller, notification-controller, image-reflector-controller and
image-automation-controller; the current version per kind is ``flux27LatestAPIVersions`` in
fluxcd/flux2 ``cmd/flux/migrate.go`` (used for Flux 2.7 to 2.9).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

TOOLKIT_SUFFIX = ".toolkit.fluxcd.io"

#: group → every version it served, oldest first.
HISTORY: dict[str, tuple[str, ...]] = {
    "source.toolkit.fluxcd.io": ("v1alpha1", "v1beta1", "v1beta2", "v1"),
    "kustomize.toolkit.fluxcd.io": ("v1alpha1", "v1beta1", "v1beta2", "v1"),
    "helm.toolkit.fluxcd.io": ("v2alpha1", "v2beta1", "v2beta2", "v2"),
    "notification.toolkit.fluxcd.io": ("v1alpha1", "v1beta1", "v1beta2", "v1beta3", "v1beta4",
                                       "v1"),
    "image.toolkit.fluxcd.io": ("v1alpha1", "v1alpha2", "v1beta1", "v1beta2", "v1"),
}

#: group → the version objects are migrated to (the kind-specific exceptions are in `KIND_TARGET`).
TARGET: dict[str, str] = {
    "source.toolkit.fluxcd.io": "v1",
    "kustomize.toolkit.fluxcd.io": "v1",
    "helm.toolkit.fluxcd.io": "v2",
    "notification.toolkit.fluxcd.io": "v1beta3",
    "image.toolkit.fluxcd.io": "v1",
}

#: (group, kind) → target version when it differs from the group's.
KIND_TARGET: dict[tuple[str, str], str] = {
    ("notification.toolkit.fluxcd.io", "Receiver"): "v1",
}

#: Flux kinds per group (used to place a ``kind``/``version`` selector without a group).
KINDS: dict[str, tuple[str, ...]] = {
    "source.toolkit.fluxcd.io": ("GitRepository", "HelmRepository", "HelmChart", "OCIRepository",
                                 "Bucket", "ExternalArtifact"),
    "kustomize.toolkit.fluxcd.io": ("Kustomization",),
    "helm.toolkit.fluxcd.io": ("HelmRelease",),
    "notification.toolkit.fluxcd.io": ("Alert", "Provider", "Receiver"),
    "image.toolkit.fluxcd.io": ("ImageRepository", "ImagePolicy", "ImageUpdateAutomation"),
}

#: Flux v1 groups: the Helm Operator's and fluxd's.
LEGACY: dict[str, tuple[str, ...]] = {
    "helm.fluxcd.io": ("v1",),
    "flux.weave.works": ("v1beta1",),
    "helm.integrations.flux.weave.works": ("v1alpha1", "v1alpha2"),
}

CURRENT, OLD, ALPHA, NEWER_OK, UNKNOWN, NOT_FLUX, LEGACY_API = (
    "current", "old", "alpha", "newer", "unknown", "not-flux", "legacy")


@dataclass(frozen=True)
class Verdict:
    """What an apiVersion means for the migration.

    Attributes:
        status: `CURRENT`, `OLD` (beta: converted), `ALPHA` (converted when the result
            validates, else a manual step), `NEWER_OK` (past the target: left as is),
            `UNKNOWN` (never existed: an error),
            `LEGACY_API` (Flux v1 groups) or `NOT_FLUX`.
        target: the apiVersion to migrate to (empty when not a toolkit group).
    """

    status: str
    target: str = ""


def target_version(group: str, kind: str) -> str:
    """Return the version an object of `group`/`kind` is migrated to ('' for other groups)."""
    return KIND_TARGET.get((group, kind), TARGET.get(group, ""))


def classify(api_version: str, kind: str = "") -> Verdict:
    """Classify an apiVersion (with the kind, for notification's per-kind versions)."""
    group, _, version = str(api_version).rpartition("/")
    if group in LEGACY:
        return Verdict(LEGACY_API)
    if group not in HISTORY:
        if group.endswith(TOOLKIT_SUFFIX):
            return Verdict(UNKNOWN)
        return Verdict(NOT_FLUX)
    target = f"{group}/{target_version(group, kind)}"
    history = HISTORY[group]
    if version not in history:
        return Verdict(UNKNOWN, target)
    if api_version == target:
        return Verdict(CURRENT, target)
    if history.index(version) > history.index(target.rsplit("/", 1)[1]):
        return Verdict(NEWER_OK, target)  # newer than what migrate writes (Alert v1beta4)
    if "alpha" in version:
        return Verdict(ALPHA, target)
    return Verdict(OLD, target)


def close_group(api_version: str) -> str | None:
    """The Flux group a mistyped ``*.toolkit.fluxcd.io`` group most likely means, if any."""
    group = str(api_version).rpartition("/")[0]
    found = difflib.get_close_matches(group, list(HISTORY), n=1, cutoff=0.8)
    return found[0] if found else None


def group_of_kind(kind: str) -> str | None:
    """Return the toolkit group of a Flux kind, None for other kinds."""
    for group, kinds in KINDS.items():
        if kind in kinds:
            return group
    return None


def versions_markdown() -> str:
    """Markdown table of the known versions per group (for docs/migrate.md)."""
    rows = ["| API group | Versions that existed | Migrated to |", "|---|---|---|"]
    for group, history in HISTORY.items():
        target = TARGET[group]
        exceptions = ", ".join(f"{kind}: `{v}`" for (g, kind), v in KIND_TARGET.items()
                               if g == group)
        note = f"`{target}`" + (f" ({exceptions})" if exceptions else "")
        if history.index(target) < len(history) - 1:
            note += "; later versions are left as is"
        rows.append(f"| `{group}` | {', '.join(f'`{v}`' for v in history)} | {note} |")
    for group, history in LEGACY.items():
        target = ("manual step (FluxHelmRelease)" if "integrations" in group
                  else "HelmRelease → `helm.toolkit.fluxcd.io/v2`")
        rows.append(f"| `{group}` (Flux v1) | {', '.join(f'`{v}`' for v in history)} | "
                    f"{target} |")
    return "\n".join(rows) + "\n"
