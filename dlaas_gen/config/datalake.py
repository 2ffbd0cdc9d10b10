"""Data-lake sections of a site: IAM login, Rucio extension, EOS FUSE, scratch, upload.

Why: these are what turn a plain JupyterHub into the report's Data Lake as a Service. Each is
optional and typed; cross-section invariants (token audiences, mount paths, lifetimes) are in
``checks_datalake.py`` so they can point at the exact line.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, field_validator

from dlaas_gen.config.base import (
    AbsPath,
    HttpsUrl,
    Image,
    SecretRef,
    StrictModel,
)
from dlaas_gen.names import DnsLabel, DnsSubdomain

CRON = re.compile(r"^(\S+\s+){4}\S+$")
LIFETIME = re.compile(r"^[0-9]+[smhd]?$")
SERVICE = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]*$")]


class AllowRule(StrictModel):
    """Who may log in (oauthenticator 16+ lets nobody in without a rule)."""

    mode: Literal["all", "users", "groups"] = Field(
        description="`all` authenticated users, listed `users`, or members of `groups`."
    )
    users: list[str] = Field(default_factory=list, description="Allowed user names (mode users).")
    groups: list[str] = Field(default_factory=list, description="Allowed groups (mode groups).")
    groups_claim: str = Field(default="groups", description="Userinfo claim holding the groups.")


class TokenExchangeConfig(StrictModel):
    """RFC 8693 token exchange at the IdP's token endpoint, one token per downstream service."""

    audiences: dict[SERVICE, str] = Field(
        default_factory=lambda: {"rucio": "rucio"},
        description="Service name → audience to request (e.g. `rucio: rucio`, `eos: eos-eulake`).",
    )
    scope: str = Field(default="openid profile", description="Scope sent with each exchange.")
    refresh_margin_seconds: int = Field(
        default=600, ge=120, le=3000,
        description="Refresh tokens whose remaining lifetime is below this (the pod renewer "
        "polls every 60 s).",
    )


class AuthConfig(StrictModel):
    """OIDC login against an IAM with GenericOAuthenticator (oauthenticator 17)."""

    issuer: HttpsUrl = Field(description="Issuer URL, e.g. `https://iam-escape.cloud.cnaf.infn.it/`.")
    provider: Literal["indigo-iam", "keycloak", "custom"] = Field(
        default="indigo-iam",
        description="Endpoint layout used to fill in unset URLs (GenericOAuthenticator does no "
        "discovery): `indigo-iam` /authorize /token /userinfo; `keycloak` "
        "/protocol/openid-connect/...; `custom` requires all three URLs.",
    )
    authorize_url: HttpsUrl | None = Field(default=None, description="Authorization endpoint.")
    token_url: HttpsUrl | None = Field(default=None, description="Token endpoint.")
    userinfo_url: HttpsUrl | None = Field(default=None, description="Userinfo endpoint.")
    login_service: str = Field(default="IAM", description="Name on the login button.")
    client_id: SecretRef = Field(description="Secret key holding the OIDC client id.")
    client_secret: SecretRef = Field(description="Secret key holding the OIDC client secret.")
    scopes: list[str] = Field(
        default_factory=lambda: ["openid", "profile", "email", "offline_access"],
        description="Scopes requested at login (`offline_access` is needed for refresh).",
    )
    username_claim: str = Field(default="preferred_username", description="Claim used as user name.")
    allow: AllowRule = Field(description="Explicit allow rule.")
    admin_users: list[str] = Field(default_factory=list, description="Hub administrators.")
    crypt_key: SecretRef | None = Field(
        default=None,
        description="Auth-state encryption key (`hub.config.CryptKeeper.keys`); unset: the "
        "chart generates and keeps one.",
    )
    token_exchange: TokenExchangeConfig = Field(
        default_factory=TokenExchangeConfig, description="Per-service token exchange."
    )
    token_dir: AbsPath = Field(
        default="/var/run/dlaas-tokens",
        description="In-memory volume in the user pod where token files are kept (mode 0600).",
    )


