"""XCache context: xrootd config, authdb wiring, the refresh job's RBAC, hub wiring, lock file."""

from __future__ import annotations

import configparser
import posixpath
from pathlib import Path

import pytest

from dlaas_gen import yamlio
from dlaas_gen.context import SiteContext, SiteInput, build_context
from dlaas_gen.context.template_vars import FluxKustomizationVars
from dlaas_gen.context.xcache import (
    AUTHDB_CM,
    SSA_ANNOTATION,
    rucio_server_config,
    xrootd_directives,
)
from dlaas_gen.errors import ConfigError
from dlaas_gen.loader import load_site
from dlaas_gen.payloads import authdb_text
from dlaas_gen.render import render_site
from tests.conftest import write_site
from tests.support.xcache_sites import BASE, FIXED, SITE_NAME, site_with_lock


def context(path: Path) -> SiteContext:
    site = load_site(path, beside=True)  # with its origins file
    return build_context(SiteInput(site.name, site.config, cric_origins=site.cric_origins))


def objects(path: Path) -> dict[tuple[str, str], dict]:
    """The site's rendered objects by (kind, name), as plain data."""
    return {(m.kind, m.doc["metadata"]["name"]): yamlio.plain(m.doc)
            for m in render_site(context(path)) if not m.is_kustomize_config}


def pod_spec(obj: dict) -> dict:
    spec = obj["spec"]
    return (spec["jobTemplate"]["spec"] if "jobTemplate" in spec else spec)["template"]["spec"]


def hub_values(path: Path) -> dict:
    return objects(path)[("HelmRelease", "jhub")]["spec"]["values"]


def test_forwarding_config_uses_a_live_authdb_from_the_mounted_configmap(tmp_path: Path) -> None:
    objs = objects(site_with_lock(tmp_path))
    cfg = objs[("ConfigMap", "xcache-config")]["data"]["xcache.cfg"].splitlines()
    assert "pss.origin =https" in cfg and "ofs.osslib libXrdPss.so" in cfg
    assert {"all.export /root:/", "all.export /xroot:/", "all.export /https:/"} <= set(cfg)
    assert "acc.authrefresh 60" in cfg and "ofs.authorize 1" in cfg
    authdb = next(line.split()[1] for line in cfg if line.startswith("acc.authdb "))
    pod = pod_spec(objs[("Deployment", "xcache")])
    mount = next(m for m in pod["containers"][0]["volumeMounts"] if m["name"] == "authdb")
    # The file is inside a whole-ConfigMap mount (no subPath), so the kubelet's updates reach it.
    assert "subPath" not in mount and posixpath.dirname(authdb) == mount["mountPath"]
    volume = next(v for v in pod["volumes"] if v["name"] == "authdb")
    assert volume["configMap"]["name"] == AUTHDB_CM
    assert posixpath.basename(authdb) in objs[("ConfigMap", AUTHDB_CM)]["data"]


def test_authdb_holds_static_and_lock_origins_and_is_created_once(tmp_path: Path) -> None:
    objs = objects(site_with_lock(tmp_path))
    cm = objs[("ConfigMap", AUTHDB_CM)]
    assert cm["metadata"]["annotations"] == {SSA_ANNOTATION: "IfNotPresent"}
    text = cm["data"]["authdb"]
    assert "/root:/eoseulake.cern.ch:1094/ lr" in text and "/xroot:/xrootd.pic.es:1094/ lr" in text
    assert "/https:/eoseulake.cern.ch:443/ lr" in text and "u * datalakepaths" in text
    assert "old.example.org" not in text  # excluded RSE


def test_refresh_job_rbac_is_limited_to_the_authdb(tmp_path: Path) -> None:
    objs = objects(site_with_lock(tmp_path))
    [rule] = objs[("Role", "xcache-origins-refresh")]["rules"]
    assert rule == {"apiGroups": [""], "resources": ["configmaps"], "resourceNames": [AUTHDB_CM],
                    "verbs": ["get", "patch"]}
    binding = objs[("RoleBinding", "xcache-origins-refresh")]
    [subject] = binding["subjects"]
    assert subject["name"] == binding["roleRef"]["name"] == "xcache-origins-refresh"
    job = objs[("CronJob", "xcache-origins-refresh")]
    assert job["spec"]["schedule"] == "23 */6 * * *"
    assert pod_spec(job)["serviceAccountName"] == "xcache-origins-refresh"
    container = pod_spec(job)["containers"][0]
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    script = objs[("ConfigMap", "xcache-origins-refresh")]["data"]
    assert script["xcache_refresh.py"].startswith("#!/usr/bin/env python3")
    assert '"configmap": "xcache-authdb"' in script["config.json"]


