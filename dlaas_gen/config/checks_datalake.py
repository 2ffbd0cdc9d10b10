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
from dlaas_gen.config.site import SiteConfig
from dlaas_gen.config.derived import (
    eos_host_path,
    lifetime_seconds,
    path_begins_at,
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
    if rucio.default_instance is not None and rucio.default_instance not in names:
        yield (("rucio", "default_instance"), "error",
               f"default_instance {rucio.default_instance!r} is not an instance name")


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
