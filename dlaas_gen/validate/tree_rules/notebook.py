"""Rule ``jupyter-config-path``: the Rucio extension's config files land where they are read.

Why: the single-user pod gets the Rucio JupyterLab extension's server config (``RucioConfig``)
and the kernel config (``IPKernelApp.extensions``) as ConfigMap files. Valid JSON at the wrong
path is silently ignored:

- jupyter_server loads traitlets config only from ``jupyter_server_config.{py,json}`` in each
  folder of ``jupyter_core.paths.jupyter_config_path()`` (``JupyterApp.load_config_file`` →
  traitlets ``Application._load_config_files``). The ``jupyter_server_config.d/*.json`` files are
  merged only for ``ServerApp.jpserver_extensions`` (``ServerApp.find_server_extensions`` with an
  ``ExtensionConfigManager``): a ``RucioConfig`` there gives ``RucioConfig.instances == []``.
- ``IPKernelApp`` loads ``ipython_kernel_config.{py,json}`` from the profile folder,
  ``{sys.prefix}/etc/ipython`` and ``IPython.core.application.SYSTEM_CONFIG_DIRS``.
- The docker-stacks images (``sys.prefix`` = ``/opt/conda``) ship
  ``/etc/jupyter/jupyter_server_config.py``; a mount there would hide the image's own settings.

The rule reads the rendered objects only (merged chart values and the ConfigMaps they mount),
so it also covers mounts a site adds through ``extra_values`` and trees checked with
``dlaas-gen validate``. The live test ``tests/live/test_jupyter_server.py`` runs the real
jupyter_server and IPython kernel on the rendered files.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Iterator
from typing import Any

from dlaas_gen.manifest import Manifest
from dlaas_gen.problem import Problem
from dlaas_gen.validate.tree_rules.registry import at, rule
from dlaas_gen.validate.workloads import (
    as_list,
    as_map,
    extra_env,
    get,
    release_namespace,
    z2jh_releases,
)

RULE = "jupyter-config-path"
#: docker-stacks' ``sys.prefix`` (``CONDA_DIR``).
IMAGE_PREFIX = "/opt/conda"
#: ``jupyter_core.paths``: ENV_CONFIG_PATH and SYSTEM_CONFIG_PATH on Linux.
JUPYTER_DIRS = (f"{IMAGE_PREFIX}/etc/jupyter", "/usr/local/etc/jupyter", "/etc/jupyter")
#: ``IPython.core.application``: ENV_CONFIG_DIRS and SYSTEM_CONFIG_DIRS on Linux.
IPYTHON_DIRS = (f"{IMAGE_PREFIX}/etc/ipython", "/usr/local/etc/ipython", "/etc/ipython")
#: Config files docker-stacks' base-notebook Dockerfile puts into the image.
IMAGE_FILES = frozenset({"/etc/jupyter/jupyter_server_config.py",
                         "/etc/jupyter/jupyter_notebook_config.py"})
MOUNTS = ["spec", "values", "singleuser", "storage", "extraVolumeMounts"]


def _kind(text: Any) -> str | None:
    """``server`` for a RucioConfig file, ``kernel`` for an IPKernelApp file, else None."""
    if not isinstance(text, str):
        return None
    try:
        doc = json.loads(text)
    except ValueError:
        if "RucioConfig" in text and "c.RucioConfig" in text:
            return "server"
        return "kernel" if "c.IPKernelApp" in text else None
    if isinstance(doc, dict):
        if "RucioConfig" in doc:
            return "server"
        if "IPKernelApp" in doc:
            return "kernel"
    return None


def jupyter_dirs(env: dict[str, str]) -> list[str]:
    """The image's config path for the pod's env (``JUPYTER_CONFIG_PATH``, platformdirs)."""
    extra = [p.rstrip("/") for p in env.get("JUPYTER_CONFIG_PATH", "").split(":") if p]
    if env.get("JUPYTER_PLATFORM_DIRS", "").lower() in ("1", "true", "on", "yes"):
        xdg = [p for p in env.get("XDG_CONFIG_DIRS", "/etc/xdg").split(":") if p]
        return [*extra, JUPYTER_DIRS[0], *(f"{p.rstrip('/')}/jupyter" for p in xdg)]
    return [*extra, *JUPYTER_DIRS]


def problem_for(kind: str, path: str, env: dict[str, str]) -> str | None:
    """Why a config file of `kind` at container `path` is not read, or None when it is."""
    folder, name = posixpath.split(posixpath.normpath(path))
    if kind == "server":
        if env.get("JUPYTER_NO_CONFIG"):
            return "JUPYTER_NO_CONFIG is set: jupyter_server reads no config file"
        dirs = jupyter_dirs(env)
        if folder.endswith(".d"):
            return (f"the Rucio extension config is mounted at {path}: jupyter_server reads "
                    f"*.d/*.json only for ServerApp.jpserver_extensions, not as config, so "
                    f"RucioConfig.instances stays empty; mount it as "
                    f"{dirs[1] if len(dirs) > 1 else dirs[0]}/jupyter_server_config.json")
        if folder not in dirs or name not in ("jupyter_server_config.json",
                                              "jupyter_server_config.py"):
            return (f"the Rucio extension config is mounted at {path}, which jupyter_server "
                    f"does not load: it reads jupyter_server_config.json from {', '.join(dirs)}")
    else:
        if folder not in IPYTHON_DIRS or name not in ("ipython_kernel_config.json",
                                                      "ipython_kernel_config.py"):
            return (f"the kernel config is mounted at {path}, which IPython does not load: "
                    f"it reads ipython_kernel_config.json from {', '.join(IPYTHON_DIRS)} "
                    "(and the profile folder in the home volume)")
    if path in IMAGE_FILES:
        return (f"{path} is a config file the docker-stacks image ships; mounting over it "
                "hides the image's own settings: use the .json beside it or "
                "/usr/local/etc/jupyter")
    return None


def mounted_files(singleuser: dict[str, Any], configmaps: dict[str, dict[str, Any]]
                  ) -> Iterator[tuple[int, str, Any]]:
    """(index in extraVolumeMounts, container path, ConfigMap value) of each mounted key.

    The value is None when the ConfigMap has no such key, and not text in a tree written by hand.
    """
    storage = get(singleuser, "storage")
    storage = storage if isinstance(storage, dict) else {}
    volumes = {get(v, "name"): get(v, "configMap") for v in as_list(storage.get("extraVolumes"))
               if isinstance(get(v, "configMap"), dict)}
    for index, mount in enumerate(as_list(storage.get("extraVolumeMounts"))):
        source = volumes.get(get(mount, "name"))
        mount_path = get(mount, "mountPath")
        if source is None or not isinstance(mount_path, str):
            continue
        data = configmaps.get(str(source.get("name")), {})
        items = as_list(source.get("items"))
        by_path = ({str(get(i, "path")): str(get(i, "key")) for i in items} if items
                   else {str(k): str(k) for k in data})
        sub = get(mount, "subPath")
        if sub:
            key = by_path.get(str(sub))
            if key is not None:
                yield index, mount_path, data.get(key)
            continue
        for rel, key in by_path.items():
            yield index, posixpath.join(mount_path, rel), data.get(key)


def _locate(m: Manifest, mount_path: str) -> list[Any]:
    """Where the offending mount is written in the HelmRelease (inline values), else its values."""
    inline = as_list(get(m.doc, *MOUNTS))
    for i, mount in enumerate(inline):
        if get(mount, "mountPath") == mount_path:
            return [*MOUNTS, i, "mountPath"]
    return ["spec", "values"] if get(m.doc, "spec", "values") is not None else ["spec"]


@rule(RULE)
def check_jupyter_config_path(tree: list[Manifest]) -> Iterator[Problem]:
    """The Rucio server config and kernel config are mounted where Jupyter reads config."""
    for m, values in z2jh_releases(tree):
        singleuser = as_map(values.get("singleuser"))
        namespace = release_namespace(m)
        configmaps = {
            str(get(c.doc, "metadata", "name")): get(c.doc, "data") or {}
            for c in tree if c.kind == "ConfigMap"
            and (get(c.doc, "metadata", "namespace") or namespace) == namespace
        }
        env = extra_env(singleuser)
        for index, path, text in mounted_files(singleuser, configmaps):
            kind = _kind(text)
            message = problem_for(kind, path, env) if kind else None
            if message:
                mount_path = get(singleuser, "storage", "extraVolumeMounts", index, "mountPath")
                yield at(m, _locate(m, mount_path), RULE, message)
