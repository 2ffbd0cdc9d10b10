"""The context's data classes: objects bound to their template, declared host folders."""

from __future__ import annotations

import pytest

from dlaas_gen.context import ObjectSpec, SiteContext, SiteInput, build_context
from dlaas_gen.context.template_vars import ConfigMapVars, FolderIndexVars
from dlaas_gen.loader import load_site
from tests.conftest import FIXTURES, REPO


def test_an_object_takes_template_kind_and_name_from_its_variables() -> None:
    spec = ObjectSpec("apps", ConfigMapVars(name="files", namespace="ns", labels={}, data={}))
    assert (spec.template, spec.kind, spec.name) == ("core/configmap.yaml.j2", "ConfigMap", "files")
    assert spec.path == "apps/configmap-files.yaml"
    index = ObjectSpec("apps", FolderIndexVars(resources=[]), filename="kustomization.yaml")
    assert index.path == "apps/kustomization.yaml" and index.kind == "Kustomization"


def test_template_variables_are_checked_where_the_object_is_built() -> None:
    with pytest.raises(TypeError, match="data"):
        ConfigMapVars(name="files", namespace="ns", labels={})  # type: ignore[call-arg]  # the point


@pytest.mark.parametrize(("declared", "roots"), [
    (["/var/eos", "/var/cache/eos", "/var/eos/lake/scratch"], ("/var/eos", "/var/cache/eos")),
    (["/var/eos/", "/var/eos/x", "/var/eosx"], ("/var/eos/", "/var/eosx")),
    (["/data/b", "/data"], ("/data/b", "/data")),  # only what is below an earlier one is left out
    ([], ()),
])
def test_host_roots_leave_out_folders_below_a_declared_one(declared: list[str],
                                                           roots: tuple[str, ...]) -> None:
    out = SiteContext(site="s")
    out.mount_host_paths(*declared)
    assert out.host_roots == roots


def test_components_declare_the_host_folders_their_objects_mount() -> None:
    site = load_site(REPO / "sites" / "escape.yaml")
    out = build_context(SiteInput(site.name, site.config))
    eos, xcache = site.config.eos, site.config.xcache
    assert eos is not None and xcache is not None
    # EOS: the DaemonSet's folders; scratch lies below the EOS host root; XCache: its disks.
    assert out.host_roots == (eos.host_mount_root, eos.cache_dir, "/dev/fuse",
                              *xcache.disks.data, xcache.disks.meta)
    assert out.fuse_daemonset == (eos.namespace, "eosxd")
    host_paths = {v["hostPath"]["path"] for o in out.objects
                  for v in getattr(o.vars, "volumes", []) if "hostPath" in v}
    assert all(any(p == r or p.startswith(r + "/") for r in out.host_roots) for p in host_paths)


def test_csi_mode_declares_no_host_folder_of_eos() -> None:
    site = load_site(FIXTURES / "sites" / "maximal-variants.yaml")
    out = build_context(SiteInput(site.name, site.config))
    assert site.config.xcache is not None
    assert out.host_roots == (*site.config.xcache.disks.data, site.config.xcache.disks.meta)
    assert out.fuse_daemonset is None


def test_every_object_names_the_site_section_it_is_rendered_from() -> None:
    site = load_site(FIXTURES / "sites" / "maximal.yaml", beside=True)
    out = build_context(SiteInput(site.name, site.config, cric_origins=site.cric_origins))
    sections = {(o.kind, o.name): o.section for o in out.objects}
    # One ConfigMap template, four sections: the component that adds an object names it.
    assert sections[("ConfigMap", "eosxd-config")] == ("eos",)
    assert sections[("ConfigMap", "datalake-profiles")] == ("profiles",)
    assert sections[("ConfigMap", "dlaas-notebook-files")] == ("rucio",)
    assert sections[("ConfigMap", "xcache-config")] == ("xcache",)
    assert sections[("HelmRelease", "datalake")] == ("chart",)
    assert sections[("CronJob", "scratch-cleanup")] == ("scratch",)
    assert sections[("Kustomization", "maximal-apps")] == ("gitops",)
    assert {o.section for o in out.objects if o.kind == "Namespace"} == {("namespace",)}
