"""Context of the z2jh HelmRelease: inline values, valuesFrom, profiles ConfigMap.

The values come from every component (`dlaas_gen.context.hub_values.HubValues`); this module
turns them into the hub's objects.
"""

from __future__ import annotations

import copy
import shlex
from collections.abc import Mapping
from typing import Any

from dlaas_gen import yamlio
from dlaas_gen.config.site import ProfileConfig
from dlaas_gen.context.common import common_labels, resources_values
from dlaas_gen.context.hub_values import HubValues, deep_contribute
from dlaas_gen.context.images import image_ref
from dlaas_gen.context.model import NAMESPACE_SECTION, BuiltImage, SiteContext, SiteInput
from dlaas_gen.context.template_vars import (
    ConfigMapVars,
    HelmReleaseVars,
    HelmRepositoryVars,
    NamespaceVars,
)
from dlaas_gen.helmvalues import merge_maps

#: The site-file sections of the objects below: the release is the chart's (its values map
#: to their own sections, `dlaas_gen.origin`), the profiles ConfigMap the profiles'.
SECTION = ("chart",)
PROFILES_SECTION = ("profiles",)
PROFILES_KEY = "values.yaml"
WATCH_LABEL = "reconcile.fluxcd.io/watch"
#: Objects with this annotation set to ``disabled`` are never garbage-collected by Flux.
PRUNE_ANNOTATION = "kustomize.toolkit.fluxcd.io/prune"


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
    override = _profile_override(profile, base_tolerations or [], images or {})
    if extra:
        deep_contribute(override, extra)
    if override:
        entry["kubespawner_override"] = override
    return entry


def _profile_override(profile: ProfileConfig, base_tolerations: list[dict[str, Any]],
                      images: Mapping[str, BuiltImage]) -> dict[str, Any]:
    """The profile's ``kubespawner_override`` from its own fields (before other components')."""
    override: dict[str, Any] = {}
    if profile.image is not None:
        override["image"] = image_ref(profile.image, images)
    for kind, block in resources_values(profile.cpu, profile.memory).items():
        prefix = "cpu" if kind == "cpu" else "mem"
        override.update({f"{prefix}_{bound}": value for bound, value in block.items()})
    if profile.image_pull_policy is not None:
        override["image_pull_policy"] = profile.image_pull_policy
    if profile.node_selector:
        override["node_selector"] = dict(profile.node_selector)
    if profile.tolerations:
        override["tolerations"] = _with_tolerations(base_tolerations, profile)
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
    return override


def _with_tolerations(base: list[dict[str, Any]], profile: ProfileConfig) -> list[dict[str, Any]]:
    """`base`, then each toleration of the profile that is not in it yet."""
    tolerations = [dict(t) for t in base]
    for toleration in profile.tolerations:
        item = toleration.model_dump(exclude_none=True)
        if item not in tolerations:
            tolerations.append(item)
    return tolerations


def user_pod_tolerations(values: Mapping[str, Any],
                         chart_defaults: Mapping[str, Any]) -> list[dict[str, Any]]:
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


def contribute(site: SiteInput, out: SiteContext) -> None:
    """Add the Namespace, HelmRepository, profiles ConfigMap and HelmRelease of the hub.

    Runs after every component that contributes hub values. The pinned chart version's
    defaults (`SiteInput.chart_defaults`) give the user-pod tolerations a profile's own
    tolerations extend.
    """
    config, hv = site.config, out.hub
    ns = config.namespace
    chart = config.chart
    labels = common_labels(site.name, "jupyterhub")
    # Why the annotation: deleting the hub Namespace deletes every user's home PVC; Flux's
    # garbage collection skips objects annotated kustomize.toolkit.fluxcd.io/prune: disabled
    # (fluxcd/kustomize-controller docs/spec/v1/kustomizations.md, "Prune"), so renaming the
    # namespace or removing the site never deletes it (retiring a site is a deliberate step).
    out.add("apps", NAMESPACE_SECTION, NamespaceVars(
        name=ns, labels={**labels, **hub_namespace_labels(hv)},
        annotations={PRUNE_ANNOTATION: "disabled"}))
    out.add("apps", SECTION, HelmRepositoryVars(
        name=chart.repo_name, namespace=ns, labels=labels, interval=chart.interval,
        url=chart.repo_url))
    values_from: list[dict[str, Any]] = []
    if config.profiles:
        # Environment profiles: the only place singleuser.profileList is defined (Helm replaces
        # lists), so the release reads them from this ConfigMap.
        cm_name = f"{chart.release_name}-profiles"
        base = user_pod_tolerations(merge_maps(hv.inline, config.extra_values),
                                    site.chart_defaults or {})
        profiles = [profile_entry(p, base, hv.profile_extra.get(p.slug), out.images)
                    for p in config.profiles]
        document = yamlio.dump_doc({"singleuser": {"profileList": profiles}})
        out.add("apps", PROFILES_SECTION, ConfigMapVars(
            name=cm_name, namespace=ns, labels={**labels, WATCH_LABEL: "Enabled"},
            data={PROFILES_KEY: document}))
        values_from.append({"kind": "ConfigMap", "name": cm_name, "valuesKey": PROFILES_KEY})
    for secret in hv.secrets:
        values_from.append({
            "kind": "Secret", "name": secret.ref.name, "valuesKey": secret.ref.key,
            "targetPath": secret.target_path, "literal": True,
        })
        out.add_secret(ns, secret.ref.name, secret.ref.key,
                       f"HelmRelease valuesFrom -> {secret.target_path}", secret.purpose)
    script = post_start_script(hv)
    if script:
        hv.add({"singleuser": {"lifecycleHooks": {"postStart": {"exec": {
            "command": ["/bin/sh", "-c", script]}}}}})
    out.add("apps", SECTION, HelmReleaseVars(
        name=chart.release_name, namespace=ns, labels=labels,
        interval=chart.interval, timeout=chart.timeout,
        release_name=chart.release_name, chart="jupyterhub", version=chart.version,
        repo_name=chart.repo_name, values_from=values_from,
        values=merge_maps(hv.inline, config.extra_values),
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
        folders = (f'--mkdir "${var}"' for var in hv.token_dirs)
        steps.append(" ".join([shlex.join(hv.renewer), *folders]))
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
