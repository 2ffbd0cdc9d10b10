"""What the z2jh 4.4.0 chart makes of its Helm values, re-implemented for the real-tool tests.

Why: the chart turns ``singleuser.*`` values into KubeSpawner traits in its hub-side
``jupyterhub_config.py`` (not vendored here). These functions are written from the chart's
documented mapping of each value (``singleuser.cpu.limit`` → ``KubeSpawner.cpu_limit``,
``singleuser.extraEnv`` → ``KubeSpawner.environment``, ``image.name`` + ``image.tag`` →
``name:tag``, home volume + ``storage.extraVolumes``, ``scheduling.userPods.tolerations`` +
``singleuser.extraTolerations``, ``hub.config`` sections, ``hub.extraConfig`` executed last) so
the real KubeSpawner and authenticator can be fed exactly what the hub would feed them.

Only what the chart does for values this product can set is modelled; `UNMODELLED_SINGLEUSER`
lists the rest, and :func:`unmodelled_keys` lets a test fail when the product starts setting one.
"""

from __future__ import annotations

import copy
import json
import re
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path, PurePosixPath
from typing import Any

from traitlets.config import Config

from dlaas_gen import yamlio
from dlaas_gen.helmvalues import coalesce
from dlaas_gen.manifest import Manifest
from dlaas_gen.resources import schemas_dir
from dlaas_gen.validate.values import release_values

#: Where the hub image keeps ``jupyterhub_config.py``; the chart puts this folder on ``sys.path``
#: and mounts ``hub.extraFiles`` wherever their ``mountPath`` says.
HUB_CONFIG_DIR = PurePosixPath("/usr/local/etc/jupyterhub")

#: ``singleuser.<value>`` → ``KubeSpawner.<trait>``, set only when the value is not null.
SINGLEUSER_TRAITS: dict[str, str] = {
    "podNameTemplate": "pod_name_template",
    "startTimeout": "start_timeout",
    "image.pullPolicy": "image_pull_policy",
    "events": "events_enabled",
    "extraLabels": "extra_labels",
    "extraAnnotations": "extra_annotations",
    "uid": "uid",
    "fsGid": "fs_gid",
    "serviceAccountName": "service_account",
    "storage.extraLabels": "storage_extra_labels",
    "nodeSelector": "node_selector",
    "extraNodeAffinity.required": "node_affinity_required",
    "extraNodeAffinity.preferred": "node_affinity_preferred",
    "extraPodAffinity.required": "pod_affinity_required",
    "extraPodAffinity.preferred": "pod_affinity_preferred",
    "extraPodAntiAffinity.required": "pod_anti_affinity_required",
    "extraPodAntiAffinity.preferred": "pod_anti_affinity_preferred",
    "lifecycleHooks": "lifecycle_hooks",
    "initContainers": "init_containers",
    "extraContainers": "extra_containers",
    "memory.limit": "mem_limit",
    "memory.guarantee": "mem_guarantee",
    "cpu.limit": "cpu_limit",
    "cpu.guarantee": "cpu_guarantee",
    "extraResource.limits": "extra_resource_limits",
    "extraResource.guarantees": "extra_resource_guarantees",
    "extraEnv": "environment",
    "profileList": "profile_list",
    "extraPodConfig": "extra_pod_config",
}

#: Top-level ``singleuser`` keys handled by :func:`chart_config` (directly or via the table).
MODELLED_SINGLEUSER = {
    *(key.split(".")[0] for key in SINGLEUSER_TRAITS),
    "image", "allowPrivilegeEscalation", "extraTolerations", "storage", "cmd", "defaultUrl",
    "cloudMetadata", "networkTools", "extraFiles",
}
#: Keys the chart uses elsewhere (NetworkPolicy, image pull Secret); they never reach KubeSpawner.
UNMODELLED_SINGLEUSER = {"networkPolicy", "imagePullSecret"}
#: ``singleuser.storage`` keys handled here.
MODELLED_STORAGE = {"type", "extraLabels", "extraVolumes", "extraVolumeMounts", "static",
                    "capacity", "homeMountPath", "dynamic"}


