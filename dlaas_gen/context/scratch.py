"""The scratch area: a writable EOS folder in user pods and the CronJob that ages it out.

Why: retention is enforced by file age with minute arithmetic (``-mmin``), never touching the
per-user top folders (``-mindepth 2``) and never following symlinks (find's default), on a node
where the FUSE mount exists (same node selector and tolerations as user pods). The job presents
an sss endorsement (``XrdSecsssENDORSEMENT``) that the MGM maps to an account allowed to delete;
without it, it is the powerless sss keytab user. It fails (exit 1) when anything old could not
be deleted, instead of reporting success.
"""

from __future__ import annotations

from typing import Any

from dlaas_gen.config.derived import scratch_host_path
from dlaas_gen.context.common import common_labels
from dlaas_gen.context.eos import CSI_VOLUME, csi_volume_names
from dlaas_gen.context.model import SiteContext, SiteInput
from dlaas_gen.context.template_vars import ScratchCronJobVars, SecretEnv

#: The site-file section of the CronJob.
SECTION = ("scratch",)
CRONJOB = "scratch-cleanup"
VOLUME = "dlaas-scratch"
MOUNT = "/scratch"
#: busybox's ``nobody``. Why a fixed non-root uid: eosxd decides by the credentials the process
#: presents (the endorsement), not by its uid, unless the keytab is ``anybody``/``anygroup``
#: (EOS ``fusex/README.md``, "Mounting with sss credentials"); root would add nothing.
CLEANUP_UID = 65534
#: eosxd reads this variable from the calling process (EOS ``fusex/auth/BoundIdentityProvider.cc``).
ENDORSEMENT_ENV = "XrdSecsssENDORSEMENT"


def cleanup_command(mount: str, retention_hours: int) -> list[str]:
    """The cleanup command: files older than the retention, then emptied sub-folders.

    Why ``-print0 | xargs -0 rm``, not ``-delete``: busybox ``find -delete`` only prints an
    unlink error and still exits 0 (busybox ``findutils/find.c``, ``ACTF(delete)``), Debian's
    busybox lacks ``-delete``, and busybox reports a failing ``-exec ... +`` batch only for the
    last batch; ``xargs`` exits 123 when any ``rm`` fails (busybox ``findutils/xargs.c``), and
    ``pipefail`` also keeps ``find``'s own errors (an unreadable folder). ``rm -f`` removes a
    symlink, never its target. Nested empty folders go one level per run: a folder whose
    child was just removed is new again.
    """
    minutes = retention_hours * 60
    script = (
        "set -o pipefail; rc=0; "
        f"find {mount} -xdev -mindepth 2 ! -type d -mmin +{minutes} -print0 "
        "| xargs -0 -r -t rm -f || rc=1; "
        f"find {mount} -xdev -mindepth 2 -depth -type d -empty -mmin +{minutes} -print0 "
        "| xargs -0 -r -t rmdir || rc=1; "
        f'[ "$rc" = 0 ] || echo "scratch-cleanup: some entries older than {retention_hours} h '
        "could not be deleted (does the EOS account mapped to the endorsement have delete "
        'rights?)" >&2; '
        'exit "$rc"'
    )
    return ["/bin/sh", "-c", script]


def contribute(site: SiteInput, out: SiteContext) -> None:
    """Mount scratch in user pods (``$SCRATCH`` per user) and add the cleanup CronJob."""
    config = site.config
    scratch = config.scratch
    if scratch is None or config.eos is None:
        return
    host = scratch_host_path(config)
    claim = sub_path = None
    volumes: list[dict[str, Any]]
    if config.eos.mode == "csi":
        # Why: in csi mode EOS reaches pods only through the driver's PVC (no hostPath); the
        # scratch folder is that volume's sub-path <instance>/<sub_path> (autofs mounts the
        # instance when the sub-path is resolved at container start).
        # One volume per claim: the EOS volume of the user mount is reused when there is one.
        claim, _ = csi_volume_names(config)
        sub_path = f"{scratch.eos_instance}/{scratch.sub_path}"
        volumes = [] if config.eos.user_mount_path is not None else [
            {"name": CSI_VOLUME, "persistentVolumeClaim": {"claimName": claim}}]
        mount: dict[str, Any] = {"name": CSI_VOLUME, "mountPath": scratch.mount_path,
                                 "subPath": sub_path, "mountPropagation": "HostToContainer"}
    else:
        volumes = [{"name": VOLUME, "hostPath": {"path": host, "type": "Directory"}}]
        mount = {"name": VOLUME, "mountPath": scratch.mount_path,
                 "mountPropagation": "HostToContainer"}
        out.mount_host_paths(host)  # user pods and the cleanup job
    out.hub.add({"singleuser": {
        "storage": {"extraVolumes": volumes, "extraVolumeMounts": [mount]},
        # KubeSpawner expands {username} in environment values.
        "extraEnv": {scratch.env_var: f"{scratch.mount_path}/{{username}}"},
    }})
    # Why not a mkdir step: only the token renewer knows when the EOS token file exists.
    out.hub.token_dirs.append(scratch.env_var)
    su = config.singleuser
    cleanup = scratch.cleanup
    endorsement = None
    if cleanup.endorsement is not None:
        endorsement = SecretEnv(ENDORSEMENT_ENV, cleanup.endorsement.name, cleanup.endorsement.key)
        out.add_secret(config.namespace, cleanup.endorsement.name, cleanup.endorsement.key,
                       f"CronJob {CRONJOB} env {ENDORSEMENT_ENV}",
                       "sss endorsement the MGM maps to the scratch cleanup account")
    out.add("apps", SECTION, ScratchCronJobVars(
        name=CRONJOB,
        namespace=config.namespace,
        labels=common_labels(site.name, "scratch"),
        schedule=cleanup.schedule,
        image=cleanup.image.ref(),
        command=cleanup_command(MOUNT, scratch.retention_hours),
        mount=MOUNT,
        uid=CLEANUP_UID,
        endorsement=endorsement,
        host_path=host,
        claim=claim,
        sub_path=sub_path,
        node_selector=dict(su.node_selector),
        tolerations=[t.model_dump(exclude_none=True) for t in su.tolerations],
    ))
