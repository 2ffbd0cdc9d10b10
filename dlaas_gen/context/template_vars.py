"""The variables of each template: one typed class per template under ``templates/``.

Why typed: a template renders with ``StrictUndefined``, so a missing variable fails at render
time; a class per template makes the same mistake fail where the object is built (a missing or
misspelt keyword), shows in one place what a template reads, and binds each object to its
template and kind (`ObjectVars.TEMPLATE`, `ObjectVars.KIND`).

Template style (one for all): a template writes its object's structure and every fixed field,
among them the container hardening (``templates/core/security.j2``, the one place that writes
``securityContext``), the fixed resources of the helper containers, probes and strategies. The
variables carry what the site decides: names, labels, images, and blocks of site-derived data
(volumes, tolerations, chart values, file contents), which the template places with
``| to_yaml``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

Labels = dict[str, str]
Block = list[dict[str, Any]]


@dataclass(frozen=True, kw_only=True)
class TemplateVars:
    """Base of every template's variables."""

    def variables(self) -> dict[str, Any]:
        """The variables as the template sees them (name → value; values are not copied)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True, kw_only=True)
class ObjectVars(TemplateVars):
    """Variables of a template that renders one Kubernetes object named `name`."""

    TEMPLATE: ClassVar[str]
    KIND: ClassVar[str]
    name: str


@dataclass(frozen=True, kw_only=True)
class NamespaceVars(ObjectVars):
    """``core/namespace.yaml.j2``."""

    TEMPLATE: ClassVar[str] = "core/namespace.yaml.j2"
    KIND: ClassVar[str] = "Namespace"
    labels: Labels
    annotations: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class ConfigMapVars(ObjectVars):
    """``core/configmap.yaml.j2``: a ConfigMap of files (key → text)."""

    TEMPLATE: ClassVar[str] = "core/configmap.yaml.j2"
    KIND: ClassVar[str] = "ConfigMap"
    namespace: str
    labels: Labels
    data: dict[str, str]
    annotations: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class FolderIndexVars(ObjectVars):
    """``kustomize/kustomization.yaml.j2``: the ``kustomization.yaml`` listing a folder's files."""

    TEMPLATE: ClassVar[str] = "kustomize/kustomization.yaml.j2"
    KIND: ClassVar[str] = "Kustomization"
    name: str = "kustomization"
    resources: list[str]


@dataclass(frozen=True, kw_only=True)
class FluxKustomizationVars(ObjectVars):
    """``flux/kustomization.yaml.j2``: the Flux Kustomization that applies one folder."""

    TEMPLATE: ClassVar[str] = "flux/kustomization.yaml.j2"
    KIND: ClassVar[str] = "Kustomization"
    namespace: str
    labels: Labels
    interval: str
    retry_interval: str
    timeout: str
    path: str
    prune: bool
    wait: bool
    source_name: str
    depends_on: list[str]


@dataclass(frozen=True, kw_only=True)
class GitRepositoryVars(ObjectVars):
    """``flux/gitrepository.yaml.j2``: the site's own Git source."""

    TEMPLATE: ClassVar[str] = "flux/gitrepository.yaml.j2"
    KIND: ClassVar[str] = "GitRepository"
    namespace: str
    labels: Labels
    interval: str
    url: str
    branch: str
    secret_ref: str | None


@dataclass(frozen=True, kw_only=True)
class HelmRepositoryVars(ObjectVars):
    """``jupyterhub/helmrepository.yaml.j2``."""

    TEMPLATE: ClassVar[str] = "jupyterhub/helmrepository.yaml.j2"
    KIND: ClassVar[str] = "HelmRepository"
    namespace: str
    labels: Labels
    interval: str
    url: str


@dataclass(frozen=True, kw_only=True)
class HelmReleaseVars(ObjectVars):
    """``jupyterhub/helmrelease.yaml.j2``: the z2jh release."""

    TEMPLATE: ClassVar[str] = "jupyterhub/helmrelease.yaml.j2"
    KIND: ClassVar[str] = "HelmRelease"
    namespace: str
    labels: Labels
    interval: str
    timeout: str
    release_name: str
    chart: str
    version: str
    repo_name: str
    values_from: Block
    values: dict[str, Any]


@dataclass(frozen=True, kw_only=True)
class EosDaemonSetVars(ObjectVars):
    """``eos/daemonset.yaml.j2``: the privileged eosxd DaemonSet."""

    TEMPLATE: ClassVar[str] = "eos/daemonset.yaml.j2"
    KIND: ClassVar[str] = "DaemonSet"
    namespace: str
    labels: Labels
    selector: Labels
    image: str
    host_pid: bool
    host_network: bool
    node_selector: dict[str, str]
    tolerations: Block
    volumes: Block
    volume_mounts: Block
    command: list[str]
    probe: list[str]
    pre_stop: list[str]


@dataclass(frozen=True, kw_only=True)
class CsiPersistentVolumeVars(ObjectVars):
    """``eos/persistentvolume-csi.yaml.j2``: a static volume of the eosxd-csi driver."""

    TEMPLATE: ClassVar[str] = "eos/persistentvolume-csi.yaml.j2"
    KIND: ClassVar[str] = "PersistentVolume"
    labels: Labels
    driver: str
    handle: str