def get(values: Mapping[str, Any], dotted: str, default: Any = None) -> Any:
    """``values["a"]["b"]`` for ``"a.b"`` (``default`` when any part is missing or null)."""
    node: Any = values
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or node.get(part) is None:
            return default
        node = node[part]
    return copy.deepcopy(node)


def chart_defaults() -> dict[str, Any]:
    """The vendored z2jh 4.4.0 ``values.yaml``."""
    text = (schemas_dir() / "z2jh" / "values.yaml").read_text("utf-8")
    return yamlio.plain(yamlio.load_roundtrip(text))


def chart_schema() -> dict[str, Any]:
    """The vendored z2jh 4.4.0 ``values.schema.json``."""
    return json.loads((schemas_dir() / "z2jh" / "values.schema.json").read_text("utf-8"))


def the_release(manifests: list[Manifest]) -> Manifest:
    """The site's single HelmRelease."""
    releases = [m for m in manifests if m.kind == "HelmRelease"]
    assert len(releases) == 1, [m.path for m in releases]
    return releases[0]


def merged_values(manifests: list[Manifest]) -> dict[str, Any]:
    """What the chart sees: helm-controller's merge of the release, coalesced over the defaults."""
    release = the_release(manifests)
    merged, problems = release_values(release, manifests)
    assert [p.format() for p in problems] == []
    return coalesce(chart_defaults(), merged)


def unmodelled_keys(values: Mapping[str, Any]) -> list[str]:
    """``singleuser`` keys in ``values`` that :func:`chart_config` would not map."""
    su = values.get("singleuser") or {}
    out = [f"singleuser.{k}" for k in su if k not in MODELLED_SINGLEUSER | UNMODELLED_SINGLEUSER]
    out += [f"singleuser.storage.{k}" for k in su.get("storage") or {} if k not in MODELLED_STORAGE]
    return sorted(out)


def _home_storage(c: Config, values: Mapping[str, Any]) -> None:
    """The home volume: a per-user PVC (dynamic) or a shared PVC with a per-user subPath."""
    storage_type = get(values, "singleuser.storage.type")
    home = get(values, "singleuser.storage.homeMountPath")
    if storage_type == "dynamic":
        template = get(values, "singleuser.storage.dynamic.pvcNameTemplate")
        if template:
            c.KubeSpawner.pvc_name_template = template
        volume = get(values, "singleuser.storage.dynamic.volumeNameTemplate")
        c.KubeSpawner.storage_pvc_ensure = True
        for trait, key in (("storage_class", "dynamic.storageClass"),
                           ("storage_access_modes", "dynamic.storageAccessModes"),
                           ("storage_capacity", "capacity")):
            value = get(values, f"singleuser.storage.{key}")
            if value is not None:
                c.KubeSpawner[trait] = value
        # KubeSpawner expands {pvc_name} to the claim it creates from pvc_name_template.
        c.KubeSpawner.volumes = [
            {"name": volume, "persistentVolumeClaim": {"claimName": "{pvc_name}"}}]
        mount = {"name": volume, "mountPath": home}
        sub_path = get(values, "singleuser.storage.dynamic.subPath")
        if sub_path:
            mount["subPath"] = sub_path
        c.KubeSpawner.volume_mounts = [mount]
    elif storage_type == "static":
        claim = get(values, "singleuser.storage.static.pvcName")
        c.KubeSpawner.volumes = [{"name": "home", "persistentVolumeClaim": {"claimName": claim}}]
        c.KubeSpawner.volume_mounts = [
            {
                "name": "home",
                "mountPath": home,
                "subPath": get(values, "singleuser.storage.static.subPath"),
            }
        ]
    else:
        c.KubeSpawner.volumes = []
        c.KubeSpawner.volume_mounts = []


