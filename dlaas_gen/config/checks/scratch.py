"""Checks of ``scratch:``: on a defined EOS instance, never over an RSE, cleaned by someone who may.

Why: the cleanup deletes by age; pointed at an RSE's folder it would delete replicas behind
Rucio's back, and without an identity that may delete it reports success and deletes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import PurePosixPath

from dlaas_gen.config.checks.finding import Finding
from dlaas_gen.config.derived import (
    eos_host_path,
    remote_dir,
    rse_location,
    scratch_host_path,
    under,
)
from dlaas_gen.config.site import SiteConfig


def check_scratch(site: SiteConfig) -> Iterator[Finding]:
    """Scratch lies on a defined instance, away from RSEs and the read-only mount."""
    scratch = site.scratch
    if scratch is None:
        return
    if site.eos is None or scratch.eos_instance not in [i.name for i in site.eos.instances]:
        yield (("scratch", "eos_instance"), "error",
               f"EOS instance {scratch.eos_instance!r} is not defined in eos.instances")
        return
    yield from _scratch_rse(site)
    yield from _away_from_rses(site)
    root = site.eos.user_mount_path
    if root and (under(scratch.mount_path, root) or under(root, scratch.mount_path)):
        yield (("scratch", "mount_path"), "error",
               f"scratch mount path {scratch.mount_path} overlaps the read-only EOS mount {root}")
    yield from _cleanup_identity(site)


def _scratch_rse(site: SiteConfig) -> Iterator[Finding]:
    """A scratch RSE: its PFN prefix is the scratch folder, its rules outlive no file."""
    scratch, eos = site.scratch, site.eos
    assert scratch is not None and eos is not None
    if scratch.rse and not scratch.pfn_prefix:
        yield (("scratch", "rse"), "error", "a scratch RSE needs scratch.pfn_prefix")
    if scratch.pfn_prefix:
        remote = remote_dir(eos, scratch.eos_instance) or "/"
        expected = str(PurePosixPath(remote) / scratch.sub_path)
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
                   f"{scratch.max_transfer_hours} = {budget} h), or files vanish before FTS "
                   "copies them")


def _away_from_rses(site: SiteConfig) -> Iterator[Finding]:
    """The scratch folder holds no RSE mounted for Rucio (the cleanup would delete its files)."""
    assert site.eos is not None
    host = scratch_host_path(site)
    for inst in site.rucio.instances if site.rucio else []:
        location = rse_location(site, inst.rse_mount_path) if inst.rse_mount_path else None
        if location is None:
            continue
        rse_host = eos_host_path(site.eos, *location)
        if under(rse_host, host):
            yield (("scratch", "sub_path"), "error",
                   f"scratch ({host}) equals or contains the RSE mounted at {inst.rse_mount_path} "
                   f"({rse_host}); cleaning scratch would delete RSE files behind Rucio's back")


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
        at_cleanup = "cleanup" in site.scratch.model_fields_set
        yield (("scratch", "cleanup") if at_cleanup else ("scratch",), "error",
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
