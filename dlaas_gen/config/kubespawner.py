"""Which KubeSpawner a z2jh chart version ships, and that KubeSpawner's configurable traits.

Why: a profile's ``kubespawner_override`` is applied by KubeSpawner with ``setattr`` for every
key (``KubeSpawner._apply_overrides`` in jupyterhub/kubespawner ``kubespawner/spawner.py``), so
a misspelt key such as ``node_selecter`` becomes a plain attribute nobody reads and the pod
silently lacks the setting. The keys are checked against the real trait names instead: one
list per KubeSpawner version, made with ``KubeSpawner.class_trait_names(config=True)`` in a
virtualenv holding that KubeSpawner and the JupyterHub of the same hub image (the traits
inherited from ``jupyterhub.spawner.Spawner`` count too). The table below was read from
``images/hub/requirements.txt`` of jupyterhub/zero-to-jupyterhub-k8s at each release tag.
"""

from __future__ import annotations

import functools
from pathlib import Path

#: z2jh chart version → ``jupyterhub-kubespawner`` pinned by its hub image
#: (``images/hub/requirements.txt`` at the chart's git tag).
CHART_KUBESPAWNER: dict[str, str] = {
    "2.0.0": "4.2.0",
    "3.0.0": "6.0.0", "3.0.1": "6.0.0", "3.0.2": "6.0.0", "3.0.3": "6.0.0",
    "3.1.0": "6.1.0",
    "3.2.0": "6.2.0", "3.2.1": "6.2.0",
    "3.3.0": "6.2.0", "3.3.1": "6.2.0", "3.3.2": "6.2.0", "3.3.3": "6.2.0", "3.3.4": "6.2.0",
    "3.3.5": "6.2.0", "3.3.6": "6.2.0", "3.3.7": "6.2.0", "3.3.8": "6.2.0",
    "4.0.0": "7.0.0", "4.1.0": "7.0.0", "4.2.0": "7.0.0",
    "4.3.0": "7.0.0", "4.3.1": "7.0.0", "4.3.2": "7.0.0", "4.3.3": "7.0.0", "4.3.4": "7.0.0",
    "4.3.5": "7.0.0",
    "4.4.0": "7.0.0",
}
#: The KubeSpawner whose traits are used for a chart version missing from the table.
NEWEST_KUBESPAWNER = "7.0.0"
#: Trait lists, ``kubespawner-<version>.txt`` (one name a line, ``#`` comment lines).
TRAITS_DIR = Path(__file__).resolve().parent.parent / "data" / "kubespawner"


def kubespawner_for(chart_version: str) -> str | None:
    """The KubeSpawner version the chart's hub image ships, None when not in the table."""
    return CHART_KUBESPAWNER.get(chart_version)


def trait_file(kubespawner_version: str) -> Path:
    """The vendored trait list of one KubeSpawner version."""
    return TRAITS_DIR / f"kubespawner-{kubespawner_version}.txt"


@functools.lru_cache(maxsize=8)
def trait_names(kubespawner_version: str) -> frozenset[str]:
    """The configurable trait names of one KubeSpawner version (from the vendored list)."""
    text = trait_file(kubespawner_version).read_text(encoding="utf-8")
    return frozenset(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


def trait_list_text(kubespawner_version: str, jupyterhub_version: str, names: set[str]) -> str:
    """The content of a trait list file (how each vendored list was written)."""
    header = (
        f"# KubeSpawner {kubespawner_version} configurable traits: "
        "KubeSpawner.class_trait_names(config=True)\n"
        f"# with jupyterhub-kubespawner=={kubespawner_version} and "
        f"jupyterhub=={jupyterhub_version} (the hub image's pins)\n"
    )
    return header + "".join(f"{name}\n" for name in sorted(names))
