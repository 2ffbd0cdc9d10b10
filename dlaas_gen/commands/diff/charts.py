"""The objects a changed HelmRelease's chart renders, compared by resource (``helm template``).

Why: a chart bump or a values change alters Deployments, ConfigMaps and RBAC objects that are
in no file of ``rendered/``; flux-local shows them by rendering the chart. Here each side's
chart comes from its locked archive (``charts/<chart>-<version>/<chart>-<version>.tgz``, the
old side read from git without a checkout) and is rendered offline in-process with the Helm
SDK wheel ``helm-python-sdk`` (Helm's Go SDK behind a C ABI; no helm binary, no cluster).
That SDK has no option for ``Capabilities.KubeVersion``: it renders for the Kubernetes version
its Helm build defaults to, which is measured once (a probe chart) and stated in the report,
since z2jh picks the user-scheduler image by it.

Secrets the chart renders hold values it generates at random when ``lookup`` finds nothing
(the hub's cookie secret, the proxy token) and the merged values themselves; their values
are replaced by one placeholder, so only their keys are compared.
"""

from __future__ import annotations

import functools
import io
import tarfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml.error import YAMLError

from dlaas_gen import yamlio
from dlaas_gen.commands.diff.attention import _FORCE
from dlaas_gen.commands.diff.model import (
    DANGER,
    REMOVED,
    WARNING,
    Attention,
    DiffOptions,
    ResourceChange,
    Side,
)
from dlaas_gen.commands.diff.values import is_helmrelease, side_values
from dlaas_gen.manifest import Manifest, ResourceKey

GENERATED = "<set by the chart>"
HELM_FORCE = ("the Helm upgrade fails unless the HelmRelease sets upgrade.force: true "
              "(which recreates the object)")
SDK_HINT = "install the helm extra: pip install 'dlaas-gen[helm]'"
#: Kinds whose removal by a chart upgrade loses data or much more than the object.
DATA_KINDS = frozenset({"PersistentVolumeClaim", "PersistentVolume", "Namespace",
                        "CustomResourceDefinition"})

#: ``read(chart, version)`` returns the archive bytes, or None when that side has none.
ArchiveReader = Callable[[str, str], "bytes | None"]


@dataclass(frozen=True)
class ChartArchives:
    """Where one side's locked chart archives are (a folder, or a folder at a git commit)."""

    label: str
    read: ArchiveReader


def folder_archives(charts_dir: Path) -> ChartArchives:
    """Archives under a ``charts/`` folder on disk."""

    def read(chart: str, version: str) -> bytes | None:
        path = charts_dir / f"{chart}-{version}" / f"{chart}-{version}.tgz"
        try:
            return path.read_bytes()
        except OSError:
            return None

    return ChartArchives(str(charts_dir), read)


def git_archives(commit: str, charts_dir: Path, cwd: Path) -> ChartArchives:
    """Archives under a ``charts/`` folder as it is at `commit` (read with ``git cat-file``)."""
    from dlaas_gen.commands.diff.sources import _git, _repo_relative, repo_root

    root = repo_root(cwd)
    absolute = charts_dir if charts_dir.is_absolute() else cwd / charts_dir
    prefix = _repo_relative(absolute, root)

    def read(chart: str, version: str) -> bytes | None:
        rel = f"{prefix}/{chart}-{version}/{chart}-{version}.tgz".lstrip("/")
        proc = _git(["cat-file", "blob", f"{commit}:{rel}"], root)
        return proc.stdout if proc.returncode == 0 else None

    return ChartArchives(f"{commit[:12]}:{prefix or '.'}", read)


@dataclass
class ChartDiff:
    """The chart objects of one HelmRelease, old side against new side.

    Attributes:
        site: site folder of the release.
        release: the HelmRelease.
        old_chart: ``name version`` on the old side.
        new_chart: ``name version`` on the new side.
        kube_version: ``Capabilities.KubeVersion`` both sides were rendered for.
        helm_version: version of the Helm SDK that rendered them.
        changes: every chart object that differs, as in the main diff.
        unchanged: number of chart objects identical on both sides.
        attention: chart objects an upgrade deletes, and the main diff's rules on the others.
    """

    site: str
    release: ResourceKey
    old_chart: str
    new_chart: str
    kube_version: str
    helm_version: str
    changes: list[ResourceChange] = field(default_factory=list)
    unchanged: int = 0
    attention: list[Attention] = field(default_factory=list)

    @property
    def label(self) -> str:
        """``[site] HelmRelease ns/name``."""
        prefix = f"[{self.site}] " if self.site else ""
        return f"{prefix}{self.release}"


@dataclass
class _Release:
    chart: str
    version: str
    name: str
    namespace: str
    values: dict[str, Any]


