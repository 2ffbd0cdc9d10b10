"""Live (a): the real jupyter_server, rucio-jupyterlab and IPython kernel read the rendered files.

The user pod is the one the real KubeSpawner makes from a fresh render of the shipped sites (per
profile). Its volumes are set up as the kubelet sets them up and the programs run as the pod's
uid, with the pod's env, the ConfigMap files at their mount paths, and the docker-stacks image's
HOME, user and PATH (its Python is this venv's: jupyter_server, rucio-jupyterlab, ipykernel).

What is adapted: the pod's command ``jupyterhub-singleuser`` (a ServerApp that also needs the hub)
is replaced by ``jupyter server`` (the same ServerApp config loading, no hub), and the image's
``/etc/jupyter/jupyter_server_config.py`` is a small stand-in file at the same path, so the test
shows the rendered config hides none of the image's own config.
"""

from __future__ import annotations

import json
import os
import secrets
import textwrap
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.live.harness import PodRun, Rendered, docker_stacks_image, profile_slugs, user_pod

SERVER_PORT = 8888  # docker-stacks JUPYTER_PORT, the port KubeSpawner puts in the pod
#: Stand-in for the file docker-stacks' base-notebook image ships at this path.
IMAGE_SERVER_CONFIG = ("/etc/jupyter/jupyter_server_config.py",
                       "c = get_config()  # noqa\nc.ServerApp.open_browser = False\n"
                       "c.FileContentsManager.delete_to_trash = False\n")

PROBE = textwrap.dedent("""
    import json, sys
    from jupyter_server.serverapp import ServerApp
    from rucio_jupyterlab.config.config import RucioConfig
    app = ServerApp()
    app.initialize(argv=["--ServerApp.ip=127.0.0.1", "--ServerApp.port=%d"])
    rucio = RucioConfig(config=app.config)
    print(json.dumps({
        "instances": rucio.instances,
        "default_instance": rucio.default_instance,
        "default_auth_type": rucio.default_auth_type,
        "loaded": list(app.loaded_config_files),
        "extensions": {k: bool(v) for k, v in app.jpserver_extensions.items()},
        "delete_to_trash": app.config.FileContentsManager.get("delete_to_trash"),
    }))
    sys.stdout.flush()
""") % SERVER_PORT

KERNEL_PROBE = textwrap.dedent("""
    import json
    from jupyter_client.manager import start_new_kernel
    km, kc = start_new_kernel(kernel_name="python3", startup_timeout=60)
    try:
        code = ("import json; from ipykernel.kernelapp import IPKernelApp; ip = get_ipython(); "
                "print(json.dumps({'loaded': sorted(ip.extension_manager.loaded), "
                "'files': list(IPKernelApp.instance().loaded_config_files)}))")
        out = []
        reply = kc.execute_interactive(code, timeout=60, output_hook=lambda m: out.append(m))
        texts = [m["content"]["text"] for m in out if m["msg_type"] == "stream"]
        print("".join(texts).strip())
        assert reply["content"]["status"] == "ok", reply["content"]
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
""")


def site_cases() -> list[tuple[str, str | None]]:
    """(site, profile) for every profile of escape and demo, from the shipped site files."""
    import yaml

    repo = Path(__file__).resolve().parents[2]
    out = []
    for site in ("escape", "demo"):
        doc = yaml.safe_load((repo / "sites" / f"{site}.yaml").read_text())
        out += [(site, None), *((site, p["slug"]) for p in doc.get("profiles") or [])]
    return out


def rendered_server_config(rendered: Rendered) -> dict[str, Any] | None:
    """The RucioConfig document the render put into the notebook files ConfigMap."""
    for cm in rendered.find("ConfigMap"):
        for text in (cm.get("data") or {}).values():
            try:
                doc = json.loads(text)
            except (ValueError, TypeError):
                continue
            if isinstance(doc, dict) and "RucioConfig" in doc:
                return doc
    return None


def notebook(pod: dict[str, Any]) -> dict[str, Any]:
    (container,) = [c for c in pod["spec"]["containers"] if c["name"] == "notebook"]
    return container


def write_token_files(run: PodRun, config: dict[str, Any], uid: int, gid: int) -> set[str]:
    """Token files where the renewer writes them (mode 0600, the pod's uid): name -> path."""
    paths = set()
    for inst in config["RucioConfig"]["instances"]:
        path = run.host_path("notebook", inst["oidc_file_name"])
        path.write_text("header.payload.signature\n")
        os.chown(path, uid, gid)
        path.chmod(0o600)
        paths.add(inst["oidc_file_name"])
    return paths


@pytest.fixture(scope="module")
def renders(tmp_path_factory) -> dict[str, Rendered]:
    from tests.live.harness import render_fresh

    return render_fresh(tmp_path_factory.mktemp("jupyter-render"), ["escape", "demo"])


