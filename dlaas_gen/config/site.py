"""`SiteConfig`: the typed form of one ``sites/<site>.yaml``.

Why: the site's name is its file name (no second name inside the file), so it is passed in by
the loader through the validation context rather than read from the document.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, field_validator

from dlaas_gen.config.auth import AuthConfig
from dlaas_gen.config.base import (
    Duration,
    HttpsUrl,
    Quantity,
    Resources,
    SecretRef,
    StorageSize,
    StrictModel,
    Toleration,
)
from dlaas_gen.config.eos import EosConfig
from dlaas_gen.config.images import BuildImage, NotebookImage
from dlaas_gen.config.rucio import RucioConfig
from dlaas_gen.config.scratch import ScratchConfig
from dlaas_gen.config.security import SecurityConfig
from dlaas_gen.config.upload import UploadConfig
from dlaas_gen.config.xcache import XCacheConfig
from dlaas_gen.defaults import DEFAULT_KUBE_VERSION
from dlaas_gen.names import DnsLabel, DnsSubdomain, is_dns1123_subdomain

SEMVER = re.compile(r"^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$")
#: A qualified resource name (``nvidia.com/gpu``, ``hugepages-2Mi``).
RESOURCE_NAME = re.compile(
    r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
#: Kubernetes accepts these environment variable names (apimachinery IsEnvVarName).
ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")


class OwnGitRepository(StrictModel):
    """A GitRepository owned by this site (instead of the one `flux bootstrap` made)."""

    name: DnsSubdomain = Field(description="Name of the GitRepository object.")
    url: str = Field(
        description="Repository URL (`ssh://git@...` or `https://...`).",
        pattern=r"^(ssh://|https://)\S+$",
    )
    branch: str = Field(default="main", description="Branch Flux follows.")
    secret_ref: DnsSubdomain | None = Field(
        default=None, description="Secret with the Git credentials (in `flux-system`)."
    )
    interval: Duration = Field(default="1m", description="How often Flux fetches the repository.")


class GitOpsConfig(StrictModel):
    """How Flux reaches this repository and applies the site."""

    source: str | OwnGitRepository = Field(
        default="flux-system",
        description=(
            "The GitRepository in `flux-system` that holds this repository: the name of an "
            "existing one (default `flux-system`, made by `flux bootstrap`) or the site's own."
        ),
    )
    namespace: DnsLabel = Field(
        default="flux-system", description="Namespace of the Flux Kustomizations and sources."
    )
    interval: Duration = Field(default="10m", description="Kustomization reconcile interval.")
    retry_interval: Duration = Field(default="2m", description="Retry interval after a failure.")
    timeout: Duration = Field(default="5m", description="Timeout of apply and health checks.")
    prune: bool = Field(default=True, description="Delete objects removed from the tree.")
    path_prefix: str = Field(
        default="./rendered",
        description="Repository path of the rendered folder, as Flux sees it (starts with `./`).",
        pattern=r"^\./[A-Za-z0-9._/-]*$",
    )

    @field_validator("source")
    @classmethod
    def _source_name(cls, value: str | OwnGitRepository) -> str | OwnGitRepository:
        if isinstance(value, str) and not is_dns1123_subdomain(value):
            raise ValueError(f"{value!r} is not the name of a GitRepository (a DNS-1123 subdomain)")
        return value


class ChartConfig(StrictModel):
    """The zero-to-jupyterhub Helm chart and release."""

    repo_url: HttpsUrl = Field(
        default="https://hub.jupyter.org/helm-chart/", description="Helm repository URL."
    )
    repo_name: DnsLabel = Field(default="jupyterhub", description="Name of the HelmRepository.")
    version: str = Field(default="4.4.0", description="Exact chart version (pinned).")
    release_name: DnsLabel = Field(default="jhub", description="Helm release name.")
    interval: Duration = Field(default="10m", description="HelmRelease/HelmRepository interval.")
    timeout: Duration = Field(default="10m", description="Helm install/upgrade timeout.")

    @field_validator("version")
    @classmethod
    def _check_version(cls, value: str) -> str:
        if not SEMVER.fullmatch(value):
            raise ValueError(f"{value!r} is not an exact chart version (e.g. 4.4.0)")
        return value


class IngressConfig(StrictModel):
    """Ingress to the hub's proxy, with TLS."""

    host: DnsSubdomain = Field(description="Public host name of the hub.")
    class_name: str = Field(default="nginx", description="IngressClass name.")
    tls_secret: DnsSubdomain = Field(description="Secret holding (or receiving) the TLS cert.")
    cluster_issuer: str | None = Field(
        default=None, description="cert-manager ClusterIssuer (adds the annotation)."
    )