def _release(doc: Mapping[str, Any], lookup: Mapping[ResourceKey, Any]) -> _Release | None:
    spec = doc.get("spec") if isinstance(doc.get("spec"), Mapping) else {}
    chart_spec = ((spec or {}).get("chart") or {}).get("spec") or {}
    chart, version = str(chart_spec.get("chart") or ""), str(chart_spec.get("version") or "")
    if not chart or not version or "/" in chart or ".." in chart or "/" in version:
        return None
    meta = doc.get("metadata") if isinstance(doc.get("metadata"), Mapping) else {}
    namespace = str((spec or {}).get("targetNamespace") or (meta or {}).get("namespace") or "")
    # helm-controller's default release name is [<targetNamespace>-]<name>.
    target = (spec or {}).get("targetNamespace")
    name = str((spec or {}).get("releaseName")
               or (f"{target}-{(meta or {}).get('name')}" if target else (meta or {}).get("name")))
    return _Release(chart, version, name, namespace, side_values(doc, lookup).values)


def chart_diffs(
    changes: list[ResourceChange],
    old_lookup: Mapping[str, Mapping[ResourceKey, Any]],
    new_lookup: Mapping[str, Mapping[ResourceKey, Any]],
    archives: tuple[ChartArchives, ChartArchives],
    options: DiffOptions,
    compare: Callable[[Side, Side, DiffOptions], Any],
) -> tuple[list[ChartDiff], list[str]]:
    """Render and compare the chart of every changed HelmRelease whose both sides are locked.

    Returns:
        The chart diffs, and notes for releases whose chart could not be rendered.
    """
    out: list[ChartDiff] = []
    notes: list[str] = []
    for change in changes:
        pair = _changed_releases(change, old_lookup, new_lookup)
        if pair is None:
            continue
        old, new = pair
        rendered = _render_sides(old, new, archives, f"chart objects of {change.label}", notes)
        if rendered is None:
            continue
        sdk, sides = rendered
        result = compare(sides[0], sides[1], options)
        diff = ChartDiff(change.site, change.key, f"{old.chart} {old.version}",
                         f"{new.chart} {new.version}", kube_version(), sdk.helm_sdk_version(),
                         result.changes, result.unchanged)
        diff.attention.extend(_chart_attention(change.site, result, sides))
        out.append(diff)
    return out, notes


def _changed_releases(
    change: ResourceChange,
    old_lookup: Mapping[str, Mapping[ResourceKey, Any]],
    new_lookup: Mapping[str, Mapping[ResourceKey, Any]],
) -> tuple[_Release, _Release] | None:
    """Both sides of a changed HelmRelease whose chart can be named, else None."""
    if change.status != "changed" or change.key.kind != "HelmRelease":
        return None
    old_doc = old_lookup.get(change.site, {}).get(change.key)
    new_doc = new_lookup.get(change.site, {}).get(change.key)
    if not (isinstance(old_doc, Mapping) and isinstance(new_doc, Mapping)
            and is_helmrelease(old_doc) and is_helmrelease(new_doc)):
        return None
    old = _release(old_doc, old_lookup.get(change.site, {}))
    new = _release(new_doc, new_lookup.get(change.site, {}))
    return (old, new) if old is not None and new is not None else None


def _render_sides(
    old: _Release, new: _Release, archives: tuple[ChartArchives, ChartArchives], where: str,
    notes: list[str],
) -> tuple[Any, list[Side]] | None:
    """The Helm SDK and both rendered sides; None (with a note unless no side is locked)."""
    old_data = archives[0].read(old.chart, old.version)
    new_data = archives[1].read(new.chart, new.version)
    if old_data is None and new_data is None:
        return None  # no side is locked (e.g. the vendored version): nothing to say
    missing = [f"{side} side ({r.chart} {r.version}, not in {a.label})"
               for side, r, data, a in (("old", old, old_data, archives[0]),
                                        ("new", new, new_data, archives[1])) if data is None]
    if missing or old_data is None or new_data is None:
        notes.append(f"{where} not shown: no locked archive on the "
                     f"{' and the '.join(missing)}; run `dlaas-gen chart pull` and commit charts/")
        return None
    try:
        sdk = _sdk()
    except ImportError:
        notes.append(f"{where} not shown: the Helm SDK is not installed ({SDK_HINT})")
        return None
    sides = []
    for label, release, data in (("old", old, old_data), ("new", new, new_data)):
        try:
            sides.append(_render(sdk, release, data, label))
        except _RenderFailed as exc:
            notes.append(f"{where} not shown: {exc}")
            return None
    return sdk, sides


