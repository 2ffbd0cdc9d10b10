"""What user pods get from the data-lake sections: token files, Rucio config, upload command.

Why: everything is delivered as files from one ConfigMap, independent of any image's start
script; the file names agree in every place they are named (renewer config, extension config,
rucio.cfg ``auth_token_file_path``, ``OAUTH2_TOKEN=FILE:``) because each is computed once here.
"""

from __future__ import annotations

import configparser
import io
import json
from typing import Any

from dlaas_gen.config.derived import lifetime_seconds, path_begins_at
from dlaas_gen.config.site import SiteConfig
from dlaas_gen.context.auth import endpoints
from dlaas_gen.context.common import common_labels
from dlaas_gen.context.model import SiteContext, SiteInput
from dlaas_gen.context.template_vars import ConfigMapVars
from dlaas_gen.payloads import payload_text

#: The site-file section of the ConfigMap (its largest part is the Rucio configuration).
SECTION = ("rucio",)
CONFIGMAP = "dlaas-notebook-files"
VOLUME = "dlaas-notebook-files"
TOKEN_VOLUME = "dlaas-tokens"
RENEWER_DIR = "/opt/dlaas"
RUCIO_CFG = "/opt/rucio/etc/rucio.cfg"
#: Why: jupyter_server loads traitlets config (``RucioConfig``) only from
#: ``jupyter_server_config.{py,json}`` in each folder of
#: ``jupyter_core.paths.jupyter_config_path()`` (``JupyterApp.load_config_file``);
#: ``jupyter_server_config.d/*.json`` is read only for ``ServerApp.jpserver_extensions``
#: (``ServerApp.find_server_extensions``), so a RucioConfig there is ignored.
#: ``/usr/local/etc/jupyter`` is on the system part of that path, and the docker-stacks images
#: ship nothing there (their own ``jupyter_server_config.py`` is in ``/etc/jupyter``), so this
#: mount hides no file of the image. Rule ``jupyter-config-path``.
SERVER_CONFIG = "/usr/local/etc/jupyter/jupyter_server_config.json"
#: Why: ``IPKernelApp`` loads ``ipython_kernel_config.{py,json}`` from the profile folder, then
#: ``{sys.prefix}/etc/ipython`` and ``IPython.core.application.SYSTEM_CONFIG_DIRS``
#: (``/usr/local/etc/ipython``, ``/etc/ipython``); docker-stacks ships no IPython config.
KERNEL_CONFIG = "/etc/ipython/ipython_kernel_config.json"
DATALAKECTL_CONFIG = "/etc/datalakectl/config.json"


def token_file(site: SiteConfig, service: str | None) -> str:
    """Path of a token file in the pod (``access`` for the raw token)."""
    assert site.auth is not None
    return f"{site.auth.token_dir}/{service or 'access'}.token"


def _site_name(site: SiteConfig, explicit: str | None) -> str | None:
    if explicit:
        return explicit
    xcache = getattr(site, "xcache", None)
    return getattr(xcache, "site_name", None) if xcache is not None else None


def rucio_server_config(site: SiteConfig) -> dict[str, Any]:
    """``{"RucioConfig": ...}``: the server config file at SERVER_CONFIG.

    The keys are those of the extension's schema.
    """
    assert site.rucio is not None
    instances = []
    for inst in site.rucio.instances:
        entry: dict[str, Any] = {
            "name": inst.name, "display_name": inst.display_name,
            "rucio_base_url": inst.base_url, "mode": inst.mode,
        }
        optional: dict[str, str | int | None] = {
            "rucio_auth_url": inst.auth_url, "rucio_webui_url": inst.webui_url,
            "rucio_ca_cert": inst.ca_cert, "vo": inst.vo,
            "site_name": _site_name(site, inst.site_name),
        }
        if inst.mode == "replica":
            optional.update({
                "destination_rse": inst.destination_rse,
                "rse_mount_path": inst.rse_mount_path,
                "path_begins_at": inst.path_begins_at if inst.path_begins_at is not None
                else path_begins_at(site, inst.rse_mount_path or ""),
                "replication_rule_lifetime_days": inst.replication_rule_lifetime_days,
            })
        entry.update({k: v for k, v in optional.items() if v is not None})
        entry["wildcard_enabled"] = inst.wildcard_enabled
        entry.update({"oidc_auth": "file", "oidc_file_name": token_file(site, inst.token_service)})
        instances.append(entry)
    config: dict[str, Any] = {"instances": instances,
                              "default_auth_type": site.rucio.default_auth_type,
                              "log_level": site.rucio.log_level}
    if site.rucio.default_instance:
        config["default_instance"] = site.rucio.default_instance
    return {"RucioConfig": config}


def rucio_cfg(site: SiteConfig) -> str:
    """rucio.cfg for the Rucio client (first instance; the extension handles the others)."""
    assert site.rucio is not None and site.auth is not None
    inst = site.rucio.instances[0]
    parser = configparser.ConfigParser(interpolation=None)
    client = {
        "rucio_host": inst.base_url,
        "auth_host": inst.auth_url or inst.base_url,
        "auth_type": "oidc",
        "oidc_audience": site.auth.token_exchange.audiences.get(inst.token_service, "rucio"),
        "oidc_scope": " ".join(site.auth.scopes),
        "oidc_polling": "true",
        "auth_token_file_path": token_file(site, inst.token_service),
        "request_retries": "3",
    }
    if inst.ca_cert:
        client["ca_cert"] = inst.ca_cert
    if inst.vo:
        client["vo"] = inst.vo
    parser["client"] = client
    out = io.StringIO()
    parser.write(out)
    return out.getvalue().rstrip("\n") + "\n"


