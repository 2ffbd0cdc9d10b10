"""Helm Operator HelmRelease to ``helm.toolkit.fluxcd.io/v2``.

The Helm Operator's kinds are ``helm.fluxcd.io/v1`` and ``flux.weave.works/v1beta1``.

Why: helm-controller adopts an existing Helm release only when release name, target namespace
and storage namespace match what the Helm Operator used; anything else uninstalls and reinstalls
the release. So the release name is always written explicitly, computed with the operator's rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from dlaas_gen.commands.migrate.ctx import DocCtx, cross_namespace_warning
from dlaas_gen.commands.migrate.edit import cmap, delete_key, get_path, insert_key, replace_key
from dlaas_gen.commands.migrate.options_map import map_behaviour
from dlaas_gen.commands.migrate.sources import SourceRef, SourceRegistry, git_url

HO_APIS = ("helm.fluxcd.io/v1", "flux.weave.works/v1beta1")
HELM_V2 = "helm.toolkit.fluxcd.io/v2"
MAX_RELEASE_NAME = 53


def is_helm_operator_release(doc: Any) -> bool:
    """True for a Helm Operator HelmRelease, detected by apiVersion or by a v1-shaped chart.

    Why: half-migrated files carry ``helm.toolkit.fluxcd.io/v2beta1`` with a Helm Operator spec
    (``chart.repository`` or ``chart.git``); only the shape tells them apart.
    """
    if not isinstance(doc, dict) or doc.get("kind") != "HelmRelease":
        return False
    api = str(doc.get("apiVersion", ""))
    if api in HO_APIS:
        return True
    chart = get_path(doc, "spec", "chart")
    return api.startswith("helm.toolkit.fluxcd.io/") and isinstance(chart, dict) and (
        "repository" in chart or "git" in chart
    )


def operator_release_name(name: str, namespace: str | None, target_namespace: str | None = None,
                          release_name: str | None = None) -> str:
    """Return the release name the Helm Operator used (``GetReleaseName``).

    ``<ns>-<name>``, or ``<ns>-<targetNs>-<name>`` when the target namespace differs; an explicit
    ``releaseName`` wins; a missing namespace is ``default``.
    """
    if release_name:
        return release_name
    ns = namespace or "default"
    target = target_namespace or ns
    return f"{ns}-{target}-{name}" if ns != target else f"{target}-{name}"


def controller_default_name(name: str, target_namespace: str | None) -> str:
    """helm-controller v2's default release name ``[<targetNs>-]<name>`` (before hashing)."""
    return f"{target_namespace}-{name}" if target_namespace else name


@dataclass
class HelmOpResult:
    """Outcome of converting one Helm Operator document."""

    migrated: bool
    plan: str
    manual: bool = False
    new_sources: list[SourceRef] = field(default_factory=list)


def _git_chart(spec: CommentedMap, chart: CommentedMap, ctx: DocCtx, ns: str,
               registry: SourceRegistry) -> tuple[str, SourceRef]:
    """A chart from a Git repository: a GitRepository and a chart template that follows it."""
    line_chart = (chart, None)
    url, converted = git_url(str(chart["git"]))
    ref = str(chart.get("ref") or "master")
    if not chart.get("ref"):
        ctx.note("chart.ref unset: assumed branch master (the Helm Operator default)", chart)
    secret = get_path(chart, "secretRef", "name")
    src = registry.git_repository(str(chart["git"]), ref, ns, secret)
    if converted:
        ctx.change("scp-like Git URL written as ssh://host/path (Flux needs ssh://)", chart,
                   "git")
    if url.startswith("ssh://") and not secret:
        ctx.manual("the Helm Operator used its mounted SSH key; Flux needs a Secret", chart,
                   "git", f"flux create secret git {src.name}-auth --url=<spec.url of "
                   f"GitRepository {src.name}> -n {src.namespace}, then set "
                   f"spec.secretRef.name on GitRepository {src.name}")
    elif secret:
        ctx.warn(f"Secret {secret} must hold username/password for GitRepository {src.name}",
                 chart, "secretRef")
    path_ = str(chart.get("path") or ".").strip("/")
    chart_path = path_ if path_.startswith(".") else f"./{path_}"
    new = cmap(("spec", cmap(("chart", chart_path), ("reconcileStrategy", "Revision"),
                             ("sourceRef", _source_ref(src, ns)))))
    ctx.warn("reconcileStrategy: Revision so that commits to the chart still upgrade the "
             "release (the default ChartVersion reacts only to Chart.yaml version bumps)",
             *line_chart)
    if chart.get("skipDepUpdate"):
        ctx.note("chart.skipDepUpdate dropped: source-controller builds dependencies", chart,
                 "skipDepUpdate")
    replace_key(spec, "chart", "chart", new)
    return f"chart {chart_path} from GitRepository {src.name}", src