class SqliteDb(StrictModel):
    """The chart's default: SQLite on a PVC."""

    type: Literal["sqlite-pvc"] = "sqlite-pvc"
    capacity: StorageSize = Field(
        default="1Gi", description="Size of the hub's PVC (with a unit, e.g. 1Gi).")
    storage_class: str | None = Field(default=None, description="StorageClass of the hub PVC.")


class ExternalDb(StrictModel):
    """An external database (e.g. PostgreSQL) whose URL is in a Secret."""

    type: Literal["external"] = "external"
    dialect: Literal["postgres", "mysql", "other"] = Field(
        default="postgres", description="z2jh `hub.db.type` of the external database."
    )
    url: SecretRef = Field(description="Secret key with the SQLAlchemy URL (`hub.db.url`).")


class HubConfig(StrictModel):
    """The hub pod."""

    db: Annotated[SqliteDb | ExternalDb, Field(discriminator="type")] = Field(
        default_factory=SqliteDb, description="Hub database."
    )


class SingleUserConfig(StrictModel):
    """Defaults of every user's server."""

    image: NotebookImage = Field(
        description="Default single-user image: `{build: <name>}` (an entry of `images:`) or "
        "`{name, tag, provides}` (an image built elsewhere)."
    )
    default_url: str = Field(default="/lab", description="Page opened after spawn.")
    start_timeout: int = Field(default=300, ge=30, le=7200, description="Spawn timeout (s).")
    cpu: Resources = Field(default_factory=Resources, description="CPU limit/guarantee.")
    memory: Resources = Field(
        default_factory=lambda: Resources(limit="2G", guarantee="1G"),
        description="Memory limit/guarantee.",
    )
    node_selector: dict[str, str] = Field(default_factory=dict, description="Node selector.")
    tolerations: list[Toleration] = Field(default_factory=list, description="Tolerations.")


class DynamicStorage(StrictModel):
    """One PVC per user, created by KubeSpawner."""

    type: Literal["dynamic"] = "dynamic"
    capacity: StorageSize = Field(
        default="10Gi", description="Size of each user's PVC (with a unit, e.g. 10Gi).")
    storage_class: str | None = Field(default=None, description="StorageClass of user PVCs.")


class StaticStorage(StrictModel):
    """One shared RWX PVC, each user in a sub-folder."""

    type: Literal["static"] = "static"
    pvc_name: DnsSubdomain = Field(description="Existing RWX PVC in the hub namespace.")
    sub_path: str = Field(default="{username}", description="Per-user folder in the share.")
    slug_scheme: Literal["safe", "escape"] | None = Field(
        default=None,
        description=(
            "How KubeSpawner turns `{username}` into a path. KubeSpawner 7 (chart 4.x) uses "
            "`safe`; shares filled by an older chart use `escape`. Unset: `safe` with a warning."
        ),
    )


def _check_resource_name(value: str) -> str:
    if value in ("cpu", "memory"):
        raise ValueError(f"{value!r} has its own field: use the profile's cpu/memory instead")
    if not RESOURCE_NAME.fullmatch(value):
        raise ValueError(f"{value!r} is not a resource name (e.g. nvidia.com/gpu)")
    return value


def _check_env_name(value: str) -> str:
    if not ENV_NAME.fullmatch(value):
        raise ValueError(f"{value!r} is not an environment variable name "
                         "(letters, digits, '_', '-', '.', not starting with a digit)")
    if value == "PATH":
        raise ValueError("PATH would replace the image's own search path; do not set it")
    return value


ResourceName = Annotated[str, AfterValidator(_check_resource_name)]
EnvName = Annotated[str, AfterValidator(_check_env_name)]


