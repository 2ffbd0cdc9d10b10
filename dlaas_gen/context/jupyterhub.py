"""Context of the z2jh HelmRelease: inline values, valuesFrom, profiles ConfigMap.

The values come from every component (`dlaas_gen.context.hub_values.HubValues`); this module
turns them into the hub's objects.
"""

from __future__ import annotations

import copy
import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dlaas_gen import yamlio
from dlaas_gen.chart_lock import (
    CHART,
    VENDORED_CHARTS,
    ChartLockError,
    charts_dir_for,
    load_chart,
)
from dlaas_gen.config import SiteConfig
from dlaas_gen.config.site import ProfileConfig
from dlaas_gen.context.common import common_labels, resources_values, secret_ref_entry
from dlaas_gen.context.hub_values import HubValues, deep_contribute
from dlaas_gen.context.images import BuiltImage, image_name_tag, image_ref
from dlaas_gen.context.model import ObjectSpec, SiteContext
from dlaas_gen.helmvalues import merge_maps

PROFILES_KEY = "values.yaml"
WATCH_LABEL = "reconcile.fluxcd.io/watch"
#: Objects with this annotation set to ``disabled`` are never garbage-collected by Flux.
PRUNE_ANNOTATION = "kustomize.toolkit.fluxcd.io/prune"


def base_values(site: SiteConfig, images: Mapping[str, BuiltImage] | None = None) -> HubValues:
    """The values every site gets, before data-lake components contribute.

    `images` are the site's built images (`build_images`), whose tags the image references use.
    """
    hv = HubValues()
    su = site.singleuser
    name, tag = image_name_tag(su.image, images or {})
    singleuser: dict[str, Any] = {
        "image": {"name": name, "tag": tag},
        "defaultUrl": su.default_url,
        "startTimeout": su.start_timeout,
        **resources_values(su.cpu, su.memory),
    }
    if su.node_selector:
        singleuser["nodeSelector"] = dict(su.node_selector)
    if su.tolerations:
        singleuser["extraTolerations"] = [
            t.model_dump(exclude_none=True) for t in su.tolerations
        ]
    storage = site.storage
    if storage.type == "dynamic":
        dyn: dict[str, Any] = {}
        if storage.storage_class:
            dyn["storageClass"] = storage.storage_class
        singleuser["storage"] = {"type": "dynamic", "capacity": str(storage.capacity)}
        if dyn:
            singleuser["storage"]["dynamic"] = dyn
    else:
        singleuser["storage"] = {
            "type": "static",
            "static": {"pvcName": storage.pvc_name, "subPath": storage.sub_path},
        }
        if storage.slug_scheme:
            hv.add({"hub": {"config": {"KubeSpawner": {"slug_scheme": storage.slug_scheme}}}})
    hv.add({"singleuser": singleuser})

    db = site.hub.db
    if db.type == "sqlite-pvc":
        pvc: dict[str, Any] = {"storage": str(db.capacity)}
        if db.storage_class:
            pvc["storageClassName"] = db.storage_class
        hv.add({"hub": {"db": {"type": "sqlite-pvc", "pvc": pvc}}})
    else:
        hv.add({"hub": {"db": {"type": db.dialect}}})
        hv.add_secret(db.url, "hub.db.url", "hub database URL")

    if site.ingress is not None:
        ing = site.ingress
        ingress: dict[str, Any] = {
            "enabled": True,
            "ingressClassName": ing.class_name,
            "hosts": [ing.host],
            "tls": [{"hosts": [ing.host], "secretName": ing.tls_secret}],
        }
        if ing.cluster_issuer:
            ingress["annotations"] = {"cert-manager.io/cluster-issuer": ing.cluster_issuer}
        hv.add({"ingress": ingress, "proxy": {"service": {"type": "ClusterIP"}}})
    return hv


