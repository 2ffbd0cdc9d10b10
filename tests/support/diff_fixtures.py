"""Tree pairs for the diff tests: one pair that covers every category of change.

Imported by tests/unit/commands/diff, tests/snapshot/test_diff_snapshots.py and
tests/e2e/test_cli_diff.py.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from dlaas_gen import yamlio

SECRET_VALUES = (
    "hunter2-old-client-secret",
    "s3cret-new-client-secret",
    "keep-me-hidden",
    "embedded-pw-old",
    "embedded-pw-new",
    "dropped-secret-value",
)

PROFILES_OLD = """\
singleuser:
  profileList:
    - display_name: Small
      kubespawner_override:
        image: registry.example.org/notebook:2024.1
        cpu_limit: 1
"""
PROFILES_NEW = PROFILES_OLD.replace("2024.1", "2025.2").replace("cpu_limit: 1", "cpu_limit: 2")


def cm(name: str, ns: str, data: dict[str, Any], **meta: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": ns, **meta},
        "data": data,
    }


def kustomization(name: str, path: str, prune: bool, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": {"name": name, "namespace": "flux-system"},
        "spec": {
            "interval": "10m",
            "path": path,
            "prune": prune,
            "sourceRef": {"kind": "GitRepository", "name": "flux-system"},
            **spec,
        },
    }


def helmrelease(name: str, ns: str, version: str, values: dict[str, Any], **spec: Any) -> dict:
    return {
        "apiVersion": "helm.toolkit.fluxcd.io/v2",
        "kind": "HelmRelease",
        "metadata": {
            "name": name,
            "namespace": ns,
            "labels": {"helm.sh/chart": f"{name}-{version}"},
        },
        "spec": {
            "interval": "30m",
            "chart": {
                "spec": {
                    "chart": name,
                    "version": version,
                    "sourceRef": {"kind": "HelmRepository", "name": name},
                }
            },
            "values": values,
            **spec,
        },
    }


def deployment(
    image: str,
    selector: dict[str, str],
    privileged: bool,
    host_path: str | None,
    propagation: str | None,
) -> dict[str, Any]:
    mount: dict[str, Any] = {"name": "data", "mountPath": "/data"}
    if propagation:
        mount["mountPropagation"] = propagation
    volume: dict[str, Any] = {"name": "data"}
    volume.update({"hostPath": {"path": host_path}} if host_path else {"emptyDir": {}})
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "gateway",
            "namespace": "infra",
            "labels": {"app.kubernetes.io/version": image.rsplit(":", 1)[-1]},
        },
        "spec": {
            "selector": {"matchLabels": selector},
            "template": {
                "metadata": {"labels": dict(selector), "annotations": {"checksum/config": image}},
                "spec": {
                    "containers": [
                        {
                            "name": "gateway",
                            "image": image,
                            "securityContext": {"privileged": privileged},
                            "volumeMounts": [mount],
                        }
                    ],
                    "volumes": [volume],
                },
            },
        },
    }


def pvc(name: str, size: str, storage_class: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": name, "namespace": "infra"},
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "storageClassName": storage_class,
            "resources": {"requests": {"storage": size}},
        },
    }


def old_tree() -> dict[str, list[dict[str, Any]]]:
    """Files of the old side, path → documents."""
    hub_values = {
        "hub": {"image": {"name": "quay.io/jupyterhub/k8s-hub", "tag": "3.3.8"}},
        "proxy": {"chp": {"image": {"name": "quay.io/jupyterhub/chp", "tag": "4.6"}}},
    }
    return {
        "flux/kustomization-apps.yaml": [kustomization("apps", "./rendered/site-a/apps", True)],
        "flux/kustomization-infrastructure.yaml": [
            kustomization("infrastructure", "./rendered/site-a/infrastructure", False)
        ],
        "apps/kustomization.yaml": [
            {
                "apiVersion": "kustomize.config.k8s.io/v1beta1",
                "kind": "Kustomization",
                "resources": ["a.yaml"],
            }
        ],
        "apps/configmap-profiles.yaml": [cm("profiles", "jhub", {"values.yaml": PROFILES_OLD})],
        "apps/helmrelease-jupyterhub.yaml": [
            helmrelease(
                "jupyterhub",
                "jhub",
                "3.3.8",
                hub_values,
                valuesFrom=[
                    {"kind": "ConfigMap", "name": "profiles"},
                    {
                        "kind": "Secret",
                        "name": "hub-oauth",
                        "valuesKey": "client_secret",
                        "targetPath": "hub.config.GenericOAuthenticator.client_secret",
                    },
                ],
            )
        ],
        "apps/helmrelease-monitoring.yaml": [
            helmrelease(
                "monitoring",
                "monitoring",
                "1.2.0",
                {"replicas": 1},
                targetNamespace="mon",
            )
        ],
        "apps/secret-hub-oauth.yaml": [
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "type": "Opaque",
                "metadata": {
                    "name": "hub-oauth",
                    "namespace": "jhub",
                    "annotations": {
                        "kubectl.kubernetes.io/last-applied-configuration": (
                            '{"stringData":{"client_secret":"hunter2-old-client-secret"}}')
                    },
                },
                "stringData": {
                    "client_secret": "hunter2-old-client-secret",
                    "keep": "keep-me-hidden",
                    "dropped": "dropped-secret-value",
                },
            }
        ],
        "apps/configmap-extra-manifests.yaml": [
            cm(
                "extra-manifests",
                "jhub",
                {
                    "manifest.yaml": "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n"
                    "stringData:\n  password: embedded-pw-old\n",
                },
            )
        ],
        "apps/configmap-obsolete.yaml": [cm("obsolete", "jhub", {"a": "1"})],
        "apps/configmap-moved.yaml": [cm("moved", "jhub", {"a": "1"})],
        "apps/configmap-churn.yaml": [
            cm("churn", "jhub", {"a": "1"}, labels={"helm.sh/chart": "x-1.0", "app": "x"})
        ],
        "infrastructure/deployment-gateway.yaml": [
            deployment("ghcr.io/org/gateway:1.4.0", {"app": "gateway"}, False, None, None)
        ],
        "infrastructure/service-gateway.yaml": [
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": "gateway", "namespace": "infra"},
                "spec": {"clusterIP": "10.0.0.10", "ports": [{"port": 80}]},
            }
        ],
        "infrastructure/pvc-grow.yaml": [pvc("grow", "10Gi", "standard")],
        "infrastructure/pvc-shrink.yaml": [pvc("shrink", "10Gi", "standard")],
        "infrastructure/job-migrate.yaml": [
            {
                "apiVersion": "batch/v1",
                "kind": "Job",
                "metadata": {"name": "migrate", "namespace": "infra"},
                "spec": {
                    "template": {
                        "spec": {
                            "restartPolicy": "Never",
                            "containers": [{"name": "migrate", "image": "ghcr.io/org/migrate:1"}],
                        }
                    }
                },
            }
        ],
        "infrastructure/namespace-legacy.yaml": [
            {
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {"name": "legacy"},
            }
        ],
    }


def new_tree() -> dict[str, list[dict[str, Any]]]:
    """Files of the new side: every category of change relative to `old_tree`."""
    files = copy.deepcopy(old_tree())
    files["flux/kustomization-infrastructure.yaml"] = [
        kustomization("infrastructure", "./rendered/site-a/infra", True, targetNamespace="infra")
    ]
    files["apps/configmap-profiles.yaml"] = [cm("profiles", "jhub", {"values.yaml": PROFILES_NEW})]
    hr = files["apps/helmrelease-jupyterhub.yaml"][0]
    hr["metadata"]["labels"]["helm.sh/chart"] = "jupyterhub-4.4.0"
    hr["spec"]["chart"]["spec"]["version"] = "4.4.0"
    hr["spec"]["releaseName"] = "hub"
    hr["spec"]["values"]["hub"]["image"]["tag"] = "4.4.0"
    mon = files["apps/helmrelease-monitoring.yaml"][0]
    mon["spec"]["chart"]["spec"]["version"] = "1.3.0"
    mon["spec"]["targetNamespace"] = "monitoring"
    mon["spec"]["suspend"] = True
    secret = files["apps/secret-hub-oauth.yaml"][0]
    secret["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"] = (
        '{"stringData":{"client_secret":"s3cret-new-client-secret"}}'
    )
    secret["stringData"] = {
        "client_secret": "s3cret-new-client-secret",
        "keep": "keep-me-hidden",
        "added": "s3cret-new-client-secret",
    }
    files["apps/configmap-extra-manifests.yaml"][0]["data"]["manifest.yaml"] = (
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n"
        "  password: embedded-pw-new\n"
    )
    del files["apps/configmap-obsolete.yaml"]
    files["apps/configmap-renamed-file.yaml"] = files.pop("apps/configmap-moved.yaml")
    files["apps/configmap-churn.yaml"][0]["metadata"]["labels"]["helm.sh/chart"] = "x-2.0"
    files["apps/configmap-fresh.yaml"] = [cm("fresh", "jhub", {"b": "2"})]
    files["infrastructure/deployment-gateway.yaml"] = [
        deployment(
            "ghcr.io/org/gateway:1.5.0",
            {"app": "gateway", "tier": "edge"},
            True,
            "/var/lib/gateway",
            "Bidirectional",
        )
    ]
    files["infrastructure/service-gateway.yaml"][0]["spec"]["clusterIP"] = "10.0.0.20"
    files["infrastructure/pvc-grow.yaml"] = [pvc("grow", "20Gi", "fast")]
    files["infrastructure/pvc-shrink.yaml"] = [pvc("shrink", "5Gi", "standard")]
    job = files["infrastructure/job-migrate.yaml"][0]
    job["spec"]["template"]["spec"]["containers"][0]["image"] = "ghcr.io/org/migrate:2"
    del files["infrastructure/namespace-legacy.yaml"]
    files["infrastructure/daemonset-agent.yaml"] = [
        {
            "apiVersion": "apps/v1",
            "kind": "DaemonSet",
            "metadata": {"name": "agent", "namespace": "infra"},
            "spec": {
                "selector": {"matchLabels": {"app": "agent"}},
                "template": {
                    "metadata": {"labels": {"app": "agent"}},
                    "spec": {
                        "hostNetwork": True,
                        "containers": [
                            {
                                "name": "agent",
                                "image": "ghcr.io/org/agent:0.9",
                                "securityContext": {"privileged": True},
                            }
                        ],
                    },
                },
            },
        }
    ]
    return files


def write_tree(root: Path, files: dict[str, list[dict[str, Any]]]) -> Path:
    """Write `files` (path → documents) under `root`."""
    for rel, docs in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yamlio.dump_docs(docs), encoding="utf-8")
    return root


def write_pair(tmp: Path) -> tuple[Path, Path]:
    """Write the old and new trees under `tmp` and return both roots."""
    return write_tree(tmp / "old", old_tree()), write_tree(tmp / "new", new_tree())