def _repository_chart(spec: CommentedMap, chart: CommentedMap, ctx: DocCtx, ns: str,
                      registry: SourceRegistry) -> tuple[str, SourceRef]:
    """A chart from a Helm repository (HelmRepository) or an OCI registry (OCIRepository)."""
    line_chart = (chart, None)
    url = str(chart.get("repository", ""))
    raw_name, raw_version = chart.get("name", ""), chart.get("version")
    name, version = str(raw_name), str(raw_version or "")
    secret = get_path(chart, "chartPullSecret", "name")
    if url.startswith("oci://"):
        src = registry.oci_repository(url, name, version, ns, secret)
        replace_key(spec, "chart", "chartRef", _source_ref(src, ns))
        ctx.change(f"OCI chart {name} → OCIRepository {src.name} + spec.chartRef "
                   f"(current Flux's way for OCI charts)", *line_chart)
        plan = f"chartRef OCIRepository {src.name}"
    else:
        src = registry.helm_repository(url, ns, secret)
        tmpl = cmap(("chart", raw_name), ("version", raw_version or None),
                    ("sourceRef", _source_ref(src, ns)))
        _copy_comments(chart, tmpl, {"name": "chart", "version": "version"})
        replace_key(spec, "chart", "chart", cmap(("spec", tmpl)))
        plan = f"chart {name} from HelmRepository {src.name}"
    if secret:
        ctx.warn(f"chartPullSecret {secret}: the Secret must hold username/password keys",
                 chart, "chartPullSecret")
    return plan, src


def _chart_source(spec: CommentedMap, chart: CommentedMap, ctx: DocCtx, ns: str, explicit: bool,
                  registry: SourceRegistry, path: str) -> tuple[str, SourceRef]:
    """Replace ``spec.chart`` by the v2 chart template (or chartRef); return (plan, source)."""
    registry.explicit_ns = explicit
    line_chart = (chart, None)
    if "git" in chart:
        plan, src = _git_chart(spec, chart, ctx, ns, registry)
    else:
        plan, src = _repository_chart(spec, chart, ctx, ns, registry)
    if src.created and not src.defined_in:
        src.defined_in = path
        ctx.change(f"new {src.kind} {src.namespace}/{src.name} appended to this file",
                   *line_chart)
    else:
        where = f", defined in {src.defined_in}" if src.defined_in else ""
        ctx.change(f"uses existing {src.kind} {src.namespace}/{src.name}{where}", *line_chart)
    if src.namespace and src.namespace != ns:
        cross_namespace_warning(ctx, f"{src.kind} {src.namespace}/{src.name}", *line_chart)
    ctx.change(f"spec.chart → {plan}", *line_chart)
    return plan, src


def _copy_comments(old: CommentedMap, new: CommentedMap, names: dict[str, str]) -> None:
    """Carry end-of-line comments of mapped keys over to their new keys."""
    for old_key, new_key in names.items():
        if old_key in old.ca.items and new_key in new:
            new.ca.items[new_key] = old.ca.items[old_key]


def _source_ref(src: SourceRef, ns: str) -> CommentedMap:
    other = src.namespace if src.namespace and src.namespace != ns else None
    return cmap(("kind", src.kind), ("name", src.name), ("namespace", other))


