"""Checks of ``eos:``: what each mode needs, and the namespaces eosxd shares with the node.

Why: a keytab the csi driver never reads, or an eosxd that cannot see user processes, leaves
users with the sss identity instead of their own; the reasons are in `_eosxd_namespaces`.
"""

from __future__ import annotations

from collections.abc import Iterator

from dlaas_gen.config.checks.finding import Finding
from dlaas_gen.config.derived import eos_host_network, eos_oauth2_external
from dlaas_gen.config.eos import EosConfig
from dlaas_gen.config.site import SiteConfig


def check_eos(site: SiteConfig) -> Iterator[Finding]:
    """The mode has what it needs, and eosxd shares the namespaces oauth2 relies on."""
    eos = site.eos
    if eos is None:
        return
    names = [i.name for i in eos.instances]
    for index, name in enumerate(names):
        if names.index(name) != index:
            yield (("eos", "instances", index, "name"), "error",
                   f"instance {name!r} is defined twice")
    if eos.mode == "daemonset" and eos.image is None:
        yield (("eos", "mode"), "error", "daemonset mode needs eos.image")
    if eos.mode == "daemonset" and any(i.sss for i in eos.instances) and eos.keytab is None:
        yield (("eos",), "error", "sss authentication needs eos.keytab (a Secret reference)")
    if eos.mode == "csi" and eos.keytab is not None:
        # Why: the eosxd-csi chart mounts its own Secret eos-csi-file-etc-eos-keytab (key
        # eos.keytab) at /etc/eos.keytab in the node plugin (deployments/helm/eosxd-csi/
        # values.yaml); a Secret named here would never reach eosxd.
        yield (("eos", "keytab"), "error",
               "csi mode: the eosxd-csi chart reads the sss keytab from its own Secret "
               "eos-csi-file-etc-eos-keytab (key eos.keytab); remove eos.keytab and give the "
               "keytab to the driver's administrator (`dlaas-gen secrets` lists it)")
    if eos.mode == "daemonset" and eos.storage_class is not None:
        yield (("eos", "storage_class"), "error", "storage_class is for csi mode (eosxd-csi)")
    audiences = site.auth.token_exchange.audiences if site.auth else {}
    if eos.token_service is not None and eos.token_service not in audiences:
        yield (("eos", "token_service"), "error",
               f"token service {eos.token_service!r} is not in auth.token_exchange.audiences "
               f"({', '.join(sorted(audiences)) or 'none'})")
    yield from _eosxd_namespaces(eos)


def _eosxd_namespaces(eos: EosConfig) -> Iterator[Finding]:
    """The oauth2 eosxd DaemonSet shares the node's PID namespace, and its network if needed.

    The network is needed when the MGM is outside the cluster, unless the keytab skips sss's
    address check.

    Why: the kernel gives a FUSE request the caller's pid as seen from the mounting daemon's PID
    namespace, 0 when the caller is not in it (Linux ``fs/fuse``: ``pid_nr_ns(..., fc->pid_ns)``);
    eosxd reads ``OAUTH2_TOKEN`` from ``/proc/<pid>/environ`` (EOS ``fusex/auth``:
    ``EnvironmentReader``, ``BoundIdentityProvider::pidEnvironmentToBoundIdentity``). The
    token travels as an sss endorsement, and the sss server refuses a client whose address
    differs from the connection's source unless its key name ends in ``+`` (xrootd
    ``XrdSecProtocolsss::Authenticate``). EOS's fusex chart and eosxd-csi set ``hostPID``;
    eosxd-csi sets ``hostNetwork`` "when using OAuth2-based auth, as it relies on SSS".
    """
    if eos.mode != "daemonset":
        for key in ("host_pid", "host_network"):
            if key in eos.model_fields_set:
                yield (("eos", key), "warning",
                       f"eos.{key} applies to the daemonset mode only; eosxd-csi's chart sets "
                       "hostPID and hostNetwork (nodeplugin.hostNetwork, keep it true for oauth2)")
        return
    oauth2 = [n for n, inst in enumerate(eos.instances) if inst.oauth2]
    if not oauth2:
        return
    if not eos.host_pid:
        name = eos.instances[oauth2[0]].name
        yield (("eos", "host_pid"), "error",
               f"instance {name!r} uses oauth2: eosxd needs host_pid: true to read a user "
               "process's OAUTH2_TOKEN from /proc/<pid>/environ (from its own PID namespace a "
               "request from a user pod carries pid 0, and eosxd falls back to the sss identity)")
    external = eos_oauth2_external(eos)
    noipck = eos.keytab is not None and eos.keytab.noipck
    if external and not noipck and not eos_host_network(eos):
        inst = eos.instances[external[0]]
        yield (("eos", "host_network"), "error",
               f"instance {inst.name!r} uses oauth2 with the MGM {inst.mgm} outside the cluster: "
               "oauth2 rides on sss, and sss rejects a client whose address the MGM sees "
               "differently (pod traffic is source-NATed to the node's address); remove "
               "host_network: false, or use a keytab whose key name ends in '+' and set "
               "eos.keytab.noipck: true")