def _chart_attention(site: str, result: Any, sides: list[Side]) -> list[Attention]:
    """What needs attention in the chart's own objects, as a Helm upgrade applies them."""
    found: list[Attention] = []
    hooks = {(c.key.kind, c.key.namespace, c.key.name) for c in result.changes
             if _is_hook(sides[1], c.key) or _is_hook(sides[0], c.key)}
    for item in result.attention:
        message = item.message
        if item.rule == "prune":
            continue  # the removals get their own item below: Helm deletes, not Flux
        if item.rule == "immutable":
            if (item.key.kind, item.key.namespace, item.key.name) in hooks:
                continue  # Helm deletes and recreates hook objects on every upgrade
            message = message.replace(_FORCE, HELM_FORCE)
        found.append(Attention(item.severity, item.rule, site, item.key, message, item.old,
                               item.new))
    for removed in (c for c in result.changes if c.status == REMOVED):
        severity = DANGER if removed.key.kind in DATA_KINDS else WARNING
        found.append(Attention(severity, "helm-delete", site, removed.key,
                               "no longer rendered by the chart: the Helm upgrade deletes it"))
    return found


def _is_hook(side: Side, key: ResourceKey) -> bool:
    """True for a Helm hook (``helm.sh/hook`` annotation): recreated, not patched, on upgrade."""
    for m in side.manifests:
        if m.key == key:
            annotations = (m.doc.get("metadata") or {}).get("annotations") or {}
            return "helm.sh/hook" in annotations
    return False


class _RenderFailed(Exception):
    pass


def _sdk() -> Any:
    import helm_python  # lazy: a large native library, only needed when a chart is rendered

    return helm_python


def _render(sdk: Any, release: _Release, data: bytes, side: str) -> Side:
    try:
        with sdk.Chart.load_archive(data) as chart:
            rendered = chart.render(release.values, name=release.name,
                                    namespace=release.namespace)
    except sdk.HelmError as exc:
        text = " ".join(str(exc).split()) or type(exc).__name__  # one line, Helm's own words
        raise _RenderFailed(f"Helm could not render the {side} side ({release.chart} "
                            f"{release.version}): {text[:400]}") from None
    manifests: list[Manifest] = []
    for path in sorted(rendered):
        if not path.endswith((".yaml", ".yml")):
            continue  # NOTES.txt
        try:
            docs = yamlio.load_fast_all(rendered[path])
        except YAMLError as exc:
            raise _RenderFailed(f"the {side} side's {path} is not YAML "
                                f"({str(exc).splitlines()[0]})") from None
        for doc in docs:
            if isinstance(doc, dict) and doc:
                manifests.append(Manifest(doc=_mask_secret(doc), text="", path=path, shown=path))
    return Side(label=f"{release.chart} {release.version}", manifests=manifests)


def _mask_secret(doc: dict[str, Any]) -> dict[str, Any]:
    if doc.get("kind") != "Secret" or doc.get("apiVersion") != "v1":
        return doc
    masked = dict(doc)
    for key in ("data", "stringData"):
        if isinstance(doc.get(key), Mapping):
            masked[key] = {name: GENERATED for name in doc[key]}
    return masked


@functools.lru_cache(maxsize=1)
def kube_version() -> str:
    """``Capabilities.KubeVersion`` the Helm SDK renders for, measured with a probe chart."""
    sdk = _sdk()
    with sdk.Chart.load_archive(_probe_chart()) as chart:
        rendered = chart.render({}, name="probe", namespace="probe")
    text = rendered.get("probe/templates/version.yaml", "")
    return str((yamlio.load_fast(text) or {}).get("version", "unknown"))


def _probe_chart() -> bytes:
    files = {
        "probe/Chart.yaml": "apiVersion: v2\nname: probe\nversion: 0.0.1\n",
        "probe/templates/version.yaml":
            "version: {{ .Capabilities.KubeVersion.Version | quote }}\n",
    }
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def to_data(
    diff: ChartDiff, resource: Callable[[ResourceChange], dict[str, Any]]
) -> dict[str, Any]:
    """The JSON form of one chart diff (resources in the main diff's shape)."""
    return {
        "site": diff.site,
        "release": {"namespace": diff.release.namespace, "name": diff.release.name},
        "old_chart": diff.old_chart,
        "new_chart": diff.new_chart,
        "kube_version": diff.kube_version,
        "helm_version": diff.helm_version,
        "unchanged": diff.unchanged,
        "resources": [resource(c) for c in diff.changes],
        "attention": [{"severity": a.severity, "rule": a.rule, "group": a.key.group,
                       "kind": a.key.kind, "namespace": a.key.namespace, "name": a.key.name,
                       "message": a.message, "old": a.old, "new": a.new}
                      for a in diff.attention],
    }


__all__ = ["ChartArchives", "ChartDiff", "chart_diffs", "folder_archives", "git_archives",
           "kube_version"]