def _singleuser_extra_files(c: Config, values: Mapping[str, Any], fullname: str) -> None:
    """``singleuser.extraFiles``: one Secret volume, one subPath mount per file."""
    files = get(values, "singleuser.extraFiles", {})
    if not files:
        return
    items = []
    for key, details in files.items():
        item = {"key": key, "path": key}
        if "mode" in details:
            item["mode"] = details["mode"]
        items.append(item)
    c.KubeSpawner.volumes.append(
        {"name": "files", "secret": {"secretName": _name(fullname, "singleuser"), "items": items}}
    )
    c.KubeSpawner.volume_mounts.extend(
        {"name": "files", "mountPath": d["mountPath"], "subPath": key} for key, d in files.items()
    )


def _name(fullname: str, component: str) -> str:
    return f"{fullname}-{component}" if fullname else component


def _image(c: Config, values: Mapping[str, Any], fullname: str) -> None:
    """The single-user image, its privilege escalation setting and the image pull secrets."""
    name, tag = get(values, "singleuser.image.name"), get(values, "singleuser.image.tag")
    if name:
        c.KubeSpawner.image = f"{name}:{tag}" if tag else name
    c.KubeSpawner.allow_privilege_escalation = get(values, "singleuser.allowPrivilegeEscalation")

    pull_secrets = list(get(values, "imagePullSecrets", []))
    pull_secrets += get(values, "singleuser.image.pullSecrets", [])
    if get(values, "imagePullSecret.automaticReferenceInjection") and get(
        values, "imagePullSecret.create"
    ):
        pull_secrets.insert(0, _name(fullname, "image-pull-secret"))
    if pull_secrets:
        c.KubeSpawner.image_pull_secrets = pull_secrets


def _scheduling(c: Config, values: Mapping[str, Any], fullname: str) -> None:
    """User scheduler, priority class, node-purpose affinity and tolerations of user pods."""
    if get(values, "scheduling.userScheduler.enabled"):
        c.KubeSpawner.scheduler_name = _name(fullname, "user-scheduler")
    if get(values, "scheduling.podPriority.enabled"):
        c.KubeSpawner.priority_class_name = _name(fullname, "priority")
    purpose = get(values, "scheduling.userPods.nodeAffinity.matchNodePurpose")
    term = {
        "matchExpressions": [
            {"key": "hub.jupyter.org/node-purpose", "operator": "In", "values": ["user"]}
        ]
    }
    if purpose == "prefer":
        c.KubeSpawner.node_affinity_preferred = [
            *get(values, "singleuser.extraNodeAffinity.preferred", []),
            {"weight": 100, "preference": term},
        ]
    elif purpose == "require":
        c.KubeSpawner.node_affinity_required = [
            *get(values, "singleuser.extraNodeAffinity.required", []),
            term,
        ]
    tolerations = get(values, "scheduling.userPods.tolerations", []) + get(
        values, "singleuser.extraTolerations", []
    )
    if tolerations:
        c.KubeSpawner.tolerations = tolerations


def _cloud_metadata_block(c: Config, values: Mapping[str, Any]) -> None:
    """The chart's privileged init container that blocks the cloud metadata server."""
    if not get(values, "singleuser.cloudMetadata.blockWithIptables"):
        return
    image = (
        f"{get(values, 'singleuser.networkTools.image.name')}:"
        f"{get(values, 'singleuser.networkTools.image.tag')}"
    )
    ip = get(values, "singleuser.cloudMetadata.ip")
    c.KubeSpawner.init_containers = [
        *get(values, "singleuser.initContainers", []),
        {
            "name": "block-cloud-metadata",
            "image": image,
            "command": [
                "iptables",
                "--append",
                "OUTPUT",
                "--protocol",
                "tcp",
                "--destination",
                ip,
                "--destination-port",
                "80",
                "--jump",
                "DROP",
            ],
            "securityContext": {
                "privileged": True,
                "runAsUser": 0,
                "capabilities": {"add": ["NET_ADMIN"]},
            },
            "resources": get(values, "singleuser.networkTools.resources", {}),
        },
    ]


