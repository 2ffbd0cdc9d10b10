"""Per-document context: where findings go and how lines are computed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dlaas_gen.commands.migrate.edit import line_of
from dlaas_gen.commands.migrate.model import CHANGE, ERROR, MANUAL, NOTE, WARNING, Finding, Options


def object_label(doc: Any, namespace: str | None = None) -> str:
    """Return ``Kind ns/name`` for a document (namespace may be an assumed one)."""
    meta = doc.get("metadata") if isinstance(doc, dict) else None
    meta = meta if isinstance(meta, dict) else {}
    kind = doc.get("kind", "") if isinstance(doc, dict) else ""
    kind = kind if isinstance(kind, str) else "?"
    name = meta.get("name")
    if not name:
        return kind
    name = str(name) if isinstance(name, str | int | float) else "?"  # a template's {{ x }}
    ns = namespace if namespace is not None else meta.get("namespace")
    ns = ns if isinstance(ns, str | int | float | type(None)) else "?"
    return f"{kind} {ns}/{name}" if ns else f"{kind} {name}"


@dataclass
class DocCtx:
    """Collects the findings of one document.

    Attributes:
        path: file path for report lines.
        body_line: 1-based file line of the document's first body line.
        obj: ``Kind ns/name`` used on report lines.
        options: run options.
        findings: collected findings.
    """

    path: str
    body_line: int
    obj: str
    options: Options
    findings: list[Finding] = field(default_factory=list)

    def line(self, node: Any = None, key: Any = None) -> int:
        """Return the 1-based file line of `node[key]` (document start when unknown)."""
        rel = line_of(node, key) if node is not None else None
        return self.body_line + (rel or 0)

    def _add(self, level: str, message: str, node: Any, key: Any, suggestion: str) -> None:
        self.findings.append(
            Finding(self.path, self.line(node, key), level, message, self.obj, suggestion)
        )

    def change(self, message: str, node: Any = None, key: Any = None) -> None:
        """Record a change made to the document."""
        self._add(CHANGE, message, node, key, "")

    def warn(self, message: str, node: Any = None, key: Any = None, suggestion: str = "") -> None:
        """Record a behaviour change a human should look at."""
        self._add(WARNING, message, node, key, suggestion)

    def manual(self, message: str, node: Any = None, key: Any = None, suggestion: str = "") -> None:
        """Record a step the tool cannot do."""
        self._add(MANUAL, message, node, key, suggestion)

    def note(self, message: str, node: Any = None, key: Any = None, suggestion: str = "") -> None:
        """Record an informational note."""
        self._add(NOTE, message, node, key, suggestion)

    def error(self, message: str, node: Any = None, key: Any = None) -> None:
        """Record an error (the file is not written)."""
        self._add(ERROR, message, node, key, "")


def cross_namespace_warning(ctx: DocCtx, what: str, node: Any = None, key: Any = None) -> None:
    """Report a reference to an object in another namespace.

    Why: helm-controller and kustomize-controller refuse such references when they run with
    ``--no-cross-namespace-refs`` (fluxcd/helm-controller ``internal/acl/acl.go``
    ``AllowsAccessTo``; fluxcd/kustomize-controller
    ``internal/controller/kustomization_controller.go``), a common multi-tenancy setting; the
    release would stop reconciling after the cut-over.
    """
    if ctx.options.no_cross_namespace_refs:
        ctx.manual(f"refers to {what} in another namespace: refused under "
                   f"--no-cross-namespace-refs", node, key,
                   f"put a copy of {what.split(' ', 1)[0]} in this object's namespace and drop "
                   f"the namespace from the reference")
    else:
        ctx.warn(f"refers to {what} in another namespace: breaks when the controllers run "
                 f"with --no-cross-namespace-refs", node, key,
                 "if they do, run migrate with --no-cross-namespace-refs (sources are then "
                 "created in the release's namespace)")