@pytest.mark.parametrize(("site", "slug"), site_cases(),
                         ids=[f"{s}-{p or 'default'}" for s, p in site_cases()])
def test_jupyter_server_loads_the_rendered_rucio_config(renders, tmp_path, site, slug):
    rendered = renders[site]
    assert slug in profile_slugs(rendered)
    pod = user_pod(rendered, slug)
    expected = rendered_server_config(rendered)
    site_rucio = rendered.site_yaml.get("rucio")
    assert (expected is None) == (site_rucio is None)
    image = docker_stacks_image(files=dict([IMAGE_SERVER_CONFIG]))
    with PodRun(pod, rendered, tmp_path / "pod", image=image) as run:
        uid, gid, groups = run.identity("notebook")
        assert uid == notebook(pod)["securityContext"]["runAsUser"] == 1000
        assert run.env("notebook")["HOME"] == "/home/jovyan"
        probe = run.run("notebook", ["python3", "-c", PROBE], timeout=90)
        assert probe.returncode == 0, probe.stdout
        loaded = json.loads(probe.stdout.strip().splitlines()[-1])
        # the image's own config file is still read, beside ours
        assert IMAGE_SERVER_CONFIG[0] in loaded["loaded"]
        assert loaded["delete_to_trash"] is False
        assert loaded["extensions"].get("rucio_jupyterlab.server") is True
        if expected is None:
            assert loaded["instances"] == []
            return
        mount_paths = {m["mountPath"] for m in notebook(pod)["volumeMounts"]}
        config_files = [p for p in loaded["loaded"] if p in mount_paths]
        assert len(config_files) == 1 and config_files[0].endswith("/jupyter_server_config.json")
        assert ".d/" not in config_files[0]
        # RucioConfig as the server loaded it == the rendered file == the site's instances
        assert loaded["instances"] == expected["RucioConfig"]["instances"]
        assert loaded["default_instance"] == site_rucio.get("default_instance")
        assert [(i["name"], i["display_name"], i["rucio_base_url"], i["mode"])
                for i in loaded["instances"]] == [
            (i["name"], i["display_name"], i["base_url"], i.get("mode", "replica"))
            for i in site_rucio["instances"]]
        for inst, wanted in zip(loaded["instances"], site_rucio["instances"], strict=True):
            for key in ("destination_rse", "rse_mount_path", "rucio_auth_url", "rucio_ca_cert"):
                site_key = {"rucio_auth_url": "auth_url", "rucio_ca_cert": "ca_cert"}.get(key, key)
                if site_key in wanted:
                    assert inst[key] == wanted[site_key], key

        if slug is not None:
            return  # the profiles differ in image and resources, not in these files
        # the extension's own REST handler lists them, over HTTP in the pod's network namespace
        token_paths = write_token_files(run, expected, uid, gid)
        api_token = secrets.token_hex(16)
        server = run.start("notebook", ["jupyter", "server", "--ServerApp.ip=127.0.0.1",
                                        f"--ServerApp.port={SERVER_PORT}",
                                        "--ServerApp.port_retries=0"],
                           extra_env={"JUPYTER_TOKEN": api_token})
        run.netns.wait_port(SERVER_PORT, proc=server, timeout=60)

        def get_instances() -> requests.Response:
            return requests.get(f"http://127.0.0.1:{SERVER_PORT}/rucio-jupyterlab/instances",
                                headers={"Authorization": f"token {api_token}"}, timeout=20)

        response = run.netns.call(get_instances)
        assert response.status_code == 200, (response.status_code, response.text, server.output())
        body = response.json()
        listed = [(i["name"], i["display_name"], i["mode"], i["webui_url"])
                  for i in body["instances"]]
        assert listed == [
            (i["name"], i["display_name"], i.get("mode", "replica"), i.get("webui_url"))
            for i in site_rucio["instances"]
        ]
        # oidc_enabled: the extension read the token file at the rendered path, as the pod's uid
        assert all(i["oidc_enabled"] for i in body["instances"]), (body, token_paths)
        assert body["active_instance"] == site_rucio.get("default_instance")
        assert body["auth_type"] == site_rucio.get("default_auth_type", "oidc")
        assert server.poll() is None, server.output()
        server.terminate()


def test_ipython_kernel_loads_the_rucio_kernel_extension(renders, tmp_path):
    rendered = renders["escape"]
    pod = user_pod(rendered)
    kernel_mounts = [
        m["mountPath"]
        for m in notebook(pod)["volumeMounts"]
        if m["mountPath"].endswith("/ipython_kernel_config.json")
    ]
    assert len(kernel_mounts) == 1
    with PodRun(pod, rendered, tmp_path / "pod", image=docker_stacks_image()) as run:
        result = run.run("notebook", ["python3", "-c", KERNEL_PROBE], timeout=120)
    assert result.returncode == 0, result.stdout
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert "rucio_jupyterlab.kernels.ipython" in report["loaded"]
    assert kernel_mounts[0] in report["files"]