def profile_entry(
    profile: ProfileConfig, base_tolerations: list[dict[str, Any]] | None = None,
    extra: dict[str, Any] | None = None, images: Mapping[str, BuiltImage] | None = None,
) -> dict[str, Any]:
    """One ``singleuser.profileList`` item as KubeSpawner reads it.

    Why `base_tolerations`: KubeSpawner merges a dict override into the configured dict
    (``node_selector``, ``environment``, ``extra_resource_*`` add to the site's) but replaces
    a list (``KubeSpawner._apply_overrides``), and the chart configures ``tolerations`` as
    ``scheduling.userPods.tolerations`` + ``singleuser.extraTolerations``
    (``jupyterhub/files/hub/jupyterhub_config.py`` in z2jh 4.4.0). A profile's tolerations
    are therefore written as that list plus its own, so the pod keeps tolerating the
    dedicated user nodes.
    """
    entry: dict[str, Any] = {
        "display_name": profile.display_name,
        "slug": profile.slug,
        "description": profile.description,
    }
    if profile.default:
        entry["default"] = True
    override: dict[str, Any] = {}
    if profile.image is not None:
        override["image"] = image_ref(profile.image, images or {})
    res = resources_values(profile.cpu, profile.memory)
    for kind, block in res.items():
        prefix = "cpu" if kind == "cpu" else "mem"
        for bound, value in block.items():
            override[f"{prefix}_{bound}"] = value
    if profile.image_pull_policy is not None:
        override["image_pull_policy"] = profile.image_pull_policy
    if profile.node_selector:
        override["node_selector"] = dict(profile.node_selector)
    if profile.tolerations:
        tolerations = [dict(t) for t in base_tolerations or []]
        for toleration in profile.tolerations:
            item = toleration.model_dump(exclude_none=True)
            if item not in tolerations:
                tolerations.append(item)
        override["tolerations"] = tolerations
    for name in ("extra_resource_limits", "extra_resource_guarantees"):
        amounts = getattr(profile, name)
        if amounts:
            override[name] = {key: str(value) for key, value in amounts.items()}
    if profile.env:
        override["environment"] = dict(profile.env)
    # The escape hatch: its keys are checked against KubeSpawner's traits when the site loads
    # (`dlaas_gen.config.checks.profiles`), and may not repeat a key set above.
    for key, value in profile.kubespawner_override.items():
        override[key] = copy.deepcopy(value)
    if extra:
        deep_contribute(override, extra)
    if override:
        entry["kubespawner_override"] = override
    return entry


def pinned_chart_defaults(site: SiteConfig, sites_dir: Path | None) -> dict[str, Any]:
    """The pinned chart version's defaults from its lock beside `sites_dir`, else the vendored.

    Why a fallback: commands that only list what a site needs (``secrets``, the field reference)
    build the context without checking the lock; ``render`` checks it first (pipeline).
    """
    charts_dir = charts_dir_for(sites_dir) if sites_dir is not None else None
    for version in (site.chart.version, *VENDORED_CHARTS[CHART]):
        try:
            return load_chart(CHART, version, charts_dir).defaults
        except ChartLockError:
            continue
    return {}


def user_pod_tolerations(values: dict[str, Any], chart_defaults: dict[str, Any]) -> list[dict[str, Any]]:
    """The tolerations the chart gives every user pod: the scheduling ones, then the site's.

    `values` are the release's inline values (``extra_values`` included); a value the site does
    not set comes from the chart's defaults, as Helm coalesces them.
    """
    scheduling = (values.get("scheduling") or {}).get("userPods") or {}
    if "tolerations" in scheduling:
        common = scheduling.get("tolerations") or []
    else:
        defaults = (chart_defaults.get("scheduling") or {}).get("userPods") or {}
        common = defaults.get("tolerations") or []
    extra = (values.get("singleuser") or {}).get("extraTolerations") or []
    return [copy.deepcopy(t) for t in [*common, *extra] if isinstance(t, dict)]


