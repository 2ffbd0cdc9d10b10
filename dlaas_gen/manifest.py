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
from dlaas_gen.problem import Problem

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
        meta = doc.get("metadata")
        meta = meta if isinstance(meta, dict) else {}
        return cls(
            group=api_group(str(doc.get("apiVersion", ""))),
            kind=str(doc.get("kind", "")),
            namespace=str(meta.get("namespace") or ""),
            name=str(meta.get("name") or ""),
        )

    def __str__(self) -> str:
        """``Kind namespace/name`` (``Kind name`` at cluster scope)."""
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind} {where}{self.name}"


@dataclass(frozen=True)
class ChartValues:
    """The values a HelmRelease's chart sees, merged once (`dlaas_gen.validate.values`).

    Attributes:
        values: the release's values (``valuesFrom`` and inline) over the chart defaults.
        problems: what went wrong while resolving them.
        chart_known: True when `values` include the chart's defaults.
    """

    values: dict[str, Any]
    problems: tuple[Problem, ...]
    chart_known: bool


@dataclass
class Manifest:
    """One rendered object and where it goes.

    Attributes:
        doc: the object, re-parsed from the rendered text (ruamel round-trip, keeps positions).
        text: the exact bytes (as str) that are written.
        path: output path relative to the site folder, e.g. ``apps/helmrelease-jhub.yaml``.
        template: the template it came from (for error messages), empty for generated files.
        section: the site-file section the object was rendered from (where its problems are
            reported, `dlaas_gen.origin`); ``()`` for the top of the file or not rendered.
        shown: how messages name the object's file (``rendered/<site>/apps/...``, or the file
            as the user gave it); empty: `path`.
        source_text: the whole file the object was read from, when `text` is not its own
            (one document of a multi-document file read back from disk).
        doc_index: the object's position among the documents of `source_text`.
        chart_values: the merged chart values of a HelmRelease, once computed.
    """

    doc: Any
    text: str
    path: str
    template: str = ""
    section: tuple[str, ...] = ()
    shown: str = ""
    source_text: str | None = None
    doc_index: int = 0
    chart_values: ChartValues | None = field(default=None, repr=False, compare=False)
    _located: Any = field(default=None, init=False, repr=False, compare=False)

    @property
    def display_path(self) -> str:
        """The file name messages use: `shown`, else `path`."""
        return self.shown or self.path

    def located_doc(self) -> Any:
        """The object parsed with positions (round-trip), parsed once; None when it fails.

        Why: objects are parsed with the fast loader, which keeps no positions; the text is
        parsed again with positions only when a problem has to be located.
        """
        if isinstance(self.doc, CommentedMap):
            return self.doc
        if self._located is None:
            source = self.source_text if self.source_text is not None else self.text
            docs = [d for d in yamlio.load_roundtrip_all(source) if d is not None]
            self._located = docs[self.doc_index] if self.doc_index < len(docs) else None
        return self._located

    def locate(self, loc: Iterable[Any], *, value: bool = False) -> tuple[int, int]:
        """1-based (line, col) of `loc` inside this object's text ((1, 1) when unknown)."""
        located = self.located_doc()
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
