"""Checks of ``rucio:``: each instance complete for its mode, replica paths that map to files.

Why: in replica mode the extension turns a PFN into a path under an EOS mount
(rucio-jupyterlab ``ReplicaModeHandler``); a mount, a ``path_begins_at`` or an RSE prefix that
disagree give users paths that are not the replica, which only shows in a notebook.
"""

from __future__ import annotations

from collections.abc import Iterator

from dlaas_gen.config.checks.finding import Finding, Loc
from dlaas_gen.config.derived import mounted_eos_dir, path_begins_at, pod_path, rse_location, under
from dlaas_gen.config.rucio import RucioInstance
from dlaas_gen.config.site import SiteConfig


def check_rucio(site: SiteConfig) -> Iterator[Finding]:
    """Instances are complete for their mode, and replica paths map onto the EOS mount."""
    rucio = site.rucio
    if rucio is None:
        return
    names = [i.name for i in rucio.instances]
    for index, inst in enumerate(rucio.instances):
        loc = ("rucio", "instances", index)
        if names.index(inst.name) != index:
            yield ((*loc, "name"), "error", f"instance name {inst.name!r} is used twice")
        yield from _mode_needs(inst, loc)
        audiences = site.auth.token_exchange.audiences if site.auth else {}
        if inst.token_service not in audiences:
            yield ((*loc, "token_service"), "error",
                   f"token service {inst.token_service!r} is not in auth.token_exchange.audiences "
                   f"({', '.join(sorted(audiences)) or 'none'})")
        if inst.mode == "replica" and inst.rse_mount_path:
            yield from _replica_mount(site, inst, loc)
    if rucio.default_instance is not None and rucio.default_instance not in names:
        yield (("rucio", "default_instance"), "error",
               f"default_instance {rucio.default_instance!r} is not an instance name")


def _mode_needs(inst: RucioInstance, loc: Loc) -> Iterator[Finding]:
    """The fields the instance's mode needs: the mounted RSE (replica), a CA bundle (download)."""
    if inst.mode == "replica":
        for key in ("destination_rse", "rse_mount_path"):
            if getattr(inst, key) is None:
                yield ((*loc, "mode"), "error", f"replica mode needs {key}")
    if inst.mode == "download" and inst.ca_cert is None:
        yield ((*loc, "mode"), "error", "download mode needs ca_cert")


def _replica_mount(site: SiteConfig, inst: RucioInstance, loc: Loc) -> Iterator[Finding]:
    """``rse_mount_path`` is under the user EOS mount and agrees with ``path_begins_at``."""
    assert inst.rse_mount_path is not None
    if rse_location(site, inst.rse_mount_path) is None:
        root = site.eos.user_mount_path if site.eos else None
        yield ((*loc, "rse_mount_path"), "error",
               f"{inst.rse_mount_path} is not under an EOS instance mounted in user pods "
               f"({root or 'no eos.user_mount_path'}/<instance>/...)")
        return
    derived = path_begins_at(site, inst.rse_mount_path)
    if inst.path_begins_at is not None and inst.path_begins_at != derived:
        yield ((*loc, "path_begins_at"), "error",
               f"path_begins_at {inst.path_begins_at} does not match the mount: the "
               f"EOS directory shown at {inst.rse_mount_path} has {derived} path "
               "components")
    yield from _check_rse_prefix(site, inst, loc)


def _check_rse_prefix(site: SiteConfig, inst: RucioInstance, loc: Loc) -> Iterator[Finding]:
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
    if not under(inst.rse_prefix, mounted):
        shown = pod_path(site, inst.rse_prefix)
        where = f"user pods see it at {shown}" if shown else "no EOS instance mounts it"
        yield ((*loc, "rse_mount_path"), "error",
               f"{inst.rse_mount_path} shows the EOS directory {mounted}, which does not hold "
               f"the prefix of RSE {inst.destination_rse or '?'} ({inst.rse_prefix}; {where}): "
               "the extension would map the RSE's PFNs to paths that are not its files")
