"""Checks of ``profiles[]``: one default, unique names, override keys, extended resources.

Why: KubeSpawner sets every ``kubespawner_override`` key with ``setattr`` without checking it
is a trait (``KubeSpawner._apply_overrides``, jupyterhub/kubespawner 7.0.0), so a typo passes
the hub silently; the keys are checked here against the traits of the KubeSpawner that the
pinned chart version ships (`dlaas_gen.config.kubespawner`).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator

from dlaas_gen.config.checks.finding import Finding
from dlaas_gen.config.kubespawner import NEWEST_KUBESPAWNER, kubespawner_for, trait_names
from dlaas_gen.config.site import SiteConfig

#: Profile field → the KubeSpawner traits it sets (the override may not set them again).
FIELD_TRAITS: dict[str, tuple[str, ...]] = {
    "image": ("image",),
    "cpu": ("cpu_limit", "cpu_guarantee"),
    "memory": ("mem_limit", "mem_guarantee"),
    "node_selector": ("node_selector",),
    "tolerations": ("tolerations",),
    "extra_resource_limits": ("extra_resource_limits",),
    "extra_resource_guarantees": ("extra_resource_guarantees",),
    "env": ("environment",),
    "image_pull_policy": ("image_pull_policy",),
}
TRAIT_FIELD = {trait: name for name, traits in FIELD_TRAITS.items() for trait in traits}
#: Resource names Kubernetes lets a request differ from the limit (all others are extended).
OVERCOMMITTABLE = ("cpu", "memory", "ephemeral-storage", "hugepages-")


def check_profiles(site: SiteConfig) -> Iterator[Finding]:
    """At most one default profile; slugs and display names are unique."""
    first_default: int | None = None
    for index, profile in enumerate(site.profiles):
        if profile.default:
            if first_default is not None:
                yield (
                    ("profiles", index, "default"),
                    "error",
                    f"profile {profile.slug!r} is a second default (first: "
                    f"{site.profiles[first_default].slug!r}); at most one profile may be default",
                )
            else:
                first_default = index
    for attr in ("slug", "display_name"):
        seen: dict[str, int] = {}
        for index, profile in enumerate(site.profiles):
            value = getattr(profile, attr)
            if value in seen:
                yield (
                    ("profiles", index, attr),
                    "error",
                    f"profile {attr} {value!r} is already used by profile #{seen[value] + 1}",
                )
            else:
                seen[value] = index


def check_kubespawner_override(site: SiteConfig) -> Iterator[Finding]:
    """Every ``kubespawner_override`` key is a trait of the chart's KubeSpawner."""
    users = [i for i, p in enumerate(site.profiles) if p.kubespawner_override]
    if not users:
        return
    version = site.chart.version
    kubespawner = kubespawner_for(version)
    known = kubespawner is not None
    if not known:
        kubespawner = NEWEST_KUBESPAWNER
        yield (("chart", "version"), "warning",
               f"chart {version} is not in dlaas-gen's table of z2jh versions and the KubeSpawner "
               f"their hub image ships; kubespawner_override keys are checked against KubeSpawner "
               f"{kubespawner} and unknown ones are only warnings")
    traits = trait_names(kubespawner)
    level = "error" if known else "warning"
    for index in users:
        for key in site.profiles[index].kubespawner_override:
            loc = ("profiles", index, "kubespawner_override", key)
            if key in TRAIT_FIELD:
                yield (loc, "error", f"{key!r} has its own profile field: use "
                       f"profiles[{index}].{TRAIT_FIELD[key]} instead of kubespawner_override")
                continue
            if key in traits:
                continue
            where = f"KubeSpawner {kubespawner}" + (f" (chart {version})" if known else "")
            hint = difflib.get_close_matches(key, sorted(traits), n=1)
            if hint and hint[0] in TRAIT_FIELD:
                extra = f"; did you mean the profile field {TRAIT_FIELD[hint[0]]!r}?"
            elif hint:
                extra = f"; did you mean {hint[0]!r}?"
            else:
                extra = ""
            yield (loc, level, f"{key!r} is not a configurable trait of {where}; KubeSpawner "
                   f"would set it as a plain attribute and ignore it{extra}")


def check_extended_resources(site: SiteConfig) -> Iterator[Finding]:
    """An extended resource's guarantee equals its limit.

    Why: the API server rejects a pod whose extended-resource request differs from its limit.
    """
    for index, profile in enumerate(site.profiles):
        for name, guarantee in profile.extra_resource_guarantees.items():
            limit = profile.extra_resource_limits.get(name)
            if name.startswith(OVERCOMMITTABLE):
                continue
            if limit is None:
                yield (("profiles", index, "extra_resource_guarantees", name), "error",
                       f"extended resource {name} needs a limit equal to its guarantee: add "
                       f"extra_resource_limits.{name}: \"{guarantee}\"")
            elif str(limit) != str(guarantee):
                yield (("profiles", index, "extra_resource_guarantees", name), "error",
                       f"extended resource {name}: guarantee {guarantee} must equal the limit "
                       f"{limit} (Kubernetes does not overcommit extended resources)")
