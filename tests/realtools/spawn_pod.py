"""The single-user pod as the real KubeSpawner builds it from the chart's hub config, offline.

Shared by the real-tool tests (``test_real_tools.py``) and the live tier (``tests/live``), so the
pod a live test runs is exactly the pod the spawner would submit.

Why offline: ``KubeSpawner.get_pod_manifest()`` needs no API server; a dummy kubeconfig and every
API entry point made to raise prove that nothing is contacted.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from unittest import mock

from kubernetes_asyncio.client import ApiClient
from kubernetes_asyncio.config import kube_config
from kubespawner import KubeSpawner
from traitlets.config import Config

from tests.realtools.z2jh_chart import chart_config

USER = "alice"

KUBECONFIG = """apiVersion: v1
kind: Config
clusters: [{name: none, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: none, user: {token: not-a-token}}]
contexts: [{name: none, context: {cluster: none, user: none, namespace: default}}]
current-context: none
"""


@contextlib.contextmanager
def offline_kube(workdir: Path) -> Iterator[SimpleNamespace]:
    """A dummy kubeconfig, `workdir` on ``sys.path``, and every API entry point made to fail.

    Yields ``calls`` (attempted API calls; callers assert it stays empty) and ``module_dir``
    (where ``hub.extraFiles`` modules are written).
    """
    path = workdir / "kubeconfig"
    path.write_text(KUBECONFIG)
    calls: list[str] = []

    async def no_api(self, *args, **_kwargs):
        calls.append(f"{type(self).__name__}: {args[:2]}")
        raise AssertionError(f"Kubernetes API call attempted: {args[:2]}")

    async def no_reflector(_self, kind, *_args, **_kwargs):
        calls.append(f"reflector {kind}")
        raise AssertionError(f"reflector for {kind} started")

    env = {k: v for k, v in os.environ.items() if k != "KUBERNETES_SERVICE_HOST"}
    env["KUBECONFIG"] = str(path)
    with contextlib.ExitStack() as stack:
        stack.enter_context(mock.patch.dict(os.environ, env, clear=True))
        stack.enter_context(
            mock.patch.object(kube_config, "KUBE_CONFIG_DEFAULT_LOCATION", str(path))
        )
        stack.enter_context(mock.patch.object(ApiClient, "call_api", no_api))
        stack.enter_context(mock.patch.object(ApiClient, "request", no_api))
        stack.enter_context(mock.patch.object(KubeSpawner, "_start_reflector", no_reflector))
        # Why: the hub's own config puts its folder first on the module path before importing the
        # ``hub.extraFiles`` modules mounted there (z2jh jupyterhub/files/hub/jupyterhub_config.py,
        # ``configuration_directory``); the folder here stands in for it while the block runs.
        stack.enter_context(mock.patch.object(sys, "path", [str(workdir), *sys.path]))
        yield SimpleNamespace(calls=calls, module_dir=workdir)


def hub_config(
    values: Mapping[str, Any], *, release: str, namespace: str, module_dir: Path
) -> Config:
    """The chart's hub config for merged `values`, with user namespaces off."""
    c = chart_config(values, release=release, namespace=namespace, module_dir=module_dir)
    c.KubeSpawner.enable_user_namespaces = False
    return c


def make_spawner(c: Config) -> KubeSpawner:
    """A KubeSpawner for USER as the hub creates one (call inside a running loop)."""
    user = SimpleNamespace(name=USER, id=7, url=f"/user/{USER}/", escaped_name=USER)
    hub = SimpleNamespace(
        public_host="",
        url="http://hub:8081/hub/",
        base_url="/hub/",
        api_url="http://hub:8081/hub/api",
    )
    return KubeSpawner(config=c, user=user, hub=hub, _mock=True)


async def build_pod(c: Config, slug: str | None) -> tuple[KubeSpawner, dict[str, Any]]:
    """The spawner (profile `slug` chosen, ``None`` = no choice) and its pod as plain data."""
    spawner = make_spawner(c)
    spawner.user_options = {"profile": slug} if slug else {}
    await spawner.load_user_options()
    pod = await spawner.get_pod_manifest()
    # The spawner's own shared client serializes (no request is made; it is closed with the loop).
    return spawner, spawner.api.api_client.sanitize_for_serialization(pod)


def user_pod(
    values: Mapping[str, Any],
    *,
    release: str,
    namespace: str,
    workdir: Path,
    slug: str | None = None,
) -> dict[str, Any]:
    """The pod KubeSpawner makes for USER from merged chart `values`, no API server involved."""
    with offline_kube(workdir) as kube:
        c = hub_config(values, release=release, namespace=namespace, module_dir=kube.module_dir)
        _, pod = asyncio.run(build_pod(c, slug))
        assert kube.calls == [], kube.calls
    return pod
