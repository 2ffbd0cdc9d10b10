"""The resource model shared by render, validate, writer and diff.

Why: resources are identified by (group, kind, namespace, name), never by file name, so the
diff and the uniqueness rule agree on what "the same object" is (flux-local NamedResource).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml.comments import CommentedMap

from dlaas_gen import yamlio

KUSTOMIZE_CONFIG_API = "kustomize.config.k8s.io/v1beta1"

#: Kinds that live at cluster scope (no metadata.namespace).
CLUSTER_SCOPED_KINDS = frozenset(
    {
        "Namespace",
        "ClusterRole",
        "ClusterRoleBinding",
        "CustomResourceDefinition",
        "PersistentVolume",
        "StorageClass",
        "PriorityClass",
        "ValidatingWebhookConfiguration",
        "MutatingWebhookConfiguration",
    }
)


def api_group(api_version: str) -> str:
    """Return the API group of an apiVersion (``""`` for the core group)."""
    return api_version.rsplit("/", 1)[0] if "/" in api_version else ""


@dataclass(frozen=True, order=True)
class ResourceKey:
    """Identity of a Kubernetes object: API group, kind, namespace, name."""

    group: str
    kind: str
    namespace: str
    name: str

    @classmethod
    def of(cls, doc: dict[str, Any]) -> ResourceKey:
        """Build the key of a parsed object (missing fields become empty strings)."""
        meta = doc.get("metadata") or {}
        return cls(
            group=api_group(str(doc.get("apiVersion", ""))),
            kind=str(doc.get("kind", "")),
            namespace=str(meta.get("namespace") or ""),
            name=str(meta.get("name") or ""),
        )

    def __str__(self) -> str:
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind} {where}{self.name}"


@dataclass
class Manifest:
    """One rendered object and where it goes.

    Attributes:
        doc: the object, re-parsed from the rendered text (ruamel round-trip, keeps positions).
        text: the exact bytes (as str) that are written.
        path: output path relative to the site folder, e.g. ``apps/helmrelease-jhub.yaml``.
        template: the template it came from (for error messages), empty for generated files.
    """

    doc: Any
    text: str
    path: str
    template: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def locate(self, loc: Iterable[Any], *, value: bool = False) -> tuple[int, int]:
        """1-based (line, col) of `loc` inside this object's text.

        Why: objects are parsed with the fast loader, which keeps no positions; the text is
        parsed again with positions only when a problem has to be located.
        """
        if isinstance(self.doc, CommentedMap):
            return yamlio.position_of(self.doc, loc, value=value)
        located = self.extra.get("_located")
        if located is None:
            source = self.extra.get("source_text", self.text)
            docs = [d for d in yamlio.load_roundtrip_all(source) if d is not None]
            index = self.extra.get("doc_index", 0)
            located = docs[index] if index < len(docs) else None
            self.extra["_located"] = located
        return yamlio.position_of(located, loc, value=value) if located is not None else (1, 1)

    @property
    def key(self) -> ResourceKey:
        """Identity of the object."""
        return ResourceKey.of(self.doc)

    @property
    def kind(self) -> str:
        """The object's kind."""
        return str(self.doc.get("kind", ""))

    @property
    def api_version(self) -> str:
        """The object's apiVersion."""
        return str(self.doc.get("apiVersion", ""))

    @property
    def is_kustomize_config(self) -> bool:
        """True for a folder's ``kustomization.yaml`` (not a cluster object)."""
        return self.api_version == KUSTOMIZE_CONFIG_API