def _map_patch_chart(spec: CommentedMap, chart: CommentedMap, ctx: DocCtx) -> None:
    """Map the chart fields a kustomize patch carries (no source: nothing invented)."""
    tmpl = CommentedMap()
    for old, new in (("name", "chart"), ("version", "version"), ("path", "chart")):
        if old in chart:
            value = chart[old]
            if old == "path":
                value = value if str(value).startswith(".") else f"./{value}"
            tmpl[new] = value
            ctx.change(f"spec.chart.{old} → spec.chart.spec.{new}", chart, old)
            if old in chart.ca.items:
                tmpl.ca.items[new] = chart.ca.items[old]
    for old in chart:
        if old not in ("name", "version", "path"):
            ctx.manual(f"spec.chart.{old} in a patch has no HelmRelease v2 field", chart, old,
                       "change the source object (HelmRepository/GitRepository) instead")
    replace_key(spec, "chart", "chart", cmap(("spec", tmpl)))


def _values_file(chart_dir: str, path: str) -> str:
    """A chart-relative values file path as ``valuesFiles`` wants it (relative to the source)."""
    parts = [p for p in f"{chart_dir}/{path}".split("/") if p not in ("", ".")]
    return "/".join(parts)


def _chart_files(chart_spec: CommentedMap | None, ctx: DocCtx, item: CommentedMap,
                 ref: dict[str, Any], chart_dir: str, first: bool, files: list[str]) -> None:
    """Map one ``chartFileRef`` to ``spec.chart.spec.valuesFiles``.

    Why: the Helm Operator read ``path`` relative to the chart root and merged it like any
    valuesFrom item (fluxcd/helm-operator ``pkg/release/values.go``); source-controller's
    ``valuesFiles`` are relative to the source and replace the chart's values.yaml, which must
    therefore come first (``fluxcd/source-controller: docs/spec/v1/helmcharts.md``).
    """
    path = str(ref.get("path") or "")
    if chart_spec is None:
        ctx.manual("valuesFrom chartFileRef: this release has no spec.chart.spec (an OCI "
                   "chartRef, or a patch), so valuesFiles cannot be set here", item,
                   "chartFileRef", "add the file's values to spec.values, or a ConfigMap in "
                   "valuesFrom")
        return
    if not files:
        files.append(_values_file(chart_dir, "values.yaml"))
    target = _values_file(chart_dir, path)
    if target not in files:
        files.append(target)
    ctx.change(f"valuesFrom chartFileRef {path} → spec.chart.spec.valuesFiles "
               f"(after the chart's values.yaml)", item, "chartFileRef")
    if ref.get("optional"):
        chart_spec["ignoreMissingValuesFiles"] = True
        ctx.change("chartFileRef optional → spec.chart.spec.ignoreMissingValuesFiles: true",
                   item, "chartFileRef")
    if not first:
        ctx.warn("chartFileRef came after other valuesFrom items, which it overrode; "
                 "valuesFiles are chart defaults, so those items now override it", item,
                 "chartFileRef", "move the overlapping keys into spec.values if the file must "
                 "win")


def _map_key_refs(item: CommentedMap, out: CommentedSeq, ctx: DocCtx, ns: str) -> None:
    """Append the v2 entries of one item's ``configMapKeyRef`` and ``secretKeyRef`` to `out`."""
    for key, kind in (("configMapKeyRef", "ConfigMap"), ("secretKeyRef", "Secret")):
        ref = item.get(key)
        if isinstance(ref, dict):
            out.append(cmap(("kind", kind), ("name", ref.get("name")),
                            ("valuesKey", ref.get("key")), ("optional", ref.get("optional"))))
            ctx.change(f"valuesFrom {key} {ref.get('name')} → kind: {kind}", item, key)
            if ref.get("namespace") and ref.get("namespace") != ns:
                ctx.manual(f"valuesFrom {kind} {ref['namespace']}/{ref.get('name')} is in "
                           f"another namespace (no longer supported)", item, key,
                           f"copy {kind} {ref.get('name')} into namespace {ns}")