def add_jupyterhub(ctx: SiteContext, site_name: str, site: SiteConfig, hv: HubValues,
                   chart_defaults: dict[str, Any] | None = None) -> None:
    """Add the Namespace, HelmRepository, profiles ConfigMap and HelmRelease of the hub.

    `chart_defaults` are the pinned chart version's ``values.yaml`` (for the user-pod
    tolerations a profile's own tolerations extend).
    """
    ns = site.namespace
    chart = site.chart
    labels = common_labels(site_name, "jupyterhub")
    # Why the annotation: deleting the hub Namespace deletes every user's home PVC; Flux's
    # garbage collection skips objects annotated kustomize.toolkit.fluxcd.io/prune: disabled
    # (fluxcd/kustomize-controller docs/spec/v1/kustomizations.md, "Prune"), so renaming the
    # namespace or removing the site never deletes it (retiring a site is a deliberate step).
    ctx.add(ObjectSpec("core/namespace.yaml.j2", "apps", "Namespace", ns,
                       {"name": ns, "labels": {**labels, **hub_namespace_labels(hv)},
                        "annotations": {PRUNE_ANNOTATION: "disabled"}}))
    ctx.add(ObjectSpec(
        "jupyterhub/helmrepository.yaml.j2", "apps", "HelmRepository", chart.repo_name,
        {"name": chart.repo_name, "namespace": ns, "labels": labels,
         "interval": chart.interval, "url": chart.repo_url},
    ))
    values_from: list[dict[str, Any]] = []
    if site.profiles:
        cm_name = f"{chart.release_name}-profiles"
        base = user_pod_tolerations(merge_maps(hv.inline, site.extra_values), chart_defaults or {})
        profiles = [profile_entry(p, base, hv.profile_extra.get(p.slug), ctx.images)
                    for p in site.profiles]
        document = yamlio.dump_doc({"singleuser": {"profileList": profiles}})
        ctx.add(ObjectSpec(
            "jupyterhub/configmap-profiles.yaml.j2", "apps", "ConfigMap", cm_name,
            {"name": cm_name, "namespace": ns, "labels": {**labels, WATCH_LABEL: "Enabled"},
             "data": {PROFILES_KEY: document}},
        ))
        values_from.append({"kind": "ConfigMap", "name": cm_name, "valuesKey": PROFILES_KEY})
    for secret in hv.secrets:
        values_from.append({
            "kind": "Secret", "name": secret.ref.name, "valuesKey": secret.ref.key,
            "targetPath": secret.target_path, "literal": True,
        })
        ctx.secrets.append(secret_ref_entry(ns, secret.ref.name, secret.ref.key,
                                            f"HelmRelease valuesFrom -> {secret.target_path}",
                                            secret.purpose))
    script = post_start_script(hv)
    if script:
        hv.add({"singleuser": {"lifecycleHooks": {"postStart": {"exec": {
            "command": ["/bin/sh", "-c", script]}}}}})
    inline = merge_maps(hv.inline, site.extra_values)
    ctx.add(ObjectSpec(
        "jupyterhub/helmrelease.yaml.j2", "apps", "HelmRelease", chart.release_name,
        {"name": chart.release_name, "namespace": ns, "labels": labels,
         "interval": chart.interval, "timeout": chart.timeout,
         "release_name": chart.release_name, "chart": "jupyterhub", "version": chart.version,
         "repo_name": chart.repo_name, "values_from": values_from, "values": inline},
    ))


def post_start_script(hv: HubValues) -> str:
    """The one postStart script of the user container: the token renewer first, then the rest.

    Why the folders go to the renewer: on EOS with OIDC a folder can only be created once the
    token file exists, and eosxd keeps the identity it first bound to a process; the renewer
    writes the files, then creates each folder in a fresh process, retrying and logging
    (``token_renewer.py --mkdir``). Why no ``|| true``: every step must exit 0 by itself (the
    renewer does), because a failing postStart hook kills the container, and ``|| true`` hid
    the failure of ``mkdir -p "$SCRATCH"`` before (rule ``poststart-scratch-after-tokens``).
    """
    steps: list[str] = []
    if hv.renewer:
        steps.append(" ".join([shlex.join(hv.renewer), *(f'--mkdir "${var}"' for var in hv.token_dirs)]))
    else:
        # No token files to wait for: nothing but the folders' own failure can stop them.
        steps.extend(f'mkdir -p "${var}"' for var in hv.token_dirs)
    steps.extend(hv.post_start)
    return "; ".join(steps)


def hub_namespace_labels(hv: HubValues) -> dict[str, str]:
    """Pod Security Admission labels of the hub namespace.

    Why: user pods that mount hostPath volumes (EOS FUSE, scratch) are not allowed under the
    ``baseline`` level; the lowest level that admits them is ``privileged``.
    """
    volumes = hv.inline.get("singleuser", {}).get("storage", {}).get("extraVolumes", [])
    level = "privileged" if any("hostPath" in v for v in volumes) else "baseline"
    return {
        "pod-security.kubernetes.io/enforce": level,
        "pod-security.kubernetes.io/warn": level,
    }