def renewer_config(site: SiteConfig) -> dict[str, Any]:
    """Config of token_renewer.py: one file per exchanged service, plus the raw token."""
    assert site.auth is not None
    files: list[dict[str, Any]] = [{"path": token_file(site, None), "source": "access_token"}]
    eos_service = site.eos.token_service if site.eos else None
    userinfo = endpoints(site.auth)["userinfo"]
    for service in sorted(site.auth.token_exchange.audiences):
        spec: dict[str, Any] = {"path": token_file(site, service),
                                "source": f"exchanged_tokens/{service}/access_token"}
        if site.eos is not None and service == eos_service:
            spec.update({"format": "eos", "userinfo_endpoint": userinfo})
        files.append(spec)
    if site.eos is not None and eos_service is None:
        files.append({"path": token_file(site, "eos"), "source": "access_token",
                      "format": "eos", "userinfo_endpoint": userinfo})
    return {"interval_seconds": 60, "files": files}


def datalakectl_config(site: SiteConfig) -> dict[str, Any]:
    """Config of the upload command (keys as datalakectl documents them)."""
    up, scratch = site.upload, site.scratch
    assert up is not None and scratch is not None and site.rucio is not None
    config: dict[str, Any] = {
        "mode": up.mode,
        "scratch_path": scratch.mount_path,
        "scratch_rule_lifetime": f"{scratch.rule_lifetime_hours}h",
        "default_scope": up.scope_template,
        "default_rse": up.default_rse,
        "default_lifetime": up.default_lifetime,
        "max_lifetime": up.max_lifetime,
        "token_file": token_file(site, site.rucio.instances[0].token_service),
        "rucio_config": RUCIO_CFG,
    }
    if up.mode == "register":
        config.update({"scratch_rse": scratch.rse, "scratch_pfn_prefix": scratch.pfn_prefix})
    else:
        config["upload_rse"] = up.upload_rse
    lifetime_seconds(up.max_lifetime)
    return config


def contribute(site: SiteInput, out: SiteContext) -> None:
    """The ConfigMap of files for user pods, its mounts, env and the postStart hook."""
    config, hv = site.config, out.hub
    if config.auth is None:
        return
    files: dict[str, tuple[str, str, int]] = {}  # key -> (content, mount path, mode)
    files["token_renewer.py"] = (payload_text("token_renewer.py"),
                                 f"{RENEWER_DIR}/token_renewer.py", 0o555)
    files["token-renewer.json"] = (_json(renewer_config(config)),
                                   f"{RENEWER_DIR}/token-renewer.json", 0o444)
    env: dict[str, str] = {"DLAAS_TOKEN_RENEWER_CONFIG": f"{RENEWER_DIR}/token-renewer.json"}
    if config.rucio is not None:
        files["rucio.json"] = (_json(rucio_server_config(config)), SERVER_CONFIG, 0o444)
        kernel = {"IPKernelApp": {"extensions": ["rucio_jupyterlab.kernels.ipython"]}}
        files["ipython_kernel_config.json"] = (_json(kernel), KERNEL_CONFIG, 0o444)
        files["rucio.cfg"] = (rucio_cfg(config), RUCIO_CFG, 0o444)
        env["RUCIO_CONFIG"] = RUCIO_CFG
        site_name_value = _site_name(config, config.rucio.instances[0].site_name)
        if site_name_value:
            env["SITE_NAME"] = site_name_value
    if config.eos is not None and any(i.oauth2 for i in config.eos.instances):
        env["OAUTH2_TOKEN"] = f"FILE:{token_file(config, config.eos.token_service or 'eos')}"
    if config.upload is not None and config.scratch is not None:
        up = config.upload
        files["datalakectl"] = (payload_text("datalakectl.py"), f"{up.bin_dir}/{up.command}", 0o555)
        files["datalakectl.json"] = (_json(datalakectl_config(config)), DATALAKECTL_CONFIG, 0o444)
        env["DATALAKECTL_CONFIG"] = DATALAKECTL_CONFIG
    # Files for user pods: token renewer, Rucio extension and client config, upload command.
    out.add("apps", SECTION, ConfigMapVars(
        name=CONFIGMAP, namespace=config.namespace, labels=common_labels(site.name, "notebook"),
        data={key: content for key, (content, _, _) in sorted(files.items())},
    ))
    items = [{"key": key, "path": key, "mode": mode} for key, (_, _, mode) in sorted(files.items())]
    mounts = [{"name": VOLUME, "mountPath": path, "subPath": key, "readOnly": True}
              for key, (_, path, _) in sorted(files.items())]
    token_mount = {"name": TOKEN_VOLUME, "mountPath": config.auth.token_dir}
    hv.add({"singleuser": {
        "storage": {
            "extraVolumes": [
                {"name": VOLUME, "configMap": {"name": CONFIGMAP, "items": items}},
                {"name": TOKEN_VOLUME, "emptyDir": {"medium": "Memory", "sizeLimit": "1Mi"}},
            ],
            "extraVolumeMounts": [*mounts, token_mount],
        },
        "extraEnv": env,
    }})
    # Why --detach: postStart must return; the renewer syncs, creates hv.token_dirs once the
    # EOS token is written (jupyterhub.post_start_script), then polls in the background.
    hv.renewer.extend(["python3", f"{RENEWER_DIR}/token_renewer.py",
                       "--config", f"{RENEWER_DIR}/token-renewer.json", "--detach"])


def _json(value: Any) -> str:
    return json.dumps(value, indent=2) + "\n"