def _map_values_from(spec: CommentedMap, ctx: DocCtx, ns: str, chart_dir: str,
                     chart_spec: CommentedMap | None) -> None:
    """Map valueFileSecrets and valuesFrom to the v2 valuesFrom list (and valuesFiles)."""
    out = CommentedSeq()
    files: list[str] = []
    anchor = "valuesFrom" if "valuesFrom" in spec else "valueFileSecrets"
    for item in spec.get("valueFileSecrets") or []:
        out.append(cmap(("kind", "Secret"), ("name", item.get("name"))))
        ctx.change(f"valueFileSecrets {item.get('name')} → valuesFrom Secret (placed first)",
                   spec, "valueFileSecrets")
    for item in spec.get("valuesFrom") or []:
        if not isinstance(item, CommentedMap):
            continue
        _map_key_refs(item, out, ctx, ns)
        ref = item.get("chartFileRef")
        if isinstance(ref, dict):
            _chart_files(chart_spec, ctx, item, ref, chart_dir, not out and not files, files)
    if files and chart_spec is not None:
        chart_spec["valuesFiles"] = CommentedSeq(files)
    if "valueFileSecrets" in spec and anchor != "valueFileSecrets":
        delete_key(spec, "valueFileSecrets")
    if out:
        replace_key(spec, anchor, "valuesFrom", out)
    elif anchor in spec:
        delete_key(spec, anchor)


def blockers(doc: Any, options: Any, is_patch: bool) -> list[tuple[str, Any, Any, str, str]]:
    """Reasons a Helm Operator release (or patch) must stay on its apiVersion for now.

    Returns:
        ``(message, node, key, suggestion, short reason)`` per reason; empty when it can be
        converted.
    """
    raw_spec, raw_chart = doc.get("spec"), get_path(doc, "spec", "chart")
    spec: dict[str, Any] = raw_spec if isinstance(raw_spec, dict) else {}
    chart: dict[str, Any] = raw_chart if isinstance(raw_chart, dict) else {}
    out = []
    if not is_patch:
        version = spec.get("helmVersion")
        if version == "v2" or (version is None and not options.assume_helm3):
            why = "helmVersion: v2" if version == "v2" else (
                "helmVersion unset (the operator default --enabled-helm-versions=v2,v3 picked "
                "Helm 2)")
            out.append((f"{why}: helm-controller cannot adopt a Helm 2 release",
                        spec if version else doc, "helmVersion" if version else "kind",
                        "convert the release with helm-2to3, then set helmVersion: v3 (or pass "
                        "--assume-helm3) and run migrate again", "Helm 2"))
        if "git" in chart and not chart.get("path"):
            # Why: the operator skipped a git chart without path (fluxcd/helm-operator
            # pkg/chartsync/git.go, forHelmRelease), and chart.name means nothing for git.
            named = " (chart.name is ignored for a git chart)" if "name" in chart else ""
            out.append((f"chart.git without chart.path{named}: the chart folder is unknown",
                        chart, "name" if "name" in chart else "git",
                        "set spec.chart.path to the chart's folder in the repository, then run "
                        "migrate again", "git chart without path"))
    for item in spec.get("valuesFrom") or []:
        if isinstance(item, dict) and isinstance(item.get("externalSourceRef"), dict):
            out.append(("valuesFrom externalSourceRef has no helm-controller equivalent: the "
                        "release would lose those values", item, "externalSourceRef",
                        "fetch the file into a ConfigMap (committed, or by a CronJob), replace "
                        "the item by configMapKeyRef, then run migrate again",
                        "externalSourceRef"))
    return out


def _release_names(doc: CommentedMap, spec: CommentedMap, ctx: DocCtx, ns: str,
                   name: str) -> None:
    """Write the release name (and storage namespace) the Helm Operator used.

    Why: helm-controller adopts the existing Helm release only when both match.
    """
    target = spec.get("targetNamespace")
    release = operator_release_name(name, ns, target, spec.get("releaseName"))
    if spec.get("releaseName"):
        ctx.note(f"releaseName {release} kept", spec, "releaseName")
    else:
        if "releaseName" in spec:
            delete_key(spec, "releaseName")
        insert_key(spec, "releaseName", release, after="interval")
        ctx.change(f"releaseName: {release} (the Helm Operator's name; helm-controller "
                   f"would default to {controller_default_name(name, target)})", doc, "spec")
    if len(release) > MAX_RELEASE_NAME:
        ctx.error(f"release name {release} is longer than {MAX_RELEASE_NAME} characters")
    if target and target != ns and "storageNamespace" not in spec:
        insert_key(spec, "storageNamespace", target, after="targetNamespace")
        ctx.change(f"storageNamespace: {target} (where the Helm Operator stored the release)",
                   spec, "targetNamespace")