def chart_config(
    values: Mapping[str, Any], *, release: str, namespace: str, module_dir: Path | None = None
) -> Config:
    """The traitlets config the chart's hub builds from `values`.

    Args:
        values: merged values (chart defaults included).
        release: Helm release name.
        namespace: release namespace (``POD_NAMESPACE`` of the hub).
        module_dir: where to write ``hub.extraFiles`` mounted next to ``jupyterhub_config.py``
            (put on ``sys.path`` by the caller); ``None`` skips ``hub.extraConfig``.
    """
    c = Config()
    fullname = values.get("fullnameOverride") or ""
    c.JupyterHub.spawner_class = "kubespawner.KubeSpawner"
    c.KubeSpawner.namespace = namespace
    c.KubeSpawner.common_labels = {
        "app": values.get("nameOverride") or "jupyterhub",
        "heritage": "jupyterhub",
        "release": release,
        "app.kubernetes.io/instance": release,
    }
    for key, trait in SINGLEUSER_TRAITS.items():
        value = get(values, f"singleuser.{key}")
        if value is not None:
            c.KubeSpawner[trait] = value

    _image(c, values, fullname)
    _scheduling(c, values, fullname)
    _home_storage(c, values)
    _singleuser_extra_files(c, values, fullname)
    c.KubeSpawner.volumes.extend(get(values, "singleuser.storage.extraVolumes", []))
    c.KubeSpawner.volume_mounts.extend(get(values, "singleuser.storage.extraVolumeMounts", []))

    c.JupyterHub.services = []
    c.JupyterHub.load_roles = [
        {**role, "name": role.get("name", key)}
        for key, role in get(values, "hub.loadRoles", {}).items()
    ]
    if "cmd" in (values.get("singleuser") or {}):
        c.Spawner.cmd = values["singleuser"]["cmd"]
    if get(values, "singleuser.defaultUrl") is not None:
        c.Spawner.default_url = get(values, "singleuser.defaultUrl")
    _cloud_metadata_block(c, values)
    if get(values, "debug.enabled"):
        c.JupyterHub.log_level = "DEBUG"
        c.Spawner.debug = True

    # Seeded secrets are read from the chart's own Secret, not from hub.config.
    dropped = {
        "JupyterHub": {"proxy_auth_token", "cookie_secret", "services"},
        "ConfigurableHTTPProxy": {"auth_token"},
        "CryptKeeper": {"keys"},
    }
    for section, settings in get(values, "hub.config", {}).items():
        c[section].update(
            {k: v for k, v in settings.items() if k not in dropped.get(section, set())}
        )
    if module_dir is not None:
        run_extra_config(c, values, module_dir)
    return c


def hub_modules(values: Mapping[str, Any]) -> dict[str, str]:
    """``hub.extraFiles`` mounted as importable modules beside ``jupyterhub_config.py``."""
    out = {}
    for details in get(values, "hub.extraFiles", {}).values():
        path = PurePosixPath(details.get("mountPath", ""))
        if path.parent == HUB_CONFIG_DIR and path.suffix == ".py" and "stringData" in details:
            out[path.stem] = details["stringData"]
    return out


def imported_modules(snippet: str) -> Iterator[str]:
    """Top-level module names a config snippet imports."""
    for match in re.finditer(r"^\s*(?:import|from)\s+([A-Za-z_][\w]*)", snippet, re.M):
        yield match.group(1)


def run_extra_config(c: Config, values: Mapping[str, Any], module_dir: Path) -> None:
    """Execute ``hub.extraConfig`` in key order with ``c`` in scope, as the chart's hub does.

    The modules of ``hub.extraFiles`` are written to `module_dir`, which must be on ``sys.path``.
    """
    for name, text in hub_modules(values).items():
        (module_dir / f"{name}.py").write_text(text, encoding="utf-8")
        sys.modules.pop(name, None)
    for key, snippet in sorted(get(values, "hub.extraConfig", {}).items()):
        exec(compile(snippet, f"hub.extraConfig.{key}", "exec"), {"c": c})  # noqa: S102
