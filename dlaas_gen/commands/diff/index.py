"""Index the objects of one side of a diff by site and identity.

Why: objects are matched by (site, API group, kind, namespace, name), never by file name; the
index is shared by the comparison and by the attention rules that look objects up, so it lives
below both.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dlaas_gen import yamlio
from dlaas_gen.commands.diff.model import LAYOUT_FOLDERS, Side
from dlaas_gen.errors import UsageError
from dlaas_gen.manifest import ResourceKey

Index = dict[tuple[str, ResourceKey], "Entry"]


@dataclass
class Entry:
    """One object of one side, in plain data.

    Attributes:
        site: site folder (see `site_of`).
        key: identity.
        path: file relative to the compared root.
        doc: the object as plain dicts and lists.
    """

    site: str
    key: ResourceKey
    path: str
    doc: dict[str, Any]


def site_of(path: str) -> str:
    """Return the site folder of a file path relative to the compared root.

    ``site-a/apps/x.yaml`` → ``site-a``; ``apps/x.yaml`` → ``""`` (one site compared). The
    site is what precedes the first ``flux``/``apps``/``infrastructure`` folder, which is the
    layout ``dlaas-gen render`` writes; other layouts are one site.
    """
    parts = path.split("/")[:-1]
    for i, part in enumerate(parts):
        if part in LAYOUT_FOLDERS:
            return "/".join(parts[:i])
    return ""


def index_side(side: Side) -> tuple[Index, list[str]]:
    """Index the cluster objects of `side` by (site, key).

    Folder ``kustomization.yaml`` files (kustomize config, not cluster objects) are skipped;
    documents that are not Kubernetes objects are skipped with a note.

    Raises:
        UsageError: the same object is defined twice on one side.
    """
    index: Index = {}
    notes: list[str] = []
    for manifest in side.manifests:
        doc = manifest.doc
        shown = manifest.display_path
        if not isinstance(doc, Mapping) or not doc.get("kind") or not doc.get("apiVersion"):
            notes.append(f"{shown}: skipped a document without apiVersion and kind")
            continue
        if manifest.is_kustomize_config:
            continue
        site = site_of(manifest.path)
        key = manifest.key
        if (site, key) in index:
            first = index[(site, key)].path
            raise UsageError(
                f"{side.label}: {key} is defined twice ({first} and {manifest.path})"
            )
        index[(site, key)] = Entry(site, key, manifest.path, yamlio.plain(doc))
    return index, notes