class RucioInstance(StrictModel):
    """One Rucio instance offered by the JupyterLab extension."""

    name: str = Field(description="Machine id (FQDN recommended).", min_length=1)
    display_name: str = Field(description="Name shown in the extension.", min_length=1)
    base_url: HttpsUrl = Field(description="Rucio server URL, no trailing slash.")
    auth_url: HttpsUrl | None = Field(default=None, description="Rucio auth server URL.")
    webui_url: HttpsUrl | None = Field(default=None, description="Rucio web UI URL.")
    ca_cert: AbsPath | None = Field(default=None, description="CA bundle path in the image.")
    vo: str | None = Field(default=None, description="VO (multi-VO servers only).")
    mode: Literal["replica", "download"] = Field(description="`replica` reads a mounted RSE.")
    destination_rse: str | None = Field(default=None, description="RSE mounted in the pod (replica).")
    rse_mount_path: AbsPath | None = Field(
        default=None, description="Where the RSE's files appear in the pod (replica), under "
        "`eos.user_mount_path`/<instance>, e.g. `/eos/eulake`."
    )
    path_begins_at: int | None = Field(
        default=None, ge=0,
        description="PFN path components to drop; derived from the EOS mount when unset, "
        "checked when set.",
    )
    rse_prefix: AbsPath | None = Field(
        default=None,
        description="Path prefix of the RSE's protocol in Rucio (what precedes the LFN part of "
        "its PFNs), e.g. `/eos/eulake/tests/rucio_test/eulake_1/` for EULAKE-1 (`rucio-admin rse "
        "info <RSE>`); when set, the EOS directory shown at `rse_mount_path` must hold it, so "
        "that the extension maps PFNs to the files under the mount (replica mode).",
    )
    replication_rule_lifetime_days: int | None = Field(default=None, ge=1, description="Rule lifetime.")
    wildcard_enabled: bool = Field(default=False, description="Allow wildcard DID search.")
    site_name: str | None = Field(
        default=None, description="Client site name (XCache proxy key); default: the XCache site."
    )
    oidc_auth: Literal["file"] = Field(
        default="file",
        description="How the extension reads the Rucio token: `file` only, because the renewer "
        "keeps the file fresh while an environment variable is fixed at spawn and expires (~1 h).",
    )
    token_service: SERVICE = Field(
        default="rucio", description="Which `auth.token_exchange.audiences` entry is the Rucio token."
    )

    @field_validator("base_url", "auth_url", "webui_url")
    @classmethod
    def _no_trailing_slash(cls, value: str | None) -> str | None:
        if value is not None and value.endswith("/"):
            raise ValueError("URL must not end with '/'")
        return value