def _migrate_patch(doc: CommentedMap, spec: CommentedMap, chart: Any, ctx: DocCtx,
                   ns: str) -> str:
    """Map the fields of a partial HelmRelease (a kustomize patch); return the plan."""
    ctx.note("partial HelmRelease (kustomize patch): fields mapped, no chart or source added",
             doc, "kind")
    if isinstance(chart, CommentedMap):
        _map_patch_chart(spec, chart, ctx)
    if "valuesFrom" in spec or "valueFileSecrets" in spec:
        _map_values_from(spec, ctx, ns, "", None)
    return "patch: fields mapped"


def _migrate_release(doc: CommentedMap, spec: CommentedMap, chart: CommentedMap, ctx: DocCtx,
                     ns: str, explicit_ns: bool, registry: SourceRegistry, path: str,
                     sources: list[SourceRef]) -> str:
    """Convert a full release: its chart source, interval, names and values; return the plan.

    A source object created for it (and defined in this file) is appended to `sources`.
    """
    name = str(get_path(doc, "metadata", "name") or "")
    chart_dir = str(chart.get("path", "")) if "git" in chart else ""
    plan, src = _chart_source(spec, chart, ctx, ns, explicit_ns, registry, path)
    if src.created and src.doc is not None and src.defined_in == path and not src.placed:
        src.placed = True
        sources.append(src)
    if "interval" not in spec:
        insert_key(spec, "interval", ctx.options.interval, before=next(iter(spec)))
        ctx.change(f"spec.interval: {ctx.options.interval} added (required)", doc, "spec")
    _release_names(doc, spec, ctx, ns, name)
    _map_values_from(spec, ctx, ns, chart_dir, get_path(spec, "chart", "spec"))
    # Why: on a failed install the operator ran an uninstall so that the next sync
    # installed afresh (fluxcd/helm-operator pkg/release/release.go, InstallAction ->
    # UninstallAction); helm-controller v2 remediates a failed install only when
    # install.remediation.retries is set (fluxcd/helm-controller api/v2
    # helmrelease_types.go, InstallRemediation).
    ctx.note("the Helm Operator uninstalled a failed install and retried it; helm-controller "
             "leaves a failed install as it is", doc, "spec",
             "set spec.install.remediation.retries (e.g. 3) to retry with an uninstall in "
             "between")
    return plan


def migrate_helm_operator(doc: CommentedMap, ctx: DocCtx, ns: str, explicit_ns: bool,
                          registry: SourceRegistry, path: str, *, is_patch: bool
                          ) -> HelmOpResult:
    """Convert one Helm Operator HelmRelease (or a partial patch of one) in place.

    A release with a blocker (`blockers`) is left unchanged and reported as a manual step.
    """
    spec = doc.get("spec")
    if not isinstance(spec, CommentedMap):
        spec = CommentedMap()
    chart = spec.get("chart")
    old_api = str(doc.get("apiVersion"))
    reasons = blockers(doc, ctx.options, is_patch)
    for message, node, key, suggestion, _short in reasons:
        ctx.manual(f"{message}; left on {old_api}", node, key, suggestion)
    if reasons:
        return HelmOpResult(False, f"manual: {', '.join(r[4] for r in reasons)}", manual=True)
    doc["apiVersion"] = HELM_V2
    ctx.change(f"apiVersion {old_api} → {HELM_V2}", doc, "apiVersion")
    if "helmVersion" in spec:
        ctx.change("removed helmVersion (helm-controller is Helm 3+)", spec, "helmVersion")
        delete_key(spec, "helmVersion")
    elif not is_patch:
        ctx.warn("helmVersion unset: assumed Helm 3 (--assume-helm3)", doc, "spec")
    sources: list[SourceRef] = []
    if is_patch:
        plan = _migrate_patch(doc, spec, chart, ctx, ns)
    else:
        # A full release has a spec.chart mapping with a repository or git (the converter
        # treats any other HelmRelease as a patch).
        assert isinstance(chart, CommentedMap), "a full Helm Operator release has spec.chart"
        plan = _migrate_release(doc, spec, chart, ctx, ns, explicit_ns, registry, path, sources)
    map_behaviour(spec, ctx, full=not is_patch)
    if "status" in doc:
        ctx.change("removed status", doc, "status")
        delete_key(doc, "status")
    return HelmOpResult(True, plan, new_sources=sources)
