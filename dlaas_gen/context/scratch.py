"""The scratch area: a writable EOS folder in user pods and the CronJob that ages it out.

Why: retention is enforced by file age with minute arithmetic (``-mmin``), never touching the
per-user top folders (``-mindepth 2``) and never following symlinks (``find -P``), on a node
where the FUSE mount exists (same node selector and tolerations as user pods).
"""

from __future__ import annotations

from dlaas_gen.config.site import SiteConfig
from dlaas_gen.context.common import common_labels
from dlaas_gen.context.jupyterhub import HubValues
from dlaas_gen.context.model import ObjectSpec, SiteContext
from dlaas_gen.config.derived import scratch_host_path
from dlaas_gen.context.eos import CSI_VOLUME, csi_volume_names

CRONJOB = "scratch-cleanup"
VOLUME = "dlaas-scratch"


def cleanup_command(mount: str, retention_hours: int) -> list[str]:
    """The cleanup command: files older than the retention, then emptied sub-folders."""
    minutes = retention_hours * 60
    script = (
        f"find -P {mount} -xdev -mindepth 2 ! -type d -mmin +{minutes} -print -delete; "
        f"find -P {mount} -xdev -mindepth 2 -type d -empty -mmin +{minutes} -print -delete; "
        "exit 0"
    )
    return ["/bin/sh", "-c", script]


def add_scratch(ctx: SiteContext, site_name: str, site: SiteConfig, hv: HubValues) -> None:
    """Mount scratch in user pods (``$SCRATCH`` per user) and add the cleanup CronJob."""
    scratch = site.scratch
    if scratch is None or site.eos is None:
        return
    host = scratch_host_path(site)
    claim = sub_path = None
    if site.eos.mode == "csi":
        # Why: in csi mode EOS reaches pods only through the driver's PVC (no hostPath); the
        # scratch folder is that volume's sub-path <instance>/<sub_path> (autofs mounts the
        # instance when the sub-path is resolved at container start).
        # One volume per claim: the EOS volume of the user mount is reused when there is one.
        claim, _ = csi_volume_names(site)
        sub_path = f"{scratch.eos_instance}/{scratch.sub_path}"
        volumes: list[dict] = [] if site.eos.user_mount_path is not None else [
            {"name": CSI_VOLUME, "persistentVolumeClaim": {"claimName": claim}}]
        mount: dict = {"name": CSI_VOLUME, "mountPath": scratch.mount_path, "subPath": sub_path,
                       "mountPropagation": "HostToContainer"}
    else:
        volumes = [{"name": VOLUME, "hostPath": {"path": host, "type": "Directory"}}]
        mount = {"name": VOLUME, "mountPath": scratch.mount_path, "mountPropagation": "HostToContainer"}
    hv.add({"singleuser": {
        "storage": {"extraVolumes": volumes, "extraVolumeMounts": [mount]},
        # KubeSpawner expands {username} in environment values.
        "extraEnv": {scratch.env_var: f"{scratch.mount_path}/{{username}}"},
    }})
    hv.post_start.append(f'mkdir -p "${scratch.env_var}"')
    su = site.singleuser
    ctx.add(ObjectSpec("scratch/cronjob.yaml.j2", "apps", "CronJob", CRONJOB, {
        "name": CRONJOB,
        "namespace": site.namespace,
        "labels": common_labels(site_name, "scratch"),
        "schedule": scratch.cleanup.schedule,
        "image": scratch.cleanup.image.ref(),
        "command": cleanup_command("/scratch", scratch.retention_hours),
        "host_path": host,
        "claim": claim,
        "sub_path": sub_path,
        "node_selector": dict(su.node_selector),
        "tolerations": [t.model_dump(exclude_none=True) for t in su.tolerations],
    }))
