"""Cross-section invariants of the data-lake sections (auth, Rucio, EOS, scratch, upload).

Why: each rule here spans two sections that pydantic validates separately (a token service
named in Rucio must be exchanged by auth; a mount path must exist; lifetimes must fit), and a
wrong combination would only fail in a user's notebook.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import PurePosixPath

from dlaas_gen.config.checks import Finding, check
from dlaas_gen.config.datalake import EosConfig, RucioInstance
from dlaas_gen.config.site import SiteConfig
from dlaas_gen.config.derived import (
    eos_host_network,
    eos_host_path,
    eos_oauth2_external,
    lifetime_seconds,
    mounted_eos_dir,
    path_begins_at,
    pod_path,
    remote_dir,
    rse_location,
    scratch_host_path,
)


KEYCLOAK_ISSUER = re.compile(r"/realms/[^/?#]+/?$")


def _under(child: str, parent: str) -> bool:
    child_path, parent_path = PurePosixPath(child), PurePosixPath(parent)
    return child_path == parent_path or parent_path in child_path.parents


@check
def _check_auth(site: SiteConfig) -> Iterator[Finding]:
    auth = site.auth
    if auth is None:
        if site.rucio or site.eos or site.upload:
            yield (("rucio",) if site.rucio else ("eos",) if site.eos else ("upload",), "error",
                   "the data-lake sections need `auth:` (tokens come from the IAM login)")
        return
    if auth.provider == "keycloak" and not KEYCLOAK_ISSUER.search(auth.issuer):
        # Why: Keycloak's issuer is <base>/realms/<realm> (keycloak Urls.realmIssuer), and the
        # endpoints are derived below it (<issuer>/protocol/openid-connect/...).
        yield (("auth", "issuer"), "error",
               f"a Keycloak issuer ends with /realms/<realm> (e.g. "
               f"{auth.issuer.rstrip('/')}/realms/myrealm); without it every login URL is wrong")
    if auth.provider == "custom":
        for key in ("authorize_url", "token_url", "userinfo_url"):
            if getattr(auth, key) is None:
                yield (("auth", "provider"), "error", f"provider custom needs auth.{key}")
    if site.ingress is None:
        yield (("auth",), "error", "auth needs `ingress.host` to derive the OAuth callback URL")
    if auth.allow.mode == "users" and not auth.allow.users:
        yield (("auth", "allow", "mode"), "error", "allow mode users needs a non-empty `users` list")
    if auth.allow.mode == "groups" and not auth.allow.groups:
        yield (("auth", "allow", "mode"), "error", "allow mode groups needs a non-empty `groups` list")
    if "openid" not in auth.scopes:
        yield (("auth", "scopes"), "error", "scopes must include openid")
    if "offline_access" not in auth.scopes:
        yield (("auth", "scopes"), "warning", "without offline_access there is no refresh token: "
               "token files stop working when the access token expires (~1 h)")
    if len(set(auth.token_exchange.audiences.values())) != len(auth.token_exchange.audiences):
        yield (("auth", "token_exchange", "audiences"), "warning",
               "two services share an audience; one exchange serves both")


@check
def _check_rucio(site: SiteConfig) -> Iterator[Finding]:
    rucio = site.rucio
    if rucio is None:
        return
    names = [i.name for i in rucio.instances]
    for index, inst in enumerate(rucio.instances):
        loc = ("rucio", "instances", index)
        if names.index(inst.name) != index:
            yield ((*loc, "name"), "error", f"instance name {inst.name!r} is used twice")
        if inst.mode == "replica":
            for key in ("destination_rse", "rse_mount_path"):
                if getattr(inst, key) is None:
                    yield ((*loc, "mode"), "error", f"replica mode needs {key}")
        if inst.mode == "download" and inst.ca_cert is None:
            yield ((*loc, "mode"), "error", "download mode needs ca_cert")
        audiences = site.auth.token_exchange.audiences if site.auth else {}
        if inst.token_service not in audiences:
            yield ((*loc, "token_service"), "error",
                   f"token service {inst.token_service!r} is not in auth.token_exchange.audiences "
                   f"({', '.join(sorted(audiences)) or 'none'})")
        if inst.mode == "replica" and inst.rse_mount_path:
            if rse_location(site, inst.rse_mount_path) is None:
                root = site.eos.user_mount_path if site.eos else None
                yield ((*loc, "rse_mount_path"), "error",
                       f"{inst.rse_mount_path} is not under an EOS instance mounted in user pods "
                       f"({root or 'no eos.user_mount_path'}/<instance>/...)")
            else:
                derived = path_begins_at(site, inst.rse_mount_path)
                if inst.path_begins_at is not None and inst.path_begins_at != derived:
                    yield ((*loc, "path_begins_at"), "error",
                           f"path_begins_at {inst.path_begins_at} does not match the mount: the "
                           f"EOS directory shown at {inst.rse_mount_path} has {derived} path "
                           "components")
                yield from _check_rse_prefix(site, inst, loc)
    if rucio.default_instance is not None and rucio.default_instance not in names:
        yield (("rucio", "default_instance"), "error",
               f"default_instance {rucio.default_instance!r} is not an instance name")


def _check_rse_prefix(site: SiteConfig, inst: RucioInstance, loc: tuple) -> Iterator[Finding]:
    """The RSE's real prefix must lie in the EOS directory shown at ``rse_mount_path``.

    Why: the extension keeps what follows the first ``path_begins_at`` components of a PFN's
    path and joins it to ``rse_mount_path`` (rucio-jupyterlab ``ReplicaModeHandler.
    translate_pfn_to_path`` / ``get_path_after_nth_slash``). With ``path_begins_at`` = depth of
    the mounted EOS directory M, a PFN ``<prefix>/<scope>/<hash>/<name>`` lands on its own file
    only when the prefix is M or below it; otherwise users open a path that is not the replica.
    """
    if inst.rse_mount_path is None:
        return
    mounted = mounted_eos_dir(site, inst.rse_mount_path)
    if mounted is None:
        return
    if inst.rse_prefix is None:
        yield ((*loc, "rse_mount_path"), "warning",
               f"path_begins_at cannot be checked against RSE {inst.destination_rse or '?'}'s "
               "real prefix: set rse_prefix (its protocol prefix, `rucio-admin rse info "
               f"{inst.destination_rse or '<RSE>'}`) so that render checks the extension maps its "
               "PFNs to the files under the mount")
        return
    if not _under(inst.rse_prefix, mounted):
        shown = pod_path(site, inst.rse_prefix)
        where = f"user pods see it at {shown}" if shown else "no EOS instance mounts it"
        yield ((*loc, "rse_mount_path"), "error",
               f"{inst.rse_mount_path} shows the EOS directory {mounted}, which does not hold "
               f"the prefix of RSE {inst.destination_rse or '?'} ({inst.rse_prefix}; {where}): "
               "the extension would map the RSE's PFNs to paths that are not its files")


@check
def _check_eos(site: SiteConfig) -> Iterator[Finding]:
    eos = site.eos
    if eos is None:
        return
    names = [i.name for i in eos.instances]
    for index, name in enumerate(names):
        if names.index(name) != index:
            yield (("eos", "instances", index, "name"), "error", f"instance {name!r} is defined twice")
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
    """The eosxd DaemonSet with oauth2 needs the node's PID namespace, and its network too when
    the MGM is outside the cluster (unless the keytab skips sss's address check).

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


@check
def _check_scratch(site: SiteConfig) -> Iterator[Finding]:
    scratch = site.scratch
    if scratch is None:
        return
    if site.eos is None or scratch.eos_instance not in [i.name for i in site.eos.instances]:
        yield (("scratch", "eos_instance"), "error",
               f"EOS instance {scratch.eos_instance!r} is not defined in eos.instances")
        return
    if scratch.rse and not scratch.pfn_prefix:
        yield (("scratch", "rse"), "error", "a scratch RSE needs scratch.pfn_prefix")
    if scratch.pfn_prefix:
        expected = str(PurePosixPath(remote_dir(site.eos, scratch.eos_instance) or "/") / scratch.sub_path)
        pfn_path = "/" + scratch.pfn_prefix.split("://", 1)[1].split("/", 1)[-1].lstrip("/")
        if PurePosixPath(pfn_path) != PurePosixPath(expected):
            yield (("scratch", "pfn_prefix"), "error",
                   f"the PFN path {pfn_path} is not the scratch folder's EOS path {expected}; "
                   "registered replicas would point at other files")
    if scratch.rse:
        budget = scratch.retention_hours - scratch.max_transfer_hours
        if scratch.rule_lifetime_hours >= budget:
            yield (("scratch", "rule_lifetime_hours"), "error",
                   f"the scratch rule lifetime ({scratch.rule_lifetime_hours} h) must be below the "
                   f"retention minus the longest transfer ({scratch.retention_hours} - "
                   f"{scratch.max_transfer_hours} = {budget} h), or files vanish before FTS copies them")
    host = scratch_host_path(site)
    for inst in site.rucio.instances if site.rucio else []:
        location = rse_location(site, inst.rse_mount_path) if inst.rse_mount_path else None
        if location is None:
            continue
        rse_host = eos_host_path(site.eos, *location)
        if _under(rse_host, host):
            yield (("scratch", "sub_path"), "error",
                   f"scratch ({host}) equals or contains the RSE mounted at {inst.rse_mount_path} "
                   f"({rse_host}); cleaning scratch would delete RSE files behind Rucio's back")
    root = site.eos.user_mount_path
    if root and (_under(scratch.mount_path, root) or _under(root, scratch.mount_path)):
        yield (("scratch", "mount_path"), "error",
               f"scratch mount path {scratch.mount_path} overlaps the read-only EOS mount {root}")
    yield from _cleanup_identity(site)


def _cleanup_identity(site: SiteConfig) -> Iterator[Finding]:
    """The cleanup CronJob needs an EOS identity that may delete, carried by sss.

    Why: through the shared eosxd mount a process without credentials is the sss keytab's
    user, which the seed maps to a powerless ``nobody``; the job then deleted nothing and
    reported success. eosxd forwards a process's ``XrdSecsssENDORSEMENT`` with its sss login
    (EOS ``fusex/auth/BoundIdentityProvider.cc``, ``sssEnvToBoundIdentity``), read from
    ``/proc/<pid>/environ`` (so eosxd needs the host PID namespace), and the MGM maps the key
    of a gateway host with ``vid set map -sss key:<key>`` (EOS ``common/Mapping.cc``).
    """
    assert site.scratch is not None and site.eos is not None
    cleanup = site.scratch.cleanup
    if cleanup.endorsement is None:
        yield (("scratch", "cleanup") if "cleanup" in site.scratch.model_fields_set else ("scratch",),
               "error",
               "the scratch cleanup needs an EOS identity that may delete: set "
               "scratch.cleanup.endorsement (a Secret key holding an sss endorsement the MGM "
               "maps to an account with delete rights on the scratch folder); without it the "
               "job is the sss keytab's user and deletes nothing")
        return
    inst = next(i for i in site.eos.instances if i.name == site.scratch.eos_instance)
    if not inst.sss:
        yield (("scratch", "cleanup", "endorsement"), "error",
               f"the endorsement rides on sss, but EOS instance {inst.name!r} has sss: false")
    if site.eos.mode == "daemonset" and not site.eos.host_pid:
        yield (("scratch", "cleanup", "endorsement"), "error",
               "eosxd reads the endorsement from the job's /proc/<pid>/environ: the eosxd "
               "DaemonSet needs eos.host_pid: true")


@check
def _check_upload(site: SiteConfig) -> Iterator[Finding]:
    upload = site.upload
    if upload is None:
        return
    if site.scratch is None:
        yield (("upload",), "error", "the upload command needs `scratch:`")
    elif upload.mode == "register" and not site.scratch.rse:
        yield (("upload", "mode"), "error", "register mode needs a scratch RSE (scratch.rse); "
               "use mode: copy when scratch is not an RSE")
    if upload.mode == "copy" and not upload.upload_rse:
        yield (("upload", "mode"), "error", "copy mode needs upload.upload_rse")
    if site.rucio is None:
        yield (("upload",), "error", "the upload command needs `rucio:`")
    if lifetime_seconds(upload.default_lifetime) > lifetime_seconds(upload.max_lifetime):
        yield (("upload", "default_lifetime"), "error", "default_lifetime exceeds max_lifetime")
