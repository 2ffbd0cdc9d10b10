"""The ``eos:`` section: EOS FUSEx mounts through an eosxd DaemonSet or the eosxd-csi driver.

Why: user pods read the Data Lake's EOS through a FUSE mount on the node; the mode, the host
folders and the instances are configured here, the namespace rules of eosxd (host PID and
network) are checked in `dlaas_gen.config.checks.eos`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from dlaas_gen.config.auth import SERVICE
from dlaas_gen.config.base import AbsPath, Image, SecretRef, StrictModel
from dlaas_gen.names import DnsLabel, DnsSubdomain


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
    mgm: str = Field(description="MGM host[:port], e.g. `eoseulake.cern.ch`.",
                     pattern=r"^[a-z0-9.-]+(:[0-9]+)?$")
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
    host_mount_root: AbsPath = Field(
        default="/var/eos", description="Host folder holding the mounts.")
    cache_dir: AbsPath = Field(
        default="/var/cache/eos", description="Host folder for the eosxd cache.")
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
