"""The vendored KubeSpawner trait list equals what the installed KubeSpawner reports.

The test extra pins the KubeSpawner and JupyterHub of the z2jh 4.4.0 hub image; the list for
that KubeSpawner must be exactly ``KubeSpawner.class_trait_names(config=True)``.
"""

from __future__ import annotations

from importlib.metadata import version

import jupyterhub
from kubespawner import KubeSpawner

from dlaas_gen.chart_lock import VENDORED_CHARTS
from dlaas_gen.config.kubespawner import (
    CHART_KUBESPAWNER,
    trait_file,
    trait_list_text,
    trait_names,
)


def test_vendored_list_equals_the_installed_kubespawner() -> None:
    installed = version("jupyterhub-kubespawner")
    path = trait_file(installed)
    assert path.is_file(), (
        f"no trait list for the installed KubeSpawner {installed}: write {path.name} with "
        "dlaas_gen.config.kubespawner.trait_list_text and add it to CHART_KUBESPAWNER")
    names = set(KubeSpawner.class_trait_names(config=True))
    assert trait_names(installed) == names
    # The file is exactly what the generator writes (header names the JupyterHub used).
    text = path.read_text(encoding="utf-8")
    hub = text.splitlines()[1].split("jupyterhub==")[1].split()[0]
    assert text == trait_list_text(installed, hub, names)
    assert hub.split(".")[:2] == jupyterhub.__version__.split(".")[:2]


def test_the_vendored_chart_ships_the_installed_kubespawner() -> None:
    for chart_version in VENDORED_CHARTS["jupyterhub"]:
        assert CHART_KUBESPAWNER[chart_version] == version("jupyterhub-kubespawner")
