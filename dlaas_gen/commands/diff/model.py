"""Data records of a diff: options, loaded sides, per-resource changes, attention items.

Why: comparing produces data only; the three formatters and the CLI exit code are derived from
one `DiffResult`, so text, markdown and JSON can never disagree about what changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dlaas_gen.manifest import Manifest, ResourceKey

#: Version of the JSON document `dlaas_gen.commands.diff.format_json.render_json` writes.
SCHEMA_VERSION = 1

ADDED = "added"
REMOVED = "removed"
CHANGED = "changed"
MOVED = "moved"
#: Display order of statuses in summaries.
STATUSES = (REMOVED, CHANGED, ADDED, MOVED)

DANGER = "danger"
WARNING = "warning"
INFO = "info"
SEVERITIES = (DANGER, WARNING, INFO)

#: Labels Helm charts bump on every chart or app release (helm-diff#392, flux-local#203).
DEFAULT_IGNORE_LABELS: tuple[str, ...] = (
    "helm.sh/chart",
    "chart",
    "app.kubernetes.io/version",
)
#: Annotations that churn without changing what runs.
DEFAULT_IGNORE_ANNOTATIONS: tuple[str, ...] = (
    "checksum/*",
    "deployment.kubernetes.io/revision",
)

#: Folders `dlaas-gen render` writes inside ``rendered/<site>/``.
LAYOUT_FOLDERS = frozenset({"flux", "apps", "infrastructure", "cache"})


@dataclass(frozen=True)
class DiffOptions:
    """How to compare.

    Attributes:
        ignore_labels: fnmatch patterns of label keys removed from every ``metadata``.
        ignore_annotations: fnmatch patterns of annotation keys removed from every ``metadata``.
        context: lines of context in unified diffs.
    """

    ignore_labels: tuple[str, ...] = DEFAULT_IGNORE_LABELS
    ignore_annotations: tuple[str, ...] = DEFAULT_IGNORE_ANNOTATIONS
    context: int = 3


@dataclass
class Side:
    """One loaded side of the comparison.

    Attributes:
        label: what the side is, for headers (``origin/main@1a2b3c4:rendered`` or a folder).
        manifests: every object read, paths relative to the compared root.
        notes: remarks about the side (e.g. the folder did not exist at the base commit).
    """

    label: str
    manifests: list[Manifest]
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SecretKeys:
    """Names (never values) of Secret keys that were added, removed or changed."""

    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        """True when any key was added, removed or changed."""
        return bool(self.added or self.removed or self.changed)


@dataclass
class ResourceChange:
    """What happened to one resource.

    Attributes:
        status: ``added``, ``removed``, ``changed`` or ``moved`` (same content, other file).
        site: the site folder the object belongs to (``""`` when comparing one site).
        key: identity of the object.
        old_path: file on the old side, None when added.
        new_path: file on the new side, None when removed.
        diff: unified diff of the object (Secrets redacted, ignored metadata removed,
            HelmRelease ``spec.values`` left out because `values_diff` shows them merged).
        values_diff: unified diff of a HelmRelease's merged values, ``""`` otherwise.
        values_notes: where the merged values came from and what could not be resolved.
        secret_keys: for Secrets, which keys changed; None for other kinds.
    """

    status: str
    site: str
    key: ResourceKey
    old_path: str | None
    new_path: str | None
    diff: str = ""
    values_diff: str = ""
    values_notes: list[str] = field(default_factory=list)
    secret_keys: SecretKeys | None = None

    @property
    def label(self) -> str:
        """``[site] Kind namespace/name`` for headers."""
        prefix = f"[{self.site}] " if self.site else ""
        return f"{prefix}{self.key}"

    @property
    def path(self) -> str:
        """The file shown for the resource (new side when it exists)."""
        return self.new_path or self.old_path or ""

    @property
    def sort_key(self) -> tuple[str, str, str, str, str]:
        """Stable order: site, kind, namespace, name, group."""
        k = self.key
        return (self.site, k.kind, k.namespace, k.name, k.group)


@dataclass(frozen=True)
class Attention:
    """One item of the "needs attention" section.

    Attributes:
        severity: ``danger`` (apply fails or data goes away), ``warning`` or ``info``.
        rule: short id, e.g. ``prune``, ``immutable``, ``helm-reinstall``, ``image``.
        site: site folder of the resource.
        key: the resource concerned.
        message: one line for a human; never contains Secret values.
        old: previous value, when the item is about a value change.
        new: new value, when the item is about a value change.
    """

    severity: str
    rule: str
    site: str
    key: ResourceKey
    message: str
    old: str | None = None
    new: str | None = None

    @property
    def label(self) -> str:
        """``[site] Kind namespace/name``."""
        prefix = f"[{self.site}] " if self.site else ""
        return f"{prefix}{self.key}"


@dataclass
class DiffResult:
    """Everything a formatter needs.

    Attributes:
        old_label: description of the old side.
        new_label: description of the new side.
        changes: every resource that is not identical in place, in stable order.
        unchanged: number of resources identical and in the same file.
        attention: the "needs attention" items, most severe first.
        notes: remarks about the inputs (skipped documents, missing folders).
        charts: for changed HelmReleases whose chart is locked on both sides, the objects the
            chart renders, compared (`dlaas_gen.commands.diff.charts.ChartDiff`).
    """

    old_label: str
    new_label: str
    changes: list[ResourceChange]
    unchanged: int
    attention: list[Attention]
    notes: list[str] = field(default_factory=list)
    charts: list[Any] = field(default_factory=list)

    def count(self, status: str) -> int:
        """Number of changes with `status`."""
        return sum(1 for c in self.changes if c.status == status)

    @property
    def has_differences(self) -> bool:
        """True when any resource was added, removed, changed or moved."""
        return bool(self.changes)