class ProfileConfig(StrictModel):
    """One entry of the server options page (a software environment).

    Why these fields: each becomes one key of the profile's ``kubespawner_override``, which
    KubeSpawner applies with ``setattr`` (dicts are merged into the configured value, lists
    and scalars replace it), see ``KubeSpawner._apply_overrides`` in jupyterhub/kubespawner
    7.0.0 ``kubespawner/spawner.py``.
    """

    slug: DnsLabel = Field(description="Stable id of the profile.")
    display_name: str = Field(min_length=1, description="Title shown to users.")
    description: str = Field(default="", description="One-line description.")
    default: bool = Field(default=False, description="Preselected profile (at most one).")
    image: NotebookImage | None = Field(
        default=None, description="Image override: `{build: <name>}` or `{name, tag, provides}`."
    )
    cpu: Resources | None = Field(default=None, description="CPU override.")
    memory: Resources | None = Field(default=None, description="Memory override.")
    node_selector: dict[str, str] = Field(
        default_factory=dict,
        description="Node labels added to `singleuser.node_selector` (KubeSpawner "
        "`node_selector`).",
    )
    tolerations: list[Toleration] = Field(
        default_factory=list,
        description="Tolerations added to the chart's and `singleuser.tolerations` "
        "(KubeSpawner `tolerations`).",
    )
    extra_resource_limits: dict[ResourceName, Quantity] = Field(
        default_factory=dict,
        description='Extended resource limits, e.g. `nvidia.com/gpu: "1"` '
        "(KubeSpawner `extra_resource_limits`).",
    )
    extra_resource_guarantees: dict[ResourceName, Quantity] = Field(
        default_factory=dict,
        description="Extended resource requests (KubeSpawner `extra_resource_guarantees`); "
        "for extended resources equal to the limit.",
    )
    env: dict[EnvName, str] = Field(
        default_factory=dict,
        description="Environment variables added for this profile (KubeSpawner `environment`).",
    )
    image_pull_policy: Literal["Always", "IfNotPresent", "Never"] | None = Field(
        default=None, description="Image pull policy (KubeSpawner `image_pull_policy`)."
    )
    kubespawner_override: dict[str, Any] = Field(
        default_factory=dict,
        description="Other KubeSpawner traits for this profile (escape hatch); every key is "
        "checked against the traits of the KubeSpawner the chart version ships.",
    )


class SiteConfig(StrictModel):
    """A whole site: everything `dlaas-gen render` needs to write `rendered/<site>/`."""

    kubernetes_version: str = Field(
        default=DEFAULT_KUBE_VERSION,
        description="Target Kubernetes minor version for validation.",
        pattern=r"^1\.[0-9]{2}$",
    )
    gitops: GitOpsConfig = Field(default_factory=GitOpsConfig, description="Flux sync.")
    namespace: DnsLabel = Field(default="jhub", description="Namespace of the hub.")
    chart: ChartConfig = Field(default_factory=ChartConfig, description="z2jh chart.")
    ingress: IngressConfig | None = Field(default=None, description="Ingress with TLS.")
    hub: HubConfig = Field(default_factory=HubConfig, description="Hub settings.")
    singleuser: SingleUserConfig = Field(description="Single-user server defaults.")
    storage: Annotated[DynamicStorage | StaticStorage, Field(discriminator="type")] = Field(
        default_factory=DynamicStorage, description="Home directories."
    )
    profiles: list[ProfileConfig] = Field(
        default_factory=list, description="Environments offered at spawn."
    )
    images: dict[DnsLabel, BuildImage] = Field(
        default_factory=dict,
        description="Single-user images built by this site: each build context is rendered to "
        "`rendered/<site>/images/<name>/` (never applied by Flux) and tagged with its digest.",
    )
    auth: AuthConfig | None = Field(default=None, description="OIDC login against an IAM.")
    rucio: RucioConfig | None = Field(default=None, description="Rucio JupyterLab extension.")
    eos: EosConfig | None = Field(default=None, description="EOS FUSE mounts.")
    scratch: ScratchConfig | None = Field(default=None, description="Scratch area on EOS.")
    upload: UploadConfig | None = Field(default=None, description="The upload command.")
    xcache: XCacheConfig | None = Field(
        default=None, description="XCache in front of the Data Lake, origins from CRIC."
    )
    security: SecurityConfig = Field(
        default_factory=SecurityConfig, description="Policy exceptions and egress.")
    extra_values: dict[str, Any] = Field(
        default_factory=dict,
        description="z2jh values merged last over the generated inline values (escape hatch).",
    )