class RucioConfig(StrictModel):
    """The Rucio JupyterLab extension and the Rucio client configuration."""

    instances: list[RucioInstance] = Field(min_length=1, description="Rucio instances.")
    default_instance: str | None = Field(default=None, description="Instance selected first.")
    default_auth_type: Literal["oidc", "x509", "x509_proxy", "userpass"] = Field(
        default="oidc", description="Authentication type."
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field(default="info", description="Log level.")


class EosKeytab(SecretRef):
    """The sss keytab Secret, and whether its key skips xrootd's client address check."""

    noipck: bool = Field(
        default=False,
        description="The keytab's key name ends in `+` (xrootd's no-IP-check flag, e.g. made "
        "with `xrdsssadmin -k <name>+ add`): the MGM then accepts sss from any source address, "
        "so eosxd needs no hostNetwork to reach an MGM outside the cluster.",
    )


class EosInstance(StrictModel):
    """One EOS instance mounted by eosxd."""

    name: DnsLabel = Field(description="Instance name (`fuse.<name>.conf`, `-ofsname=<name>`).")
    mgm: str = Field(description="MGM host[:port], e.g. `eoseulake.cern.ch`.", pattern=r"^[a-z0-9.-]+(:[0-9]+)?$")
    remote_mount_dir: AbsPath = Field(description="EOS directory mounted, e.g. `/eos/eulake/`.")
    sss: bool = Field(default=True, description="Use the sss keytab (carries OAuth2 endorsements).")
    oauth2: bool = Field(default=True, description="Accept users' OAuth2 token files.")


class EosConfig(StrictModel):
    """EOS FUSEx mounts: a privileged eosxd DaemonSet, or the eosxd-csi driver through a PVC."""

    mode: Literal["daemonset", "csi"] = Field(
        default="daemonset", description="`daemonset` for generic clusters, `csi` for eosxd-csi."
    )
    namespace: DnsLabel = Field(default="eos", description="Namespace of the DaemonSet.")
    image: Image | None = Field(default=None, description="eosxd image (daemonset mode).")
    host_mount_root: AbsPath = Field(default="/var/eos", description="Host folder holding the mounts.")
    cache_dir: AbsPath = Field(default="/var/cache/eos", description="Host folder for the eosxd cache.")
    keytab: EosKeytab | None = Field(
        default=None, description="sss keytab Secret (in the EOS namespace; daemonset mode).")
    host_pid: bool = Field(
        default=True,
        description="Run eosxd in the node's PID namespace (daemonset mode). eosxd finds a "
        "caller's token through `/proc/<pid>/environ` (`OAUTH2_TOKEN`); without it, requests "
        "from user pods carry pid 0 and fall back to the sss identity. Required with oauth2.",
    )
    host_network: bool | None = Field(
        default=None,
        description="Run eosxd in the node's network namespace with dnsPolicy "
        "ClusterFirstWithHostNet (daemonset mode). Unset: on when an oauth2 instance's MGM is "
        "outside the cluster and the keytab is not `noipck` (oauth2 rides on sss, and sss "
        "rejects a client whose address the MGM sees differently, as with source-NATed pod "
        "traffic).",
    )
    storage_class: DnsSubdomain | None = Field(
        default=None,
        description="csi mode: the eosxd-csi StorageClass user pods' PVC is bound through; "
        "null: a static PersistentVolume of the driver is rendered for it.",
    )
    instances: list[EosInstance] = Field(min_length=1, description="EOS instances.")
    user_mount_path: AbsPath | None = Field(
        default="/eos",
        description="Where user pods see the host root, read-only with HostToContainer (each "
        "instance at `<path>/<name>`); null: no EOS mount in user pods.",
    )
    token_service: SERVICE | None = Field(
        default="eos",
        description="Which `auth.token_exchange.audiences` entry EOS accepts; null: the raw "
        "access token.",
    )


class ScratchCleanup(StrictModel):
    """The CronJob that empties old scratch files."""

    schedule: str = Field(default="17 * * * *", description="Cron schedule (5 fields).")
    image: Image = Field(
        default_factory=lambda: Image(name="docker.io/library/busybox", tag="1.37.0"),
        description="Small image with `sh`, `find`, `xargs`, `rm` and `rmdir` (busybox).",
    )
    endorsement: SecretRef | None = Field(
        default=None,
        description="Secret key (in the hub namespace) holding the sss endorsement the job "
        "presents to EOS as `XrdSecsssENDORSEMENT`. Required: through the shared eosxd mount "
        "the job is otherwise the sss keytab's user, which may delete nothing. The MGM maps the "
        "key to an account allowed to delete in the scratch tree (`vid set map -sss "
        "key:<key> vuid:<uid> vgid:<gid>` plus `vid add gateway <node> sss`; see the scratch "
        "docs).",
    )

    @field_validator("schedule")
    @classmethod
    def _check_cron(cls, value: str) -> str:
        if not CRON.match(value.strip()):
            raise ValueError(f"{value!r} is not a 5-field cron schedule")
        return value


class ScratchConfig(StrictModel):
    """A writable scratch area on EOS, cleaned by age."""

    eos_instance: DnsLabel = Field(description="EOS instance holding the scratch folder.")
    sub_path: str = Field(description="Folder inside the instance mount.", pattern=r"^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$")
    mount_path: AbsPath = Field(default="/scratch", description="Path in user pods.")
    env_var: str = Field(default="SCRATCH", description="Variable holding the user's folder.", pattern=r"^[A-Z_][A-Z0-9_]*$")
    retention_hours: int = Field(default=48, ge=1, description="Files older than this are deleted.")
    max_transfer_hours: int = Field(default=12, ge=0, description="Longest expected first transfer.")
    cleanup: ScratchCleanup = Field(default_factory=ScratchCleanup, description="Cleanup job.")
    rse: str | None = Field(default=None, description="Scratch RSE name when scratch is an RSE.")
    pfn_prefix: str | None = Field(
        default=None, description="PFN of the scratch folder root on that RSE, e.g. "
        "`root://eoseulake.cern.ch:1094//eos/eulake/scratch`.", pattern=r"^(root|davs|https)://\S+$",
    )
    rule_lifetime_hours: int = Field(default=24, ge=1, description="Short rule on the scratch RSE.")


class UploadConfig(StrictModel):
    """The `datalakectl` upload command in user pods."""

    command: str = Field(default="datalakectl", pattern=r"^[a-z][a-z0-9_-]*$", description="Command name.")
    bin_dir: AbsPath = Field(default="/usr/local/bin", description="Folder already on PATH in the image.")
    mode: Literal["register", "copy"] = Field(
        default="register", description="`register` in place (scratch is an RSE) or `copy`."
    )
    upload_rse: str | None = Field(default=None, description="RSE uploads go to (copy mode).")
    default_rse: str = Field(description="Default destination RSE expression.")
    default_lifetime: str = Field(default="30d", description="Default rule lifetime.")
    max_lifetime: str = Field(default="365d", description="Longest rule lifetime allowed.")
    scope_template: str = Field(default="user.{account}", description="Default scope.")

    @field_validator("default_lifetime", "max_lifetime")
    @classmethod
    def _check_lifetime(cls, value: str) -> str:
        if not LIFETIME.match(value):
            raise ValueError(f"{value!r} is not a lifetime (e.g. 3600, 12h, 30d)")
        return value