def test_cache_pod_is_hardened(tmp_path: Path) -> None:
    pod = pod_spec(objects(site_with_lock(tmp_path))[("Deployment", "xcache")])
    assert pod["automountServiceAccountToken"] is False
    container = pod["containers"][0]
    assert container["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["resources"]["limits"]["memory"] == "8Gi"
    assert container["livenessProbe"]["tcpSocket"] == {"port": "xrootd"}
    assert [v["hostPath"]["path"] for v in pod["volumes"] if "hostPath" in v] == [
        "/xcache-meta", "/scratch", "/scratch_1"]


def test_hub_gets_site_name_and_egress_to_the_cache(tmp_path: Path) -> None:
    values = hub_values(site_with_lock(tmp_path))
    assert values["singleuser"]["extraEnv"]["SITE_NAME"] == SITE_NAME
    [rule] = values["singleuser"]["networkPolicy"]["egress"]
    assert rule["ports"] == [{"port": 1094, "protocol": "TCP"}]
    assert rule["to"][0]["namespaceSelector"]["matchLabels"] == {
        "kubernetes.io/metadata.name": "xcache"}


def test_fixed_origin_has_no_allow_list_and_no_job(tmp_path: Path) -> None:
    path = write_site(tmp_path, "s", FIXED)
    objs = objects(path)
    cfg = objs[("ConfigMap", "xcache-config")]["data"]["xcache.cfg"]
    assert "pss.origin eospilot.cern.ch:1094\n" in cfg and "acc.authdb" not in cfg
    assert "all.export /\n" in cfg
    assert not [k for k in objs if "refresh" in k[1] or k[1] == AUTHDB_CM]


def test_config_change_rolls_the_cache(tmp_path: Path) -> None:
    first = objects(site_with_lock(tmp_path))[("Deployment", "xcache")]
    second = objects(site_with_lock(tmp_path, text=BASE + "  ram: 5g\n"))[("Deployment", "xcache")]
    first, second = (d["spec"]["template"]["metadata"]["annotations"] for d in (first, second))
    assert first != second


def test_missing_lock_file_is_an_error_at_the_lock(tmp_path: Path) -> None:
    path = write_site(tmp_path, "s", BASE)
    with pytest.raises(ConfigError) as info:
        objects(path)
    [problem] = info.value.problems
    assert problem.path == str(tmp_path / "s.origins.yaml")
    assert "run `dlaas-gen cric sync`" in problem.message


def test_stale_lock_file_is_an_error(tmp_path: Path) -> None:
    path = site_with_lock(tmp_path, text=BASE.replace("[root, davs]", "[root]"))
    with pytest.raises(ConfigError) as info:
        objects(path)
    assert "out of date with xcache.origins.cric" in info.value.problems[0].message


def test_empty_lock_file_is_an_error(tmp_path: Path) -> None:
    lock = "schemes: [davs, root]\nexclude_rses: [OLD-DECOMMISSIONED]\norigins: {}\n"
    with pytest.raises(ConfigError, match="lists no origin"):
        objects(site_with_lock(tmp_path, lock=lock))


def test_rucio_server_config_is_read_by_the_server_as_the_proxy_of_the_site(tmp_path) -> None:
    """The printed section, read the way rucio's ``config_get`` reads rucio.cfg (ConfigParser),
    gives the cache address for exactly this deployment's site name."""
    site = load_site(site_with_lock(tmp_path)).config
    text = rucio_server_config(site)
    parser = configparser.ConfigParser()
    parser.read_string(text)
    assert parser.items("root-proxy-internal") == [
        (SITE_NAME.lower(), "xcache.xcache.svc.cluster.local:1094")]
    assert parser.get("root-proxy-internal", SITE_NAME) == "xcache.xcache.svc.cluster.local:1094"
    assert not parser.has_option("root-proxy-internal", "CERN")
    assert "CERN-local ones included, comes through the cache" in text
    assert "set-attribute" not in text  # no RSE is to be given this deployment's name


def test_init_container_creates_every_folder_xrootd_needs_as_its_uid(tmp_path: Path) -> None:
    objs = objects(site_with_lock(tmp_path))
    cfg = objs[("ConfigMap", "xcache-config")]["data"]["xcache.cfg"].splitlines()
    named = [line.split()[1] for line in cfg if line.startswith("oss.localroot ")]
    named += [line.split()[2] for line in cfg if line.startswith("oss.space ")]
    assert named == ["/xcache-meta/namespace", "/xcache-meta/xrdcinfos", "/xcache-data_1",
                     "/xcache-data_2"]
    pod = pod_spec(objs[("Deployment", "xcache")])
    [init] = pod["initContainers"]
    xrootd = pod["containers"][0]
    assert init["command"] == ["mkdir", "-p", *named]
    assert init["securityContext"] == xrootd["securityContext"]
    assert init["image"] == xrootd["image"]
    disks = {m["mountPath"]: m["name"] for m in xrootd["volumeMounts"]}
    assert {m["mountPath"]: m["name"] for m in init["volumeMounts"]} == {
        p: disks[p] for p in ("/xcache-meta", "/xcache-data_1", "/xcache-data_2")}


def test_cache_has_a_kustomization_the_hub_does_not_depend_on(tmp_path: Path) -> None:
    ctx = context(site_with_lock(tmp_path))
    folders = {o.folder for o in ctx.objects if o.template.startswith("xcache/")}
    assert folders == {"cache"}
    flux = {o.name: o.vars for o in ctx.objects if isinstance(o.vars, FluxKustomizationVars)}
    assert flux["s-cache"].path == "./rendered/s/cache"
    assert flux["s-cache"].depends_on == []
    assert flux["s-apps"].depends_on == []  # this site has no EOS: no infrastructure folder


def test_directives_are_deterministic(tmp_path: Path) -> None:
    xc = load_site(site_with_lock(tmp_path)).config.xcache
    assert xrootd_directives(xc) == xrootd_directives(xc)
    assert "pfc.diskusage 0.9 0.95" in xrootd_directives(xc)


def test_authdb_text_continues_lines() -> None:
    text = authdb_text({"root": ["a.org:1094"], "https": ["b.org:443"]}, "t1", "lr")
    assert text.splitlines()[2:] == [
        "t t1 /https:/b.org:443/ lr \\", "  /root:/a.org:1094/ lr \\", "  /xroot:/a.org:1094/ lr",
        "u * t1"]
