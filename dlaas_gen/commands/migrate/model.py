"""Data records of a migration run: findings, per-object plans, per-file outcomes.

Why: the library never prints; the CLI formats these records (text or JSON) and decides the
exit code from them, so the same run can be shown, scanned or written.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

CHANGE = "change"
WARNING = "warning"
MANUAL = "manual"
NOTE = "note"
ERROR = "error"

#: Default reconcile intervals of the objects the migration creates.
DEFAULT_INTERVAL = "5m"


@dataclass(frozen=True)
class Finding:
    """One report line.

    Attributes:
        path: file, as found (relative when the input was relative).
        line: 1-based line in the original file (0 when unknown).
        level: ``change``, ``warning``, ``manual``, ``note`` or ``error``.
        message: what changed, or what a human must do.
        obj: ``Kind ns/name`` of the object concerned, empty for file-level findings.
        suggestion: a concrete next step (manual steps and image-automation hints).
    """

    path: str
    line: int
    level: str
    message: str
    obj: str = ""
    suggestion: str = ""

    def format(self) -> str:
        """Return ``path:line: Kind ns/name: message`` (level prefix for non-changes)."""
        where = f"{self.path}:{self.line}" if self.line else self.path
        prefix = "" if self.level == CHANGE else f"{self.level}: "
        obj = f"{self.obj}: " if self.obj else ""
        text = f"{where}: {prefix}{obj}{self.message}"
        if self.suggestion:
            text += f" (suggestion: {self.suggestion})"
        return text

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return asdict(self)


@dataclass
class ObjectPlan:
    """What happens to one Flux v1 / beta object (the ``--scan`` listing).

    Attributes:
        path: file of the object.
        line: line of the object's ``apiVersion`` (or its first line).
        obj: ``Kind ns/name``.
        old_api: apiVersion found.
        new_api: apiVersion it becomes (empty when it cannot be migrated automatically).
        plan: short description of the conversion.
        manual: True when a human has to act before or after.
    """

    path: str
    line: int
    obj: str
    old_api: str
    new_api: str
    plan: str
    manual: bool = False

    def format(self) -> str:
        """Return one ``--scan`` line."""
        where = f"{self.path}:{self.line}"
        arrow = f"{self.old_api} -> {self.new_api}" if self.new_api else f"{self.old_api} (manual)"
        return f"{where}: {self.obj}: {arrow}: {self.plan}"

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return asdict(self)


@dataclass
class FileOutcome:
    """The result for one input file.

    Attributes:
        path: file as found.
        original: original text (None for files not read, e.g. skipped templates).
        migrated: new text, None when the file is left alone (nothing to do, or invalid output).
        written: path written to, empty when nothing was written.
        valid: False when the migrated objects failed schema validation.
        unreadable: the file could not be read at all (permissions, I/O): exit code 2.
    """

    path: str
    original: str | None = None
    migrated: str | None = None
    written: str = ""
    valid: bool = True
    unreadable: bool = False

    @property
    def changed(self) -> bool:
        """True when the migration would change the file."""
        return self.migrated is not None and self.migrated != self.original


@dataclass
class MigrationResult:
    """Everything one ``migrate`` run found and did."""

    findings: list[Finding] = field(default_factory=list)
    plans: list[ObjectPlan] = field(default_factory=list)
    files: list[FileOutcome] = field(default_factory=list)
    written: bool = False

    def by_level(self, level: str) -> list[Finding]:
        """Return the findings of one level, in file/line order."""
        return [f for f in self.findings if f.level == level]

    @property
    def changed_files(self) -> list[FileOutcome]:
        """Files the migration changes (or changed, after writing)."""
        return [f for f in self.files if f.changed]

    @property
    def has_errors(self) -> bool:
        """True when a file could not be read, parsed or validated."""
        return any(f.level == ERROR for f in self.findings)

    @property
    def needs_manual(self) -> bool:
        """True when a human has to finish the migration."""
        return any(f.level == MANUAL for f in self.findings)

    def exit_code(self) -> int:
        """The CLI's exit code, as for ``render`` and ``diff``.

        0: nothing to do, or every change written and no manual step left (warnings and notes
        may be printed). 1: changes pending (dry run), manual steps remain (also after
        ``--write``, which still writes every file it could convert), or an error (a file that
        cannot be parsed while it names a Flux API, an object that does not validate). 2: a
        file could not be read at all (usage errors raise `UsageError` before this).
        """
        if any(f.unreadable for f in self.files):
            return 2
        if self.has_errors or self.needs_manual:
            return 1
        if self.changed_files and not self.written:
            return 1
        return 0


@dataclass(frozen=True)
class Options:
    """Settings of a run.

    Attributes:
        assume_helm3: treat Helm Operator releases without ``helmVersion`` as Helm 3.
        default_namespace: namespace of releases without one and without an enclosing
            ``kustomization.yaml`` namespace (None: ``default``, the Helm Operator's default).
        interval: ``spec.interval`` given to created objects and HelmReleases lacking one.
        no_cross_namespace_refs: the controllers run with ``--no-cross-namespace-refs``: a
            release gets sources in its own namespace, and an existing reference to another
            namespace is a manual step (without it, such a reference is a warning).
    """

    assume_helm3: bool = False
    default_namespace: str | None = None
    interval: str = DEFAULT_INTERVAL
    no_cross_namespace_refs: bool = False