@dataclass(frozen=True, kw_only=True)
class CsiPersistentVolumeClaimVars(ObjectVars):
    """``eos/persistentvolumeclaim-csi.yaml.j2``: the EOS volume user pods mount in csi mode."""

    TEMPLATE: ClassVar[str] = "eos/persistentvolumeclaim-csi.yaml.j2"
    KIND: ClassVar[str] = "PersistentVolumeClaim"
    namespace: str
    labels: Labels
    storage_class: str
    volume_name: str | None


@dataclass(frozen=True)
class SecretEnv:
    """An environment variable taken from a Secret key."""

    name: str
    secret: str
    key: str


@dataclass(frozen=True, kw_only=True)
class ScratchCronJobVars(ObjectVars):
    """``scratch/cronjob.yaml.j2``: the scratch cleanup.

    The scratch volume is the EOS csi PVC (`claim`, `sub_path`) or a host folder (`host_path`).
    """

    TEMPLATE: ClassVar[str] = "scratch/cronjob.yaml.j2"
    KIND: ClassVar[str] = "CronJob"
    namespace: str
    labels: Labels
    schedule: str
    image: str
    command: list[str]
    mount: str
    uid: int
    endorsement: SecretEnv | None
    host_path: str
    claim: str | None
    sub_path: str | None
    node_selector: dict[str, str]
    tolerations: Block


@dataclass(frozen=True, kw_only=True)
class XCacheDeploymentVars(ObjectVars):
    """``xcache/deployment.yaml.j2``: the xrootd proxy file cache and its folder-making init."""

    TEMPLATE: ClassVar[str] = "xcache/deployment.yaml.j2"
    KIND: ClassVar[str] = "Deployment"
    namespace: str
    labels: Labels
    replicas: int
    selector: Labels
    pod_annotations: dict[str, str]
    image: str
    uid: int
    prepare_command: list[str]
    command: list[str]
    port: int
    resources: dict[str, Any]
    prepare_mounts: Block
    volume_mounts: Block
    volumes: Block
    node_selector: dict[str, str]
    tolerations: Block


@dataclass(frozen=True, kw_only=True)
class ServiceVars(ObjectVars):
    """``xcache/service.yaml.j2``: the cache's Service."""

    TEMPLATE: ClassVar[str] = "xcache/service.yaml.j2"
    KIND: ClassVar[str] = "Service"
    namespace: str
    labels: Labels
    type: str
    selector: Labels
    port: int


@dataclass(frozen=True, kw_only=True)
class NetworkPolicyVars(ObjectVars):
    """``xcache/networkpolicy.yaml.j2``: who may open the cache's port."""

    TEMPLATE: ClassVar[str] = "xcache/networkpolicy.yaml.j2"
    KIND: ClassVar[str] = "NetworkPolicy"
    namespace: str
    labels: Labels
    selector: Labels
    client_namespaces: list[str]
    port: int


@dataclass(frozen=True, kw_only=True)
class ServiceAccountVars(ObjectVars):
    """``xcache/serviceaccount.yaml.j2``."""

    TEMPLATE: ClassVar[str] = "xcache/serviceaccount.yaml.j2"
    KIND: ClassVar[str] = "ServiceAccount"
    namespace: str
    labels: Labels


@dataclass(frozen=True, kw_only=True)
class ConfigMapEditorRoleVars(ObjectVars):
    """``xcache/role.yaml.j2``: may read and patch one ConfigMap."""

    TEMPLATE: ClassVar[str] = "xcache/role.yaml.j2"
    KIND: ClassVar[str] = "Role"
    namespace: str
    labels: Labels
    configmap: str


@dataclass(frozen=True, kw_only=True)
class RoleBindingVars(ObjectVars):
    """``xcache/rolebinding.yaml.j2``: a Role bound to a ServiceAccount of its namespace."""

    TEMPLATE: ClassVar[str] = "xcache/rolebinding.yaml.j2"
    KIND: ClassVar[str] = "RoleBinding"
    namespace: str
    labels: Labels
    role: str
    service_account: str


@dataclass(frozen=True, kw_only=True)
class RefreshCronJobVars(ObjectVars):
    """``xcache/cronjob.yaml.j2``: the job that rewrites the XCache allow-list."""

    TEMPLATE: ClassVar[str] = "xcache/cronjob.yaml.j2"
    KIND: ClassVar[str] = "CronJob"
    namespace: str
    labels: Labels
    schedule: str
    service_account: str
    image: str
    command: list[str]
    uid: int
    volume_mounts: Block
    volumes: Block


@dataclass(frozen=True, kw_only=True)
class ImageContextVars(TemplateVars):
    """``images/*.j2``: the files of one single-user image build context.

    `from_ref` is None only for an image with neither ``base`` nor ``from``, which the site
    checks refuse (the field reference renders unchecked variants of the examples).
    """

    site: str
    name: str
    repository: str
    description: str
    family: str
    from_ref: str | None
    parent: str | None
    python: str
    python_tuple: str
    pip: list[str]
    conda: list[str]
    imports: list[str]
